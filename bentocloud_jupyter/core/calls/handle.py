"""The handle ``map`` and ``bench`` return: a batch running on the kernel's loop, or one already finished.

Why a handle: on the kernel's loop a batch must not block the cell (the user keeps working, sees progress and
may press Stop); ``await handle`` or, once done, ``handle.result()`` gives the value. It displays itself: the
live line (or the result) as text and escaped HTML.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

from bentocloud_jupyter.core.calls.batch import Batch
from bentocloud_jupyter.core.calls.outcomes import MapResult, Progress
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import BentoCloudError, NotReadyError

__all__ = ["BatchHandle", "start"]

T = TypeVar("T")


class BatchHandle(Generic[T]):
    """A batch and its outcome ``T`` (a :class:`MapResult`, or what ``finish`` makes of it, e.g. a bench report)."""

    def __init__(self, batch: Batch, finish: Callable[[MapResult], T]) -> None:
        self.batch = batch
        self._finish = finish
        self._task: asyncio.Task[T] | None = None
        self._value: T | None = None
        self.on_done: list[Callable[[T], None]] = []  # panels: called with the outcome, on the loop's thread

    @property
    def progress(self) -> Progress:
        return self.batch.progress

    async def _run(self) -> T:
        try:
            outcome = await self.batch.run()
        except BentoCloudError as exc:  # e.g. it never woke up: the panel says so, result() raises it
            self.progress.emit("failed", exc.message)
            raise
        value = self._finish(outcome)
        self._value = value
        for listener in list(self.on_done):
            listener(value)
        return value

    def run_blocking(self) -> BatchHandle[T]:
        """Run to the end in this thread (there is no running loop)."""
        asyncio.run(self._run())
        return self

    def run_on(self, loop: asyncio.AbstractEventLoop) -> BatchHandle[T]:
        """Start on ``loop`` (the kernel's) and return at once."""
        self._task = loop.create_task(self._run())
        self._task.add_done_callback(_retrieved)
        return self

    def done(self) -> bool:
        return self._value is not None or (self._task is not None and self._task.done())

    def stop(self) -> None:
        """Cancel the calls in flight and send no more (what the panel's Stop button does)."""
        self.batch.stop()

    def result(self) -> T:
        """The outcome once finished; raises the batch's own error if it failed (e.g. a deployment that never woke).

        Raises:
            NotReadyError: still running (``await handle`` instead of blocking the loop it runs on).
        """
        if self._value is not None:
            return self._value
        if self._task is not None and self._task.done():
            return self._task.result()
        raise NotReadyError(f"{self.progress.line()}; still running: `await` the handle, or call result() when "
                            "it is done.")

    def __await__(self) -> Generator[Any, None, T]:
        if self._task is None:
            return self.result_async().__await__()
        return self._task.__await__()

    async def result_async(self) -> T:
        return self.result()

    def __repr__(self) -> str:
        return repr(self._value) if self._value is not None else self.progress.line()

    def _repr_html_(self) -> str:
        if self._value is not None:
            html = getattr(self._value, "_repr_html_", None)
            return str(html()) if callable(html) else f"<pre>{esc(repr(self._value))}</pre>"
        return f'<div class="bcj-batch">{esc(self.progress.line())}</div>'


def _retrieved(task: asyncio.Task[Any]) -> None:
    """Mark a failure as seen (it is on the panel and in result()), so asyncio does not log it at exit."""
    if not task.cancelled():
        task.exception()


def start(batch: Batch, finish: Callable[[MapResult], T]) -> BatchHandle[T]:
    """On a running loop: start there and return at once; else run to the end first."""
    handle = BatchHandle(batch, finish)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return handle.run_blocking()
    return handle.run_on(loop)
