"""A live panel for ``map`` and ``bench``: a bar, a line of counts, a Stop button, then the result in place.

The batch runs on the kernel's loop and reports on that thread, so the panel redraws directly (at most every
``interval`` seconds while running, always on a change of state) and never from a background thread.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.calls.handle import BatchHandle
from bentocloud_jupyter.core.calls.outcomes import Progress
from bentocloud_jupyter.core.display import esc

__all__ = ["BatchPanel"]


class BatchPanel(widgets.VBox):  # type: ignore[misc]
    """Follows one :class:`BatchHandle`; Stop cancels the calls left; the outcome replaces the counts when done."""

    def __init__(self, handle: BatchHandle[Any], interval: float = 0.1, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handle = handle
        self.interval = interval
        self._last = 0.0
        self._state = ""
        self.bar = widgets.IntProgress(value=0, min=0, max=max(handle.progress.total, 1),
                                       layout=widgets.Layout(width="40%"))
        self.line = widgets.HTML()
        self.stop_button = widgets.Button(description="Stop", button_style="warning", icon="stop")
        self.stop_button.on_click(lambda _: self.stop())
        self.result = widgets.HTML()
        self.children = (widgets.HBox([self.bar, self.stop_button, self.line]), self.result)
        handle.progress.listeners.append(self.on_progress)
        handle.on_done.append(self.on_done)
        self.draw(handle.progress)
        if handle.done():
            self.on_done(handle.result())

    def stop(self) -> None:
        self.stop_button.disabled = True
        self.stop_button.description = "Stopping"
        self.handle.stop()

    def on_progress(self, progress: Progress) -> None:
        now = time.monotonic()
        if progress.state != self._state or now - self._last >= self.interval or progress.done == progress.total:
            self._last, self._state = now, progress.state
            self.draw(progress)

    def draw(self, progress: Progress) -> None:
        self.bar.value = min(progress.done, self.bar.max)
        self.bar.bar_style = "danger" if progress.failed else ("success" if progress.state == "done" else "")
        self.line.value = f"<small>{esc(progress.line())}</small>"

    def on_done(self, value: Any) -> None:
        self.draw(self.handle.progress)
        self.stop_button.disabled = True
        self.stop_button.layout.display = "none"
        html = getattr(value, "_repr_html_", None)
        self.result.value = str(html()) if callable(html) else f"<pre>{esc(repr(value))}</pre>"

    def __repr__(self) -> str:
        return f"BatchPanel({self.handle.progress.line()})"
