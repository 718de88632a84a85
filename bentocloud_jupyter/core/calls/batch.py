"""Many calls to one API, concurrently, on one connection pool: the engine of ``map`` and ``bench``.

Why its own driver: :func:`~.invoke.acall` opens a client per call and raises on the first failure; a batch
wants one pool sized to the concurrency, every failure recorded on its item (one line, never raised), bounded
retries honouring ``Retry-After`` on 429/503, a scaled-to-zero deployment woken first (visibly), and a Stop
that cancels what is left. The bytes go through the same sans-IO exchanges as a single call.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx

from bentocloud_jupyter.core.calls.invoke import CallResult, Exchange, http_options
from bentocloud_jupyter.core.calls.outcomes import STOPPED, Item, MapResult, Progress
from bentocloud_jupyter.core.errors import BentoCloudError, NotReadyError
from bentocloud_jupyter.core.rest.durations import clamp_delay
from bentocloud_jupyter.core.rest.errors_map import parse_retry_after
from bentocloud_jupyter.core.tokens import redact

__all__ = ["RETRYABLE", "WAKE_TIMEOUT", "Batch", "Plan"]

RETRYABLE = frozenset({429, 503})
WAKE_TIMEOUT = 300.0  # the longest we wait for a scaled-to-zero deployment to serve again
WAKE_STEP = 0.25
BACKOFF = 0.5  # first retry's wait when the server gives no Retry-After (doubles each time)
MAX_BACKOFF = 30.0


@dataclass(frozen=True)
class Plan:
    """What to send, checked and built before anything is sent: one exchange per input, and the wake probe."""

    name: str
    api: str
    exchanges: tuple[Exchange[CallResult], ...]
    concurrency: int
    retries: int
    timeout: float
    probe: Exchange[int] | None = None  # set when the deployment is scaled to zero
    count: int = 0  # calls to make, cycling through the exchanges (0: one per exchange)
    duration: float | None = None  # send no new call after this many seconds (a timed load test)

    @property
    def total(self) -> int:
        return self.count or len(self.exchanges)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _retry_delay(response: httpx.Response | None, attempt: int) -> float:
    advised = parse_retry_after(response.headers.get("retry-after")) if response is not None else None
    delay = clamp_delay(advised)
    return delay if delay is not None else min(BACKOFF * 2 ** attempt, MAX_BACKOFF)


class Batch:
    """One run of a :class:`Plan`: ``await batch.run()`` gives the :class:`MapResult`; ``stop()`` cancels the rest."""

    def __init__(self, plan: Plan, progress: Progress | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.plan = plan
        self.transport = transport  # tests hand in a hostile one
        self.progress = progress or Progress(plan.name, plan.api, plan.total)
        self.items: list[Item | None] = [None] * plan.total
        self.stopped = False
        self._workers: list[asyncio.Task[None]] = []
        self._next = 0
        self._t0 = 0.0

    def stop(self) -> None:
        """Cancel the calls in flight and send no more; the items not answered are recorded as stopped."""
        self.stopped = True
        for task in self._workers:
            task.cancel()

    async def run(self) -> MapResult:
        self._t0 = time.perf_counter()
        plan = self.plan
        size = max(1, min(plan.concurrency, plan.total))
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size)
        options = {**http_options(), "timeout": plan.timeout, "limits": limits, "transport": self.transport}
        async with httpx.AsyncClient(**options) as http:
            if plan.probe is not None and not self.stopped:
                await self._wake(http, plan.probe)
            self.progress.emit("running", "")
            self._t0 = time.perf_counter()  # the clock of the calls starts after the wake-up
            self._workers = [asyncio.ensure_future(self._work(http)) for _ in range(size)]
            await asyncio.gather(*self._workers, return_exceptions=True)
        return self._finish()

    def _finish(self) -> MapResult:
        sent = self.items if self.plan.duration is None or self.stopped else self.items[:self._next]
        items = tuple(item or Item(i, None, error=STOPPED) for i, item in enumerate(sent))
        self.progress.emit("stopped" if self.stopped else "done", "")
        return MapResult(self.plan.name, self.plan.api, items, time.perf_counter() - self._t0, self.stopped)

    async def _wake(self, http: httpx.AsyncClient, probe: Exchange[int]) -> None:
        """Poll ``/readyz`` (the first request wakes it) until it answers 200, showing that we wait."""
        self.progress.emit("waking", f"{self.plan.name} is scaled to zero; waking it up")
        deadline = time.monotonic() + WAKE_TIMEOUT
        while not self.stopped:
            try:
                status = probe.read(await http.send(probe.request(http)), 0.0)
            except httpx.HTTPError:
                status = 0
            if status == 200:
                return
            if time.monotonic() > deadline:
                raise NotReadyError(f"Deployment {self.plan.name!r} did not wake up within {WAKE_TIMEOUT:g} s; "
                                    "check its status and logs.")
            await asyncio.sleep(WAKE_STEP)

    def _more(self) -> bool:
        if self.stopped or self._next >= len(self.items):
            return False
        return self.plan.duration is None or time.perf_counter() - self._t0 < self.plan.duration

    async def _work(self, http: httpx.AsyncClient) -> None:
        while self._more():
            index, self._next = self._next, self._next + 1
            try:
                item = await self._call(http, index)
            except Exception as error:  # an odd answer or a bug fails this item in one line, never vanishes
                item = Item(index, None, error=" ".join(f"Unexpected {type(error).__name__}: "
                                                        f"{redact(str(error))}".split()))
            self.items[index] = item
            self.progress.done += 1
            self.progress.failed += not item.ok
            self.progress.emit()

    async def _call(self, http: httpx.AsyncClient, index: int) -> Item:
        exchange = self.plan.exchanges[index % len(self.plan.exchanges)]
        started = time.perf_counter()
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            began = time.perf_counter()
            try:
                response = await http.send(exchange.request(http))
            except httpx.HTTPError as exc:
                error: BentoCloudError = exchange.failed(exc)
            else:
                ms = (time.perf_counter() - began) * 1000
                if response.status_code not in RETRYABLE or attempt > self.plan.retries:
                    return self._item(index, exchange, response, ms, started, attempt)
            if attempt > self.plan.retries:
                return Item(index, None, error=_one_line(error), started=started - self._t0, attempts=attempt,
                            latency_ms=(time.perf_counter() - began) * 1000)
            await asyncio.sleep(_retry_delay(response, attempt - 1))

    def _item(self, index: int, exchange: Exchange[CallResult], response: httpx.Response, ms: float,
              started: float, attempts: int) -> Item:
        at = started - self._t0
        try:
            result = exchange.read(response, ms)
        except BentoCloudError as exc:
            return Item(index, response.status_code, error=_one_line(exc), latency_ms=ms, started=at,
                        attempts=attempts)
        return Item(index, result.status, result.body, None, ms, at, attempts)


def completed(items: Sequence[Item]) -> int:
    """How many items got an answer (stopped ones did not)."""
    return sum(1 for i in items if i.error != STOPPED)
