"""Small pieces shared by the panels: one-line messages, busy controls, and loop-bound periodic tasks.

Widgets never run threads: anything that repeats is an asyncio task on the loop that is running when
it starts (the kernel's, in Jupyter), so trait changes reach the front end as ordinary comm messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.tokens import redact

__all__ = ["Periodic", "busy", "error_line", "guarded", "message_html", "running_loop"]

_COLOURS = {"info": "inherit", "ok": "#1a7f37", "warning": "#9a6700", "error": "#cf222e"}


def error_line(error: BaseException) -> str:
    """One line for the user: ``str()`` of our errors; anything else names its type (a bug, not a traceback)."""
    if isinstance(error, BentoCloudError):
        text = str(error)
    else:
        text = f"Unexpected {type(error).__name__}: {redact(str(error))}"
    return " ".join(text.split()) or type(error).__name__


def message_html(text: str, level: str = "info") -> str:
    """An escaped one-liner coloured by ``level`` (info, ok, warning, error); empty text gives ""."""
    if not text:
        return ""
    return f'<div style="color:{_COLOURS.get(level, "inherit")}">{esc(text)}</div>'


@contextlib.contextmanager
def busy(controls: Iterable[Any]) -> Iterator[None]:
    """Disable ``controls`` for the duration of a call and restore each one's previous state afterwards."""
    saved = [(control, control.disabled) for control in controls]
    for control, _ in saved:
        control.disabled = True
    try:
        yield
    finally:
        for control, was_disabled in saved:
            control.disabled = was_disabled


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The running event loop (a Jupyter kernel always has one while it runs code), or None."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Periodic:
    """Call ``callback`` every ``interval`` seconds as a task on the running loop, until :meth:`stop`.

    The callback's errors are its own business (it should show them); one that escapes is swallowed so
    a display bug never ends the task.
    """

    def __init__(self, callback: Callable[[], Awaitable[Any] | Any], interval: float, name: str) -> None:
        self.callback = callback
        self.interval = interval
        self.name = name
        self.task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and not self.task.done()

    def start(self) -> bool:
        """Start on the running loop; False (and nothing started) when there is no running loop."""
        if self.running:
            return True
        loop = running_loop()
        if loop is None:
            return False
        self.task = loop.create_task(self._run(), name=self.name)
        return True

    def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            self.task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            with contextlib.suppress(Exception):
                result = self.callback()
                if inspect.isawaitable(result):
                    await result


class _Reporting(Protocol):
    message: Any


S = TypeVar("S", bound=_Reporting)
P = ParamSpec("P")


def guarded(handler: Callable[Concatenate[S, P], None]) -> Callable[Concatenate[S, P], None]:
    """Route a callback's error into the panel's ``message`` line instead of a traceback in the log."""

    @functools.wraps(handler)
    def wrapper(self: S, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            handler(self, *args, **kwargs)
        except Exception as error:
            self.message.value = message_html(error_line(error), "error")

    return wrapper
