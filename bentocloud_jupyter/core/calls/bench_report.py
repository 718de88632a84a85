"""What a load test measured: requests, errors by status, throughput and latency percentiles, with two charts.

Why a result of its own: ``bench`` is read for its numbers, not its bodies; it shows them as a text table (no
HTML front end needed), as escaped HTML with inline SVG, and as a pandas DataFrame of the calls when asked.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.calls import svg
from bentocloud_jupyter.core.calls.outcomes import STOPPED, Item, MapResult
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["BenchReport", "percentile"]


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by the nearest-rank method; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True)
class BenchReport:
    """A load test's outcome (every call's item is kept in ``run``)."""

    run: MapResult
    concurrency: int

    @property
    def calls(self) -> list[Item]:
        """The calls that were sent (answered or failed), not the ones Stop kept back."""
        return [i for i in self.run.items if i.error != STOPPED]

    @property
    def requests(self) -> int:
        return len(self.calls)

    @property
    def errors(self) -> dict[str, int]:
        """Failed calls by reason: the HTTP status, or the transport error."""
        out: dict[str, int] = {}
        for item in self.calls:
            if not item.ok:
                out[item.reason] = out.get(item.reason, 0) + 1
        return out

    @property
    def throughput(self) -> float:
        """Calls answered (or failed) per second of the run."""
        return self.requests / self.run.elapsed if self.run.elapsed > 0 else 0.0

    def latencies(self) -> list[float]:
        return [i.latency_ms for i in self.calls if i.status is not None]

    def stats(self) -> dict[str, float]:
        """p50, p90, p99 and max latency in ms over the calls that got an answer."""
        ms = self.latencies()
        return {"p50": percentile(ms, 50), "p90": percentile(ms, 90), "p99": percentile(ms, 99),
                "max": max(ms, default=0.0)}

    def rows(self) -> list[tuple[str, str]]:
        s = self.stats()
        errors = ", ".join(f"{r}: {n}" for r, n in self.errors.items()) or "none"
        return [("requests", str(self.requests)), ("concurrency", str(self.concurrency)),
                ("errors", errors), ("duration", f"{self.run.elapsed:.2f} s"),
                ("throughput", f"{self.throughput:.1f} req/s"),
                *((k, f"{v:.1f} ms") for k, v in s.items())]

    def __repr__(self) -> str:
        head = f"bench {self.run.name}/{self.run.api}" + (" (stopped)" if self.run.stopped else "")
        width = max(len(k) for k, _ in self.rows())
        return "\n".join([head, *(f"  {k.ljust(width)}  {v}" for k, v in self.rows())])

    def _repr_html_(self) -> str:
        table = "".join(f"<tr><th style='text-align:left'>{esc(k)}</th><td>{esc(v)}</td></tr>"
                        for k, v in self.rows())
        points = [(i.started, i.latency_ms, i.ok) for i in self.calls]
        return (f'<div class="bcj-bench"><b>bench {esc(self.run.name)}/{esc(self.run.api)}</b>'
                f'<div style="display:flex;gap:12px;flex-wrap:wrap"><table>{table}</table>'
                f"{svg.histogram(self.latencies())}{svg.over_time(points)}</div></div>")

    def to_dataframe(self) -> Any:
        """One row per call: index, status, ok, latency_ms, started_s, attempts, error.

        Raises:
            InvalidInputError: pandas is not installed.
        """
        try:
            pd = importlib.import_module("pandas")
        except ImportError:
            raise InvalidInputError("to_dataframe() needs pandas: pip install pandas.") from None
        return pd.DataFrame([{"index": i.index, "status": i.status, "ok": i.ok, "latency_ms": i.latency_ms,
                              "started_s": i.started, "attempts": i.attempts, "error": i.error}
                             for i in self.calls])
