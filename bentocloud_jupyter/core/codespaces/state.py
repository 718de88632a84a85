"""What a codespace looks like from the notebook, at this moment: the one record that the sync engine
updates and the front ends (panel, text fallback) render. Shared contract between core and front end."""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["LOG_LINES", "CodespaceState", "Listener", "Phase"]

LOG_LINES = 200  # the api-server log kept for the panel (older lines drop off)


class Phase(str, enum.Enum):
    """Where the codespace is in its loop."""

    CREATING = "creating"  # bare bento built/pushed, dev deployment being created, waiting for the api-server pod
    SYNCING = "syncing"  # files being uploaded or deleted
    RELOADING = "reloading"  # files synced, the service reloads (readyz not yet 200)
    READY = "ready"  # readyz answers 200 after the last sync
    FAILED = "failed"  # the last sync or the deployment failed (``error`` says why; sync retries)
    DETACHED = "detached"  # we stopped syncing; the codespace keeps running
    TERMINATED = "terminated"  # terminated from here


@dataclass
class CodespaceState:
    """A snapshot the engine mutates in place (on the kernel's loop) and announces to its listeners."""

    name: str
    context: str
    project: Path
    cluster: str | None = None
    phase: Phase = Phase.CREATING
    files_synced: int = 0  # files uploaded or deleted since attaching
    last_sync_seconds: float | None = None  # from a change noticed to "ready after reload"
    pod_status: str = ""  # the api-server pod, e.g. "Running"
    endpoint: str | None = None  # the deployment's URL once known (http(s) only)
    error: str | None = None  # one line: "service.py line 12: invalid syntax (the codespace keeps the last good files)"
    error_file: str | None = None
    error_line: int | None = None
    note: str = ""  # e.g. "sync failed (server error 503); retrying in 2 s"
    api_names: tuple[str, ...] = ()  # the service's APIs, as the schema lists them after the last reload
    logs: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_LINES))
    listeners: list[Listener] = field(default_factory=list, repr=False)

    def changed(self) -> None:
        """Tell the listeners (a listener that raises is dropped, never breaks the engine)."""
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:  # a broken display must not stop the sync
                self.listeners.remove(listener)


Listener = Callable[[CodespaceState], None]
