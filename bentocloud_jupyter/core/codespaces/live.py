"""Live sync: ``watchfiles.awatch`` over the project (its Rust watcher runs off the loop), debounced; each
batch of changes marks the project dirty, and one syncer on the loop runs a pass per mark. A change that
arrives while a pass waits for the reload ends that wait (the next pass starts at once), so a service that
never comes ready does not hold back the next edit."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = ["DEBOUNCE_MS", "STEP_MS", "Changes", "run_live", "watch_project"]

DEBOUNCE_MS = 200
"""How long changes gather before one sync (an editor's save is several events)."""
STEP_MS = 50


class Changes:
    """Changes not synced yet: set when noticed, taken by the syncer (the earliest notice is kept)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.noticed: float | None = None

    def mark(self, noticed: float | None = None) -> None:
        self.noticed = self.noticed or (time.monotonic() if noticed is None else noticed)
        self.event.set()

    def take(self) -> float:
        noticed = self.noticed or time.monotonic()
        self.noticed = None
        self.event.clear()
        return noticed

    @property
    def pending(self) -> bool:
        return self.event.is_set()


async def watch_project(root: Path, changes: Changes, stop: asyncio.Event, *, debounce_ms: int = DEBOUNCE_MS) -> None:
    """Mark ``changes`` after each debounced batch of file events under ``root`` until ``stop`` is set."""
    from watchfiles import awatch
    from watchfiles.filters import DefaultFilter

    async for _batch in awatch(root, watch_filter=DefaultFilter(), stop_event=stop, debounce=debounce_ms,
                               step=STEP_MS, recursive=True):
        changes.mark()


async def run_live(root: Path, changes: Changes, stop: asyncio.Event,
                   sync: Callable[[float], Awaitable[None]], *, first: bool = False) -> None:
    """The watcher and the syncer together, until ``stop`` is set; ``first`` runs a pass at once. The watcher
    starts before that pass, so a save made while it runs (or reads the log) is not missed."""
    watcher = asyncio.ensure_future(watch_project(root, changes, stop))
    try:
        if first:
            await sync(time.monotonic())
        while not stop.is_set():
            stopped = asyncio.ensure_future(stop.wait())
            marked = asyncio.ensure_future(changes.event.wait())
            await asyncio.wait({stopped, marked}, return_when=asyncio.FIRST_COMPLETED)
            for waiter in (stopped, marked):
                waiter.cancel()
            if changes.pending and not stop.is_set():
                await sync(changes.take())
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(watcher, 2.0)
