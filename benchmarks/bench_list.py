"""Listing deployments from the local sandbox: our clients vs bentoml's SDK, in one process.

Starts ``bentocloud_jupyter.sandbox.Sandbox`` on 127.0.0.1 (a uvicorn thread in this process), seeds
N deployments of ``summarizer:v3`` with our client, points bentoml at the sandbox through
``BENTO_CLOUD_API_KEY`` / ``BENTO_CLOUD_API_ENDPOINT`` (set before bentoml is imported; HOME and
BENTOML_HOME are a temp dir, tracking is off), checks that every client returns the same N names,
then for each client measures:

* latency of one "list everything" call: median and p95 over CALLS calls (after WARMUP calls),
  clients interleaved in blocks of 10 so machine noise hits them alike;
* HTTP requests per call (sandbox request counter, one call);
* TCP connections opened by 20 consecutive calls (``Sandbox.stats()["connections"]``, i.e. distinct
  client ports seen after ``reset_stats()``), counting from a client that has already been used.

A raw ``httpx.Client.get`` of the same list URL (response read, JSON not parsed into objects) is the floor.
The sandbox shares the GIL with the client, so absolute numbers include the server's own work.

Usage: python benchmarks/bench_list.py [--deployments N] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from _common import isolate_env, loopback_only, machine, median, p95, package_version, table

WARMUP = 5
BLOCK = 10
CONNECTION_CALLS = 20


def deployment_body(name: str) -> dict[str, Any]:
    """A complete v2 create body for the seeded ``summarizer:v3`` bento."""
    service = {"instance_type": "cpu.1", "scaling": {"min_replicas": 1, "max_replicas": 1, "policy": None},
               "envs": None, "deployment_strategy": None, "extras": None, "cold_start_timeout": None,
               "config_overrides": {}}
    return {"bento": "summarizer:v3", "name": name, "access_authorization": False, "envs": None, "labels": [],
            "secrets": None, "services": {"Summarizer": service}, "canary": None, "dev": False}


class AsyncRunner:
    """Runs coroutines on one long-lived event loop in a thread, so an async client keeps its pool."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-async", daemon=True)
        self.thread.start()

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.loop.close()


def timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(deployments: int, calls: int) -> str:
    isolate_env()
    loopback_only()
    import httpx

    from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
    from bentocloud_jupyter.sandbox import Sandbox

    sandbox = Sandbox(speed=50).start()
    runner = AsyncRunner()
    try:
        os.environ["BENTO_CLOUD_API_KEY"] = sandbox.token
        os.environ["BENTO_CLOUD_API_ENDPOINT"] = sandbox.url
        # Only after the env vars: bentoml resolves its cloud context once per process.
        bentoml = importlib.import_module("bentoml")

        ours = BentoCloudClient(sandbox.url, sandbox.token)
        ours_async = runner.run(_make_async(AsyncBentoCloudClient, sandbox.url, sandbox.token))
        raw = httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": sandbox.token})
        names = {f"bench-{i:03d}" for i in range(deployments)}
        for name in sorted(names):
            ours.create_deployment(deployment_body(name))
        time.sleep(0.2)  # at speed=50 every rollout has settled (3.5 s / 50 = 70 ms)

        def raw_list() -> Any:
            response = raw.get("/api/v2/deployments", params={"all": "true", "count": "100", "start": "0"})
            response.raise_for_status()
            return response.json()["items"]

        clients: dict[str, Callable[[], Any]] = {
            "ours: `BentoCloudClient.list_deployments()`": ours.list_deployments,
            "ours: `AsyncBentoCloudClient.list_deployments()`": lambda: runner.run(ours_async.list_deployments()),
            "bentoml: `bentoml.deployment.list()`": bentoml.deployment.list,
            "floor: raw `httpx.Client.get` + `.json()`": raw_list,
        }

        # Correctness first: every client sees exactly the seeded deployments.
        returned: dict[str, int] = {}
        for label, fn in clients.items():
            items = fn()
            got = {item["name"] if isinstance(item, dict) else item.name for item in items}
            if got != names:
                raise SystemExit(f"{label} returned {sorted(got)}, expected {sorted(names)}")
            returned[label] = len(items)

        requests: dict[str, int] = {}
        for label, fn in clients.items():
            sandbox.reset_stats()
            fn()
            requests[label] = sandbox.stats()["total"]

        samples: dict[str, list[float]] = {label: [] for label in clients}
        for fn in clients.values():
            for _ in range(WARMUP):
                fn()
        while any(len(s) < calls for s in samples.values()):
            for label, fn in clients.items():
                for _ in range(min(BLOCK, calls - len(samples[label]))):
                    samples[label].append(timed(fn))

        connections: dict[str, int] = {}
        for label, fn in clients.items():
            sandbox.reset_stats()
            for _ in range(CONNECTION_CALLS):
                fn()
            connections[label] = sandbox.stats()["connections"]

        ours.close()
        raw.close()
        runner.run(ours_async.aclose())
    finally:
        runner.close()
        sandbox.stop()

    rows = []
    for label in clients:
        rows.append([label, f"{median(samples[label]) * 1e3:.2f}", f"{p95(samples[label]) * 1e3:.2f}",
                     requests[label], connections[label], returned[label]])
    ours_label, theirs_label = next(iter(clients)), "bentoml: `bentoml.deployment.list()`"
    ratio = median(samples[theirs_label]) / median(samples[ours_label])
    return "\n".join([
        f"### Listing {deployments} deployments from the sandbox ({calls} calls per client)",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, httpx {package_version('httpx')}, "
        f"uvicorn {package_version('uvicorn')}",
        "",
        table(["client", "median (ms)", "p95 (ms)", "requests / call",
               f"TCP connections / {CONNECTION_CALLS} calls", "items"], rows),
        "",
        f"bentoml ÷ ours (sync), median latency: {ratio:.1f}x",
    ])


async def _make_async(cls: Any, url: str, token: str) -> Any:
    return cls(url, token)  # created on the runner's loop, which it will keep using


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--deployments", type=int, default=20)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args(argv)
    if args.deployments < 1 or args.calls < 1:
        parser.error("--deployments and --calls must be >= 1")
    text = run(args.deployments, args.calls)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
