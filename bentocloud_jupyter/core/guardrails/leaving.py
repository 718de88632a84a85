"""The one message a kernel gives as it leaves: what it left running, and the command that stops it all.

Why from the ledger and not the server: at shutdown there is no time for a request (and the network may
be gone); the ledger knows what this kernel started and did not stop.
"""

from __future__ import annotations

import time

from bentocloud_jupyter.core.guardrails import ledger

__all__ = ["leaving_message"]


def leaving_message() -> str:
    """The message, or "" when this kernel left nothing running (then nothing is said)."""
    running = ledger.left_running()
    if not running:
        return ""
    contexts = list(dict.fromkeys(entry.context for entry in running))
    lines = [f"This kernel leaves {len(running)} running in BentoCloud (still billing):"]
    for entry in running:
        expiry = (f", TTL until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(entry.expires_at))} "
                  "(no timer once the kernel is gone)" if entry.expires_at is not None else "")
        lines.append(f"  {entry.kind} {entry.name!r} (context {entry.context!r}, cluster {entry.cluster}, "
                     f"{entry.action}{expiry})")
    stops = [f"%bentocloud teardown --context {context}" for context in contexts]
    lines.append(f"Stop it all with: {stops[0]}" if len(stops) == 1 else "Stop it all with: " + "; ".join(stops))
    return "\n".join(lines)
