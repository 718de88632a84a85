"""What a batch of calls gave back: one :class:`Item` per input, in input order, and the live :class:`Progress`.

Why separate from the engine: the result is plain data that displays itself (text and escaped HTML), so the
bench report, the progress panel and tests read it without any I/O.
"""

from __future__ import annotations

import json as jsonlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.display import esc

__all__ = ["Item", "MapResult", "Progress"]

STOPPED = "stopped before it was sent"


@dataclass(frozen=True)
class Item:
    """One input's outcome: the body answered, or the one-line error; ``started`` is seconds after the batch began."""

    index: int
    status: int | None
    output: Any = None
    error: str | None = None
    latency_ms: float = 0.0
    started: float = 0.0
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def reason(self) -> str:
        """How it failed, grouped for summaries: the HTTP status, else the error's first words."""
        if self.ok:
            return "ok"
        return str(self.status) if self.status else (self.error or "").split(" (")[0][:60]


@dataclass
class Progress:
    """Live state of a batch, for panels: ``state`` is starting, waking, running, done or stopped."""

    name: str
    api: str
    total: int
    done: int = 0
    failed: int = 0
    state: str = "starting"
    message: str = ""
    listeners: list[Callable[[Progress], None]] = field(default_factory=list, repr=False)

    def emit(self, state: str | None = None, message: str | None = None) -> None:
        """Update and tell every listener; a listener's failure never stops the batch."""
        if state is not None:
            self.state = state
        if message is not None:
            self.message = message
        for listener in list(self.listeners):
            try:
                listener(self)
            except Exception:  # noqa: S112 - a display must not break the run
                continue

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        extra = f": {self.message}" if self.message else ""
        return f"{self.name}/{self.api}: {self.done}/{self.total} done{failed} ({self.state}{extra})"


@dataclass(frozen=True)
class MapResult:
    """Every input's outcome in input order; failed items carry their error instead of raising it."""

    name: str
    api: str
    items: tuple[Item, ...]
    elapsed: float = 0.0
    stopped: bool = False

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items)

    def __getitem__(self, index: int) -> Item:
        return self.items[index]

    @property
    def outputs(self) -> list[Any]:
        """The answered bodies in input order, None where the call failed."""
        return [i.output if i.ok else None for i in self.items]

    @property
    def failed(self) -> list[Item]:
        return [i for i in self.items if not i.ok]

    def errors_by_reason(self) -> dict[str, int]:
        return dict(Counter(i.reason for i in self.failed).most_common())

    def summary(self) -> str:
        """One line: how many, how many failed and why, how long."""
        bad = self.failed
        why = ", ".join(f"{n}x {r}" for r, n in self.errors_by_reason().items())
        failed = f", {len(bad)} failed ({why})" if bad else ", none failed"
        stopped = " (stopped)" if self.stopped else ""
        return f"{self.name}/{self.api}: {len(self.items)} calls{failed} in {self.elapsed:.1f} s{stopped}"

    def __repr__(self) -> str:
        lines = [self.summary()]
        lines += [f"  #{i.index}: {i.error}" for i in self.failed[:5]]
        if len(self.failed) > 5:
            lines.append(f"  ... and {len(self.failed) - 5} more")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{i.index}</td><td>{i.status or ''}</td><td>{i.latency_ms:.0f} ms</td>"
            f"<td><code>{esc(_short(i.output) if i.ok else i.error or '')}</code></td></tr>" for i in self.items[:20])
        more = f"<div>... {len(self.items) - 20} more</div>" if len(self.items) > 20 else ""
        return (f'<div class="bcj-map"><b>{esc(self.summary())}</b><table><tr><th>#</th><th>status</th>'
                f"<th>latency</th><th>output / error</th></tr>{rows}</table>{more}</div>")


def _short(value: Any) -> str:
    try:
        text = jsonlib.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = str(value)
    return text if len(text) <= 120 else text[:117] + "..."
