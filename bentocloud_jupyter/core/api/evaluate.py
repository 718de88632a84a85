"""Evaluating a deployment from the notebook: ``map`` (every input through one API) and ``bench`` (a load test).

Both run the same engine (:mod:`~bentocloud_jupyter.core.calls.batch`): checked up front (one line, nothing
sent), concurrent on one pool, failures recorded per item, 429/503 retried as advised, a scaled-to-zero
deployment woken first. On the kernel's loop they return a running handle at once; elsewhere they block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from functools import partial
from typing import Any

from bentocloud_jupyter.core.calls.batch import Batch
from bentocloud_jupyter.core.calls.bench_report import BenchReport
from bentocloud_jupyter.core.calls.handle import BatchHandle, start
from bentocloud_jupyter.core.calls.outcomes import MapResult
from bentocloud_jupyter.core.calls.planning import plan
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.rest.durations import check_duration

MAX_BENCH_CALLS = 100_000  # the most calls one bench makes (a --duration run stops at whichever comes first)
MAX_BENCH_DURATION = 3600.0

__all__ = ["bench", "map"]


def _same(result: MapResult) -> MapResult:
    return result


def map(name: str, api: str, inputs: Iterable[Any], concurrency: int = 8, timeout: float | None = None,
        retries: int = 2, context: str | None = None, *, cluster: str | None = None) -> BatchHandle[MapResult]:
    """Call ``api`` of deployment ``name`` once per input: a JSON body, a ``pathlib.Path`` (its bytes), or a dict
    holding paths (a multipart form, as BentoML's clients send file inputs).

    ``concurrency`` calls at a time; ``timeout`` seconds per request (the session's by default); each call is
    retried up to ``retries`` times on 429/503 (honouring ``Retry-After``). Results come back in input order; a
    failed item carries its one-line error. On a running loop (the kernel's) the handle returns at once: ``await
    handle`` or ``handle.result()`` when done; ``handle.stop()`` cancels the rest.

    Raises:
        InvalidInputError: a bad knob or input, or one the API's schema refuses. NotFoundError: no such
        deployment or API. NotReadyError: the deployment is neither running nor scaled to zero.
    """
    checked = plan(name, api, inputs, concurrency=concurrency, retries=retries, timeout=timeout, context=context,
                   cluster=cluster)
    return start(Batch(checked), _same)


def _report(concurrency: int, result: MapResult) -> BenchReport:
    return BenchReport(result, concurrency)


def _count(n: Any, duration: float | None) -> int:
    if n is None:
        return MAX_BENCH_CALLS if duration is not None else 100
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_BENCH_CALLS:
        raise InvalidInputError(f"n must be a whole number of calls from 1 to {MAX_BENCH_CALLS}, not {n!r}.")
    return n


def bench(name: str, api: str, json: Any = None, n: int | None = None, concurrency: int = 8,
          duration: float | None = None, timeout: float | None = None, retries: int = 0,
          context: str | None = None, cluster: str | None = None) -> BatchHandle[BenchReport]:
    """Load-test ``api`` of ``name``: the same body ``n`` times (100 by default), ``concurrency`` at a time, or as
    many as fit in ``duration`` seconds. The report shows requests, errors by status, throughput, p50/p90/p99/max
    and two charts; ``.to_dataframe()`` gives every call. Returns at once on the kernel's loop, as :func:`map`.

    Raises:
        as :func:`map`; InvalidInputError: a bad ``n`` or ``duration``.
    """
    seconds = None if duration is None else check_duration(duration, "duration", maximum=MAX_BENCH_DURATION)
    count = _count(n, seconds)
    checked = plan(name, api, [{} if json is None else json], concurrency=concurrency, retries=retries,
                   timeout=timeout, context=context, cluster=cluster)
    checked = dataclasses.replace(checked, count=count, duration=seconds)
    return start(Batch(checked), partial(_report, concurrency))
