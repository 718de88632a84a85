"""The one message a kernel gives as it leaves: what it left running, and the command that stops it all.

Why from the ledger and not the server: at shutdown there is no time for a request (and the network may
be gone); the ledger knows what this kernel started and did not stop.
"""

from __future__ import annotations

import shlex
import time

from bentocloud_jupyter.core.guardrails import ledger

__all__ = ["leaving_message", "teardown_command"]


def teardown_command(context: str) -> str:
    """The magic that tears down one context (its name quoted when a command line would split it)."""
    return f"%bentocloud teardown --context {shlex.quote(context)}"


def leaving_message(unloading: bool = False) -> str:
    """The message, or "" when this kernel left nothing running (then nothing is said).

    ``unloading``: the extension is unloaded and the kernel lives on; its TTL timers stop with it (until
    ``%load_ext`` arms them again), which the message says instead of "no timer once the kernel is gone".
    """
    running = ledger.left_running()
    if not running:
        return ""
    contexts = list(dict.fromkeys(entry.context for entry in running))
    timer = ("its timer stops with the extension; %load_ext bentocloud_jupyter starts it again" if unloading
             else "no timer once the kernel is gone")
    lines = [f"This kernel leaves {len(running)} running in BentoCloud (still billing):"]
    for entry in running:
        expiry = (f", TTL until {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(entry.expires_at))} ({timer})"
                  if entry.expires_at is not None else "")
        lines.append(f"  {entry.kind} {entry.name!r} (context {entry.context!r}, cluster {entry.cluster}, "
                     f"{entry.action}{expiry})")
    stops = [teardown_command(context) for context in contexts]
    lines.append(f"Stop it all with: {stops[0]}" if len(stops) == 1 else "Stop it all with: " + "; ".join(stops))
    return "\n".join(lines)
