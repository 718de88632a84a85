"""A per-API latency model for the fake services, so load tests see what a real service does.

Why: with instant answers every client looks equally fast and concurrency means nothing. Each rule says,
for one deployment (or ``"*"``) and one API route (or ``"*"``):

* ``base`` seconds every call takes, plus a uniform ``jitter`` in ``[0, jitter)`` drawn from a seeded
  :class:`random.Random` (``seed``), so a run's delays are reproducible;
* ``per_replica``: how many calls one replica serves at once (0: unlimited); calls beyond the capacity of the
  current replicas queue, and replicas are added one at a time up to the deployment's ``max_replicas``
  (never below ``min_replicas``, at least one while serving);
* ``cold_start`` seconds added to the call that wakes a scaled-to-zero deployment (others wait for it).

Set from Python with ``model_for(sandbox.state).set(...)`` or ``POST /_sandbox/latency``; read counters
(replicas, peak in flight, queued calls, cold starts) with :meth:`LatencyModel.snapshot`. Delays are real
seconds, not scaled by the sandbox ``speed`` (that is for the lifecycle).
"""

from __future__ import annotations

import asyncio
import math
import random
import threading
import weakref
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["ApiLatency", "LatencyModel", "ReplicaPool", "model_for", "scaling_bounds"]

_KNOBS = ("base", "jitter", "per_replica", "cold_start")


@dataclass(frozen=True)
class ApiLatency:
    """The latency knobs of one (deployment, API) pair; the defaults answer at once."""

    base: float = 0.0
    jitter: float = 0.0
    per_replica: int = 0
    cold_start: float = 0.0

    @classmethod
    def checked(cls, values: dict[str, Any]) -> ApiLatency:
        """Knobs from JSON-ish values: finite seconds >= 0, ``per_replica`` an integer >= 0.

        Raises:
            ValueError: an unknown knob or a bad value (the message names it).
        """
        unknown = set(values) - set(_KNOBS)
        if unknown:
            raise ValueError(f"unknown latency knob(s) {sorted(unknown)}: use {', '.join(_KNOBS)}")
        for key in ("base", "jitter", "cold_start"):
            value = values.get(key, 0.0)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ValueError(f"latency knob {key!r} must be a number of seconds >= 0, not {value!r}")
        limit = values.get("per_replica", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
            raise ValueError(f"latency knob 'per_replica' must be an integer >= 0, not {limit!r}")
        return cls(float(values.get("base", 0.0)), float(values.get("jitter", 0.0)), limit,
                   float(values.get("cold_start", 0.0)))


def scaling_bounds(config: dict[str, Any], entry: str) -> tuple[int, int]:
    """(min_replicas, max_replicas) of the entry service (or the only one); (1, 1) when unsaid."""
    services = config.get("services") or {}
    conf = services.get(entry) or (next(iter(services.values())) if len(services) == 1 else None) or {}
    scaling = conf.get("scaling") or {}
    low = scaling.get("min_replicas")
    high = scaling.get("max_replicas")
    low = low if isinstance(low, int) and low >= 0 else 1
    high = high if isinstance(high, int) and high >= 1 else max(low, 1)
    return low, max(high, low, 1)


@dataclass
class ReplicaPool:
    """Calls in flight on one deployment and the replicas serving them (lives on the server's loop)."""

    replicas: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    peak_replicas: int = 0
    queued: int = 0
    served: int = 0
    cold_starts: int = 0
    cold_pending: bool = False
    waking: asyncio.Future[None] | None = field(default=None, repr=False)
    changed: asyncio.Condition | None = field(default=None, repr=False)

    def counters(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in ("replicas", "in_flight", "peak_in_flight", "peak_replicas", "queued",
                                              "served", "cold_starts")}


class LatencyModel:
    """Rules by (deployment, API) with ``"*"`` wildcards, a seeded random source and per-deployment pools."""

    def __init__(self, seed: int = 0) -> None:
        self.lock = threading.Lock()
        self.rules: dict[tuple[str, str], ApiLatency] = {}
        self.seed = seed
        self.random = random.Random(seed)
        self.pools: dict[str, ReplicaPool] = {}

    def set(self, deployment: str = "*", api: str = "*", *, seed: int | None = None, **knobs: Any) -> ApiLatency:
        """Set (replace) the rule for ``deployment``/``api``; ``seed`` restarts the random source.

        Raises:
            ValueError: a bad knob.
        """
        rule = ApiLatency.checked(knobs)
        with self.lock:
            self.rules[(deployment, "/" + api.strip("/") if api != "*" else "*")] = rule
            if seed is not None:
                self.seed, self.random = seed, random.Random(seed)
        return rule

    def reset(self) -> None:
        """No rules, counters cleared, the random source back to its seed."""
        with self.lock:
            self.rules.clear()
            self.pools.clear()
            self.random = random.Random(self.seed)

    def rule(self, deployment: str, route: str) -> ApiLatency:
        """The most specific rule: exact, then any API, then any deployment, then none."""
        with self.lock:
            for key in ((deployment, route), (deployment, "*"), ("*", route), ("*", "*")):
                if key in self.rules:
                    return self.rules[key]
        return ApiLatency()

    def delay(self, rule: ApiLatency) -> float:
        """One call's service time: base plus seeded jitter."""
        with self.lock:
            extra = self.random.uniform(0.0, rule.jitter) if rule.jitter > 0 else 0.0
        return rule.base + extra

    def pool(self, deployment: str) -> ReplicaPool:
        with self.lock:
            return self.pools.setdefault(deployment, ReplicaPool())

    def snapshot(self, deployment: str | None = None) -> dict[str, Any]:
        """Rules as JSON and the counters of every pool (or of one deployment's)."""
        with self.lock:
            rules = [{"deployment": d, "api": a, **asdict(r)} for (d, a), r in self.rules.items()]
            pools = {name: p.counters() for name, p in self.pools.items()}
        if deployment is not None:
            return pools.get(deployment, ReplicaPool().counters())
        return {"seed": self.seed, "rules": rules, "pools": pools}

    def woken(self, deployment: str) -> None:
        """Traffic just woke a scaled-to-zero deployment: zero replicas, the next served call starts one.

        Called before the request's first ``await``, so calls that overtake the waking one still wait for it.
        """
        pool = self.pool(deployment)
        with self.lock:
            pool.replicas, pool.cold_pending = 0, True

    async def serve(self, deployment: str, route: str, bounds: tuple[int, int]) -> None:
        """Hold one call for as long as the model says: cold start, queueing for a replica, service time."""
        rule = self.rule(deployment, route)
        if rule == ApiLatency():
            return
        pool = self.pool(deployment)
        if pool.changed is None:
            pool.changed = asyncio.Condition()
        if pool.waking is not None or pool.cold_pending:
            await self._wake(pool, rule, bounds)
        await self._acquire(pool, rule, bounds)
        try:
            await asyncio.sleep(self.delay(rule))
        finally:
            await self._release(pool)

    async def warm(self, deployment: str, bounds: tuple[int, int]) -> None:
        """A readiness probe: when a cold start is due or under way, answer only once it is over."""
        pool = self.pool(deployment)
        if pool.waking is not None or pool.cold_pending:
            rule = self.rule(deployment, "*")
            if rule == ApiLatency():
                pool.cold_pending = False
                return
            await self._wake(pool, rule, bounds)

    async def _wake(self, pool: ReplicaPool, rule: ApiLatency, bounds: tuple[int, int]) -> None:
        if pool.waking is None:
            pool.waking = asyncio.get_running_loop().create_future()
            pool.cold_starts, pool.cold_pending = pool.cold_starts + 1, False
            try:
                await asyncio.sleep(rule.cold_start)
            finally:
                pool.replicas = max(pool.replicas, bounds[0], 1)
                pool.peak_replicas = max(pool.peak_replicas, pool.replicas)
                pool.waking.set_result(None)
                pool.waking = None
        else:
            await asyncio.shield(pool.waking)

    async def _acquire(self, pool: ReplicaPool, rule: ApiLatency, bounds: tuple[int, int]) -> None:
        assert pool.changed is not None
        async with pool.changed:
            pool.replicas = max(pool.replicas, bounds[0], 1)
            waited = False
            while rule.per_replica and pool.in_flight >= pool.replicas * rule.per_replica:
                if pool.replicas < bounds[1]:
                    pool.replicas += 1
                    continue
                waited = True
                await pool.changed.wait()
            pool.queued += waited
            pool.in_flight += 1
            pool.peak_in_flight = max(pool.peak_in_flight, pool.in_flight)
            pool.peak_replicas = max(pool.peak_replicas, pool.replicas)

    async def _release(self, pool: ReplicaPool) -> None:
        assert pool.changed is not None
        async with pool.changed:
            pool.in_flight -= 1
            pool.served += 1
            pool.changed.notify()


_MODELS: weakref.WeakKeyDictionary[object, LatencyModel] = weakref.WeakKeyDictionary()
_MODELS_LOCK = threading.Lock()


def model_for(store: object) -> LatencyModel:
    """The latency model of one sandbox store (``Sandbox.state``), made on first use."""
    with _MODELS_LOCK:
        model = _MODELS.get(store)
        if model is None:
            model = _MODELS[store] = LatencyModel()
        return model
