"""Throughput of many calls to one API: our ``map`` vs a loop of ``bentoml.SyncHTTPClient`` vs
``bentoml.AsyncHTTPClient`` with ``asyncio.gather``, against one sandbox deployment with a fixed latency model.

One process (a venv with this project *and* ``bentoml==1.4.40``, e.g. /work/main/.venv-compat): the sandbox is a
uvicorn thread on 127.0.0.1; its latency model (``bentocloud_jupyter.sandbox.latency``) gives every call ``base``
seconds plus seeded jitter, ``per_replica`` calls at a time per replica, replicas between the deployment's min and
max. Each client makes ``--calls`` calls of ``summarize``; the concurrent ones keep ``--concurrency`` in flight.
"ours (on a loop)" runs ``map`` as the kernel does (a handle on a running loop) while a 10 ms ticker on the same
loop records how late it fires: the worst lag is what a ``1+1`` cell would wait meanwhile.

Usage: python benchmarks/bench_map.py [--calls N] [--concurrency C] [--base S] [--jitter S]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from _common import isolate_env, loopback_only, machine, package_version, table

NAME = "bench-map"
TEXT = {"text": "The sandbox emulates BentoCloud. It runs locally! Nothing leaves the machine."}


def start_sandbox(args: argparse.Namespace) -> Any:
    from bentocloud_jupyter.core import api
    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.sandbox import Sandbox
    from bentocloud_jupyter.sandbox.latency import model_for

    sandbox = Sandbox(speed=50.0).start()
    config.save_context(config.Context("bench", sandbox.url, sandbox.token))
    config.set_current_context("bench")
    replicas = max(1, -(-args.concurrency // args.per_replica))
    api.deploy("summarizer:v3", name=NAME, scaling_min=1, scaling_max=replicas, wait=True)
    model_for(sandbox.state).set(NAME, "summarize", base=args.base, jitter=args.jitter,
                                 per_replica=args.per_replica, seed=1)
    return sandbox


def ours_blocking(calls: int, concurrency: int) -> float:
    from bentocloud_jupyter.core import api

    started = time.perf_counter()
    result = api.map(NAME, "summarize", [TEXT] * calls, concurrency=concurrency).result()
    elapsed = time.perf_counter() - started
    assert not result.failed, result.summary()
    return elapsed


def ours_on_loop(calls: int, concurrency: int) -> tuple[float, float]:
    from bentocloud_jupyter.core import api

    async def main() -> tuple[float, float]:
        lags: list[float] = []
        started = time.perf_counter()
        handle = api.map(NAME, "summarize", [TEXT] * calls, concurrency=concurrency)
        while not handle.done():
            asked = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - asked - 0.01)
        result = await handle
        assert not result.failed, result.summary()
        return time.perf_counter() - started, max(lags, default=0.0)

    return asyncio.run(main())


def bentoml_sync(url: str, calls: int) -> float:
    import bentoml

    with bentoml.SyncHTTPClient(url) as client:
        started = time.perf_counter()
        for _ in range(calls):
            client.summarize(**TEXT)
        return time.perf_counter() - started


def bentoml_async(url: str, calls: int, concurrency: int) -> float:
    import bentoml

    async def main() -> float:
        gate = asyncio.Semaphore(concurrency)
        async with bentoml.AsyncHTTPClient(url) as client:
            async def one() -> Any:
                async with gate:
                    return await client.summarize(**TEXT)

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(calls)))
            return time.perf_counter() - started

    return asyncio.run(main())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--base", type=float, default=0.01, help="seconds per call (latency model)")
    parser.add_argument("--jitter", type=float, default=0.005)
    parser.add_argument("--per-replica", type=int, default=4)
    args = parser.parse_args()
    isolate_env()
    loopback_only()
    sandbox = start_sandbox(args)
    try:
        url = f"{sandbox.url}/_svc/{NAME}"
        ours_blocking(min(args.calls, 50), args.concurrency)  # warm-up: imports, connections
        rows: list[list[object]] = []
        elapsed = ours_blocking(args.calls, args.concurrency)
        rows.append(["ours: `bc.map` (blocking)", args.concurrency, f"{elapsed:.2f}", f"{args.calls / elapsed:.0f}",
                     ""])
        elapsed, lag = ours_on_loop(args.calls, args.concurrency)
        rows.append(["ours: `bc.map` (handle on a running loop)", args.concurrency, f"{elapsed:.2f}",
                     f"{args.calls / elapsed:.0f}", f"{lag * 1000:.0f} ms"])
        elapsed = bentoml_sync(url, args.calls)
        rows.append(["bentoml.SyncHTTPClient, a loop", 1, f"{elapsed:.2f}", f"{args.calls / elapsed:.0f}", ""])
        elapsed = bentoml_async(url, args.calls, args.concurrency)
        rows.append(["bentoml.AsyncHTTPClient + asyncio.gather", args.concurrency, f"{elapsed:.2f}",
                     f"{args.calls / elapsed:.0f}", ""])
    finally:
        sandbox.stop()
    print(f"### map: {args.calls} calls of `summarize` (latency model: {args.base * 1000:g} ms + up to "
          f"{args.jitter * 1000:g} ms, {args.per_replica} per replica)\n")
    print(table(["client", "in flight", "seconds", "calls/s", "worst loop lag"], rows))
    print(f"\n{machine()}; bentoml {package_version('bentoml')}")


if __name__ == "__main__":
    main()
