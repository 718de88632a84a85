"""Transfer progress that is safe to feed from worker threads and is drawn only from the main thread.

Uploads run in worker threads (models in parallel, multipart parts), but output from threads is
unreliable in Jupyter (ipykernel 7 may drop or misroute it). So workers only update counters, and the
main thread calls :meth:`ProgressBoard.refresh` to draw: a text line per item (bytes, rate, ETA) here, a
widget in :mod:`bentocloud_jupyter.widgets`.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Protocol, TextIO

__all__ = ["ItemProgress", "NoProgress", "Progress", "ProgressBoard", "TextProgress", "format_bytes"]


class Progress(Protocol):
    """Where transfers report bytes (a text line, a widget, or nothing); must be thread-safe."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, label: str, nbytes: int) -> None: ...

    def finish(self, label: str, message: str) -> None: ...

    def refresh(self, force: bool = False) -> None: ...


class NoProgress:
    """Reports nowhere (the default when the caller shows nothing)."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, label: str, nbytes: int) -> None:
        pass

    def finish(self, label: str, message: str) -> None:
        pass

    def refresh(self, force: bool = False) -> None:
        pass


def format_bytes(nbytes: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(nbytes) < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024
    return f"{nbytes:.1f} TiB"  # pragma: no cover


@dataclass
class ItemProgress:
    """One item's counters."""

    label: str
    total: int = 0
    done: int = 0
    started: float = field(default_factory=time.monotonic)
    message: str = ""

    @property
    def finished(self) -> bool:
        return bool(self.message)

    @property
    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        if self.finished:
            return f"{self.label}: {self.message}"
        parts = [f"{self.label}: {format_bytes(self.done)}"]
        if self.total:
            parts[0] += f" / {format_bytes(self.total)} ({100 * self.done / self.total:.0f}%)"
        rate = self.rate
        parts.append(f"{format_bytes(rate)}/s")
        if self.total and rate > 0:
            parts.append(f"ETA {max(0.0, (self.total - self.done) / rate):.0f}s")
        return "  ".join(parts)


class ProgressBoard:
    """Thread-safe counters for every item of a transfer; subclasses draw them in :meth:`draw`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: dict[str, ItemProgress] = {}

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self.items[label] = ItemProgress(label, total)
        self.refresh()

    def advance(self, label: str, nbytes: int) -> None:
        with self._lock:
            item = self.items.setdefault(label, ItemProgress(label))
            item.done = max(0, item.done + nbytes)
        self.refresh()

    def finish(self, label: str, message: str) -> None:
        with self._lock:
            self.items.setdefault(label, ItemProgress(label)).message = message
        self.refresh()

    def snapshot(self) -> list[ItemProgress]:
        with self._lock:
            return [ItemProgress(i.label, i.total, i.done, i.started, i.message) for i in self.items.values()]

    def refresh(self, force: bool = False) -> None:
        """Draw, but only from the main thread (and throttled unless ``force``)."""
        if threading.current_thread() is threading.main_thread():
            self.draw(self.snapshot(), force)

    def draw(self, items: list[ItemProgress], force: bool) -> None:
        """Override to show ``items``."""


class TextProgress(ProgressBoard):
    """One line per item on a text stream; finished items print once, the active one is redrawn in place."""

    def __init__(self, stream: TextIO | None = None, interval: float = 0.25) -> None:
        super().__init__()
        self.stream = stream or sys.stdout
        self.interval = interval
        self._last = 0.0
        self._printed: set[str] = set()
        self._live = False

    def draw(self, items: list[ItemProgress], force: bool) -> None:
        now = time.monotonic()
        newly_done = [i for i in items if i.finished and i.label not in self._printed]
        if not newly_done and not force and now - self._last < self.interval:
            return
        self._last = now
        if self._live:
            self.stream.write("\r\033[K")
        for item in newly_done:
            self.stream.write(item.line() + "\n")
            self._printed.add(item.label)
        active = [i.line() for i in items if not i.finished]
        self._live = bool(active)
        if active:
            self.stream.write(" | ".join(active))
        self.stream.flush()
