"""Requests per minute to watch 1, 10 and 100 deployments: one WatchHub vs naive per-deployment polling.

Runs in any venv with this project (no bentoml needed). For each N, six sandboxes run side by side
in this process (uvicorn threads on 127.0.0.1), one per (watcher, phase), and each counts the API
requests it receives (``Sandbox.stats()["total"]``, deployments are created before counting starts):

Watchers:

* **ours**: one ``WatchHub`` (default intervals: ``session.settings.poll_interval`` = 5 s when
  nothing changes, ``FAST_INTERVAL`` = 1 s after a change) watching N ``WatchState``s (goal READY);
* **naive @ 5 s / @ 1 s**: one asyncio task per deployment doing ``GET /api/v2/deployments/{name}``
  every 5 s (our slow interval) or 1 s (our fast interval) until it is ``running``, which is what
  a loop per deployment does (``bentoml``'s ``wait_until_ready`` is this loop at 10 s).

Phases:

* **steady**: the store's clock is frozen, so every deployment stays ``deploying`` while watched.
  After SETTLE s (our back-off has reached its slow interval), requests are counted over a WINDOW s
  window and scaled to one minute.
* **rollout**: all N deployments are created at once on a sandbox whose lifecycle is slowed down to
  take ROLLOUT s (``deploying`` -> ``image-building`` -> ``deploying`` -> ``running``), and requests
  are counted from the first watch until every watcher has seen ``running`` and stopped; reported
  per minute of that span and in total.

After ``running`` both kinds of watcher stop, so a settled deployment costs no requests at all.
The sandbox holds only the N watched deployments; our hub lists all of them (pages of 100) in
one request per tick when N >= 2, and GETs the single deployment when N == 1.

Usage: python benchmarks/bench_watch_requests.py [--window S] [--counts 1,10,100]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import time
from typing import Any

from _common import isolate_env, loopback_only, machine, package_version, table
from bench_list import deployment_body
from bench_status_latency import RUNNING_AT, FakeClock

SETTLE = 10.0
NAIVE_SETTLE = 2.0
HEAVY = 50  # requests / s above which the 1 s naive poller gets a round of its own
ROLLOUT = 20.0
WATCHERS = ["ours: one `WatchHub`", "naive: 1 GET / deployment / 5 s", "naive: 1 GET / deployment / 1 s"]


def start_sandbox(frozen: bool, names: list[str]) -> Any:
    from bentocloud_jupyter.core.rest.client import BentoCloudClient
    from bentocloud_jupyter.sandbox import Sandbox

    sandbox = Sandbox(speed=1.0 if frozen else RUNNING_AT / ROLLOUT)
    if frozen:
        sandbox.state.clock = FakeClock(time.time())
    sandbox.start()
    if frozen:  # in a rollout sandbox, the deployments are created when watching starts
        with BentoCloudClient(sandbox.url, sandbox.token) as client:
            for name in names:
                client.create_deployment(deployment_body(name))
    return sandbox


async def watch(kind: str, sandbox: Any, names: list[str], stop: asyncio.Event) -> float:
    """Watch ``names`` until all are running or ``stop`` is set; returns when the watching ended."""
    from bentocloud_jupyter.core.deployments.watch import WatchHub, WatchState
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient

    async with AsyncBentoCloudClient(sandbox.url, sandbox.token) as client:
        if kind == WATCHERS[0]:
            hub = WatchHub(client, interval=session.settings.poll_interval)
            futures = [hub.watch(WatchState(name)) for name in names]
            waiter = asyncio.ensure_future(asyncio.gather(*futures))
            stopper = asyncio.ensure_future(stop.wait())
            await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
            ended = time.perf_counter()
            stopper.cancel()
            await hub.close()
            await asyncio.gather(waiter, return_exceptions=True)
            return ended

        interval = 5.0 if "5 s" in kind else 1.0

        async def poll(name: str) -> float:
            while not stop.is_set():
                deployment = await client.get_deployment(name)
                if deployment.status == "running":
                    break
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=interval)
            return time.perf_counter()

        return max(await asyncio.gather(*(poll(name) for name in names)))


async def measure(count: int, kinds: list[str], window: float) -> dict[tuple[str, str], dict[str, float]]:
    """Both phases of every watcher in ``kinds``, side by side (one sandbox each)."""
    from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient

    names = [f"watch-{i:03d}" for i in range(count)]
    sandboxes = {(kind, phase): start_sandbox(phase == "steady", names)
                 for kind in kinds for phase in ("steady", "rollout")}
    results: dict[tuple[str, str], dict[str, float]] = {}
    try:
        async def rollout(kind: str) -> None:
            sandbox = sandboxes[(kind, "rollout")]
            async with AsyncBentoCloudClient(sandbox.url, sandbox.token) as client:
                for name in names:
                    await client.create_deployment(deployment_body(name))
            sandbox.reset_stats()
            started = time.perf_counter()
            ended = await watch(kind, sandbox, names, asyncio.Event())
            total = sandbox.stats()["total"]
            span = ended - started
            results[(kind, "rollout")] = {"requests": total, "span": span, "per_min": total * 60 / span}

        async def steady(kind: str) -> None:
            sandbox = sandboxes[(kind, "steady")]
            stop = asyncio.Event()
            task = asyncio.ensure_future(watch(kind, sandbox, names, stop))
            # only our hub backs off; a naive poller is in its steady state from the first request
            await asyncio.sleep(SETTLE if kind == WATCHERS[0] else NAIVE_SETTLE)
            sandbox.reset_stats()
            await asyncio.sleep(window)
            total = sandbox.stats()["total"]
            stop.set()
            await task
            results[(kind, "steady")] = {"requests": total, "span": window, "per_min": total * 60 / window}

        await asyncio.gather(*(rollout(kind) for kind in kinds), *(steady(kind) for kind in kinds))
    finally:
        for sandbox in sandboxes.values():
            sandbox.stop()
    return results


def rounds(count: int) -> list[list[str]]:
    """Which watchers run side by side: the 1 s naive poller of many deployments alone, so that its
    own load (in-process client and server share the GIL) does not slow the others down."""
    return [WATCHERS] if count * 2 <= HEAVY else [WATCHERS[:2], WATCHERS[2:]]


def run(counts: list[int], window: float) -> str:
    isolate_env()
    loopback_only()
    started = time.perf_counter()
    by_count: dict[int, dict[tuple[str, str], dict[str, float]]] = {}
    for count in counts:
        by_count[count] = {}
        for kinds in rounds(count):
            by_count[count].update(asyncio.run(measure(count, kinds, window)))
    elapsed = time.perf_counter() - started

    rows = []
    for count, results in by_count.items():
        for kind in WATCHERS:
            steady, rollout = results[(kind, "steady")], results[(kind, "rollout")]
            rows.append([count, kind, f"{steady['per_min']:.0f}", f"{rollout['per_min']:.0f}",
                         f"{rollout['requests']:.0f}", f"{rollout['span']:.1f}"])
    ratios = []
    for count, results in by_count.items():
        ours = results[(WATCHERS[0], "steady")]["per_min"], results[(WATCHERS[0], "rollout")]["per_min"]
        naive = results[(WATCHERS[1], "steady")]["per_min"], results[(WATCHERS[2], "rollout")]["per_min"]
        ratios.append(f"N={count}: {naive[0] / ours[0]:.1f}x steady (vs naive @ 5 s), "
                      f"{naive[1] / ours[1]:.1f}x rollout (vs naive @ 1 s)")
    return "\n".join([
        "### Requests to watch N deployments (one `WatchHub` vs one poller per deployment)",
        "",
        f"{machine()}; httpx {package_version('httpx')}, uvicorn {package_version('uvicorn')}",
        "",
        table(["N", "watcher", f"steady: requests / min ({window:g} s window)", "rollout: requests / min",
               "rollout: requests", "rollout: span (s)"], rows, align="llrrrr"),
        "",
        f"Steady: statuses frozen, counted after {SETTLE:g} s of watching. Rollout: all N created at once, "
        f"lifecycle slowed to {ROLLOUT:g} s, counted until every watcher stopped at `running`. "
        "Naive ÷ ours: " + "; ".join(ratios) + f". Took {elapsed:.0f} s.",
    ])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--window", type=float, default=20.0, help="steady-phase counting window in seconds")
    parser.add_argument("--counts", default="1,10,100", help="comma-separated numbers of watched deployments")
    args = parser.parse_args(argv)
    counts = [int(c) for c in args.counts.split(",") if c.strip()]
    if not counts or min(counts) < 1 or args.window <= 0:
        parser.error("--counts must be positive integers and --window > 0")
    text = run(counts, args.window)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
