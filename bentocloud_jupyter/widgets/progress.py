"""A progress panel for pushes and pulls: one bar per bento or model, with bytes, rate and ETA.

Worker threads only update counters (see :mod:`bentocloud_jupyter.core.artifacts.progress`); the bars are redrawn
from the main thread, so no widget message ever leaves a background thread.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.artifacts.progress import ItemProgress, ProgressBoard
from bentocloud_jupyter.core.display import esc

__all__ = ["TransferProgress"]


class TransferProgress(widgets.VBox):  # type: ignore[misc]
    """Bars for every item of a transfer; also a :class:`ProgressBoard` for the transfer code."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.board = _Board(self)
        self._rows: dict[str, tuple[widgets.IntProgress, widgets.HTML]] = {}
        self._lines: list[widgets.HBox] = []

    # the Progress protocol, delegated to the thread-safe board
    def start(self, label: str, total: int) -> None:
        self.board.start(label, total)

    def advance(self, label: str, nbytes: int) -> None:
        self.board.advance(label, nbytes)

    def finish(self, label: str, message: str) -> None:
        self.board.finish(label, message)

    def refresh(self, force: bool = False) -> None:
        self.board.refresh(force)

    def draw(self, items: list[ItemProgress]) -> None:
        for item in items:
            bar, text = self._row(item.label)
            bar.max = max(item.total, 1)
            bar.value = min(item.done, bar.max) if not item.finished or item.message.startswith("failed") \
                else bar.max
            bar.bar_style = "danger" if item.message.startswith("failed") else ("success" if item.finished else "")
            text.value = f"<small>{esc(item.line())}</small>"

    def _row(self, label: str) -> tuple[widgets.IntProgress, widgets.HTML]:
        if label not in self._rows:
            bar = widgets.IntProgress(value=0, min=0, max=1, layout=widgets.Layout(width="40%"))
            text = widgets.HTML()
            self._rows[label] = (bar, text)
            self._lines.append(widgets.HBox([bar, text]))
            self.children = tuple(self._lines)
        return self._rows[label]

    def __repr__(self) -> str:
        return f"TransferProgress({len(self._rows)} items)"


class _Board(ProgressBoard):
    def __init__(self, panel: TransferProgress, interval: float = 0.2) -> None:
        super().__init__()
        self.panel = panel
        self.interval = interval
        self._last = 0.0

    def draw(self, items: list[ItemProgress], force: bool) -> None:
        import time

        now = time.monotonic()
        if force or now - self._last >= self.interval or any(i.finished for i in items):
            self._last = now
            self.panel.draw(items)
