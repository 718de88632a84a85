"""Live sync: ``watchfiles.awatch`` over the project (its Rust watcher runs off the loop), debounced, each
batch of changes one engine pass on the kernel's loop; it ends when its stop event is set."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

__all__ = ["DEBOUNCE_MS", "STEP_MS", "watch_project"]

DEBOUNCE_MS = 200
"""How long changes gather before one sync (an editor's save is several events)."""
STEP_MS = 50


async def watch_project(root: Path, sync: Callable[[float], Awaitable[None]], stop: asyncio.Event,
                        *, debounce_ms: int = DEBOUNCE_MS) -> None:
    """Call ``sync(noticed)`` after each debounced batch of changes under ``root`` until ``stop`` is set."""
    from watchfiles import awatch
    from watchfiles.filters import DefaultFilter

    async for _changes in awatch(root, watch_filter=DefaultFilter(), stop_event=stop, debounce=debounce_ms,
                                 step=STEP_MS, recursive=True):
        if stop.is_set():
            return
        await sync(time.monotonic())
