"""The ledger of this kernel: every deployment and codespace it created, started or updated.

It lives in the process (one kernel, one ledger). What we create also carries labels (created-by, this
session's id, an expiry for a TTL) so that a later kernel finds what an earlier one left running.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, replace

__all__ = ["CREATED_BY", "CREATED_BY_KEY", "EXPIRES_KEY", "SESSION_ID", "SESSION_KEY", "Entry", "entries", "forget",
           "forget_name", "labels_for", "left_running", "mark", "record"]

CREATED_BY_KEY = "bentocloud-jupyter/created-by"
CREATED_BY = "bentocloud-jupyter"
SESSION_KEY = "bentocloud-jupyter/session"
EXPIRES_KEY = "bentocloud-jupyter/expires-at"
SESSION_ID = secrets.token_hex(6)

_lock = threading.Lock()
_entries: dict[tuple[str, str, str], Entry] = {}


@dataclass(frozen=True)
class Entry:
    """One thing this kernel started: where, what kind, what it last did to it, and when it expires."""

    context: str
    name: str
    cluster: str
    kind: str = "deployment"  # or "codespace"
    action: str = "created"  # created, started, updated, terminated, gone (not in the server's listing)
    recorded_at: float = 0.0
    expires_at: float | None = None  # wall-clock seconds (time.time()), None without a TTL
    started_here: bool = True  # created or started by this kernel, or given a TTL here: teardown stops it


def record(context: str, name: str, cluster: str, *, kind: str = "deployment", action: str = "created",
           expires_at: float | None = None) -> Entry:
    """Note what this kernel did (a later record of the same deployment keeps its kind and expiry unless
    given anew, or unless it is started again after its expiry passed)."""
    key = (context, cluster, name)
    with _lock:
        old = _entries.get(key)
        ours = action in ("created", "started") or expires_at is not None or (old is not None and old.started_here)
        entry = Entry(context, name, cluster, kind, action, time.time(), expires_at, ours)
        if old is not None:
            kept = old.expires_at
            if action == "started" and kept is not None and kept <= entry.recorded_at:
                kept = None  # a start without a TTL drops the expiry that passed (its label goes too)
            entry = replace(entry, kind=old.kind if kind == "deployment" else kind,
                            expires_at=expires_at if expires_at is not None else kept)
        _entries[key] = entry
    return entry


def entries(context: str | None = None) -> list[Entry]:
    """What this kernel started (in one context, or all), oldest first."""
    with _lock:
        found = list(_entries.values())
    return sorted((e for e in found if context is None or e.context == context), key=lambda e: e.recorded_at)


def forget(context: str, name: str, cluster: str) -> None:
    """Drop an entry (after a delete)."""
    with _lock:
        _entries.pop((context, cluster, name), None)


def mark(context: str, name: str, cluster: str | None, action: str) -> None:
    """Note an action on something already in the ledger (a terminate); what is not ours stays out."""
    with _lock:
        for key, entry in list(_entries.items()):
            if key[0] == context and key[2] == name and cluster in (None, key[1]):
                _entries[key] = replace(entry, action=action, recorded_at=time.time())


def forget_name(context: str, name: str, cluster: str | None) -> None:
    """Drop the entries of ``name`` (in ``cluster``, or in any cluster when None): after a delete."""
    with _lock:
        for key in [k for k in _entries if k[0] == context and k[2] == name and cluster in (None, k[1])]:
            del _entries[key]


def left_running() -> list[Entry]:
    """What this kernel started and, as far as it knows, did not stop (for the message when it leaves): not
    what it terminated, nor what a listing showed gone (deleted elsewhere; kept, so teardown checks again),
    nor what it only updated (it ran before this kernel: a production deployment scaled from a notebook)."""
    return [entry for entry in entries() if entry.action not in ("terminated", "gone") and entry.started_here]


def labels_for(expires_at: float | None = None) -> list[dict[str, str]]:
    """The labels that mark a deployment as ours: created-by, this session, and the expiry of a TTL."""
    labels = [{"key": CREATED_BY_KEY, "value": CREATED_BY}, {"key": SESSION_KEY, "value": SESSION_ID}]
    if expires_at is not None:
        labels.append({"key": EXPIRES_KEY, "value": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(expires_at))})
    return labels
