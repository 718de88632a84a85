"""Status latency: from a status change in the sandbox to the change being visible, ours vs bentoml.

Everything runs in one process (use a venv with this project *and* ``bentoml==1.4.40``, e.g.
/work/venv-compat): the sandbox is a uvicorn thread on 127.0.0.1, our widgets run on an
``asyncio.run`` loop in the main thread, and bentoml's blocking waits run in worker threads.
Both sides use their DEFAULT settings: our ``session.settings.poll_interval`` (5 s when steady, 1 s
while something changes) and bentoml's ``Deployment.wait_until_ready()`` (``check_interval=10``).

* **steady** (the worst case for us): a sandbox whose store clock is a fake clock that we hold still,
  so every deployment sits in ``deploying``. N ``DeploymentStatus`` widgets (each in its own context,
  hence its own ``WatchHub`` and its own polling phase; starts staggered over one slow interval) and
  M ``bentoml.deployment.get(name).wait_until_ready()`` calls (one thread each, starts staggered over
  one check interval) watch their own deployment. After every watcher has been idle long enough to
  reach its slowest interval, the fake clock jumps past the rollout at one known moment: every
  deployment is ``running`` from then on. Latency = first moment our widget's ``html.value`` shows
  ``running`` (a traitlets observer) / the moment ``wait_until_ready`` returns, minus that moment.
* **rollout** (ours only): a second sandbox with the real clock at ``speed=1`` (``deploying`` 0.5 s
  -> ``image-building`` 2 s -> ``deploying`` 1 s -> ``running``). N deployments are created at
  staggered moments, each watched by a fresh widget (again one context per widget). Every status the
  widget shows after its first one is matched with the moment the sandbox entered that status
  (``Sandbox.history``); a status the sandbox passed through between two polls is counted as skipped.
  bentoml is not run here: during ``image-building`` it starts a thread that lists image-builder pods,
  which the sandbox does not emulate.

Per-deployment independent hubs are a benchmark device to get independent samples from one status
flip; a notebook watching one deployment has exactly one such hub.

Usage: python benchmarks/bench_status_latency.py [--samples N] [--bentoml-samples M] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import io
import random
import threading
import time
from typing import Any

from _common import isolate_env, loopback_only, machine, median, p95, package_version, table
from bench_list import deployment_body

RUNNING_AT = 3.5  # seconds after create at speed 1: deploying 0.5 + image-building 2 + deploying 1
BENTOML_CHECK_INTERVAL = 10.0  # wait_until_ready's default
SETTLE = 10.0  # our back-off reaches the slow interval 1 + 1.5 + 2.25 + 3.375 = 8.1 s after a change


class FakeClock:
    """A store clock that stands still until moved (``Store.clock`` is read on every request)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def fmt(values: list[float]) -> tuple[str, str, str, str]:
    if not values:
        return ("n/a", "n/a", "n/a", "n/a")
    return (f"{median(values):.2f}", f"{p95(values):.2f}", f"{min(values):.2f}", f"{max(values):.2f}")


def _save_contexts(prefix: str, count: int, url: str, token: str) -> list[str]:
    from bentocloud_jupyter.core.credentials import config

    names = [f"{prefix}-{i:02d}" for i in range(count)]
    for name in names:
        config.save_context(config.Context(name, url, token))
    return names


def steady(samples: int, bentoml_samples: int, rng: random.Random) -> dict[str, Any]:
    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.rest.client import BentoCloudClient
    from bentocloud_jupyter.sandbox import Sandbox
    from bentocloud_jupyter.widgets.status import DeploymentStatus

    sandbox = Sandbox(speed=1.0)
    clock = FakeClock(time.time())
    sandbox.state.clock = clock
    sandbox.start()
    try:
        ours = _save_contexts("lat", samples, sandbox.url, sandbox.token)
        # bentoml reads the same credentials file (BENTOML_HOME/.yatai.yaml): its current context.
        config.save_context(config.Context("bml", sandbox.url, sandbox.token))
        config.set_current_context("bml")
        theirs = [f"bml-{i:02d}" for i in range(bentoml_samples)]
        with BentoCloudClient(sandbox.url, sandbox.token) as client:
            for name in ours + theirs:
                client.create_deployment(deployment_body(name))
        bentoml = importlib.import_module("bentoml")
        from bentoml._internal.cloud.base import Spinner
        from rich.console import Console

        returned: dict[str, float] = {}
        failures: list[str] = []

        def bentoml_wait(name: str, delay: float) -> None:
            time.sleep(delay)
            try:
                deployment = bentoml.deployment.get(name)
                code = deployment.wait_until_ready(spinner=Spinner(console=Console(file=io.StringIO())))
                returned[name] = time.perf_counter()
                if code != 0:
                    failures.append(f"{name}: wait_until_ready returned {code}")
            except Exception as error:  # reported below; a benchmark must not hang on a worker thread
                failures.append(f"{name}: {type(error).__name__}: {error}")

        threads = [threading.Thread(target=bentoml_wait, args=(name, rng.uniform(0, BENTOML_CHECK_INTERVAL)),
                                    daemon=True) for name in theirs]
        for thread in threads:
            thread.start()
        bentoml_started = time.perf_counter()

        async def run_ours() -> tuple[float, dict[str, float], int]:
            seen: dict[str, float] = {}
            widgets = []
            interval = session.settings.poll_interval
            offsets = sorted(rng.uniform(0, interval) for _ in ours)
            started = time.perf_counter()
            for name, offset in zip(ours, offsets, strict=True):
                await asyncio.sleep(max(0.0, started + offset - time.perf_counter()))
                widget = DeploymentStatus(name, context=name)

                def on_value(_: Any, widget: Any = widget, name: str = name) -> None:
                    if widget.state.status == "running" and name not in seen:
                        seen[name] = time.perf_counter()

                widget.html.observe(on_value, names="value")
                widgets.append(widget)
            # every hub and every bentoml thread has been idle long enough to poll at its slowest pace
            flip_at = max(time.perf_counter() + SETTLE, bentoml_started + BENTOML_CHECK_INTERVAL + 2.0)
            await asyncio.sleep(flip_at - time.perf_counter())
            statuses = {w.state.status for w in widgets}
            flipped = time.perf_counter()
            clock.now += RUNNING_AT + 0.001
            await asyncio.wait_for(asyncio.gather(*(w.done for w in widgets)), timeout=4 * interval)
            for hub in session.hubs():
                await hub.close()
            if statuses != {"deploying"}:
                raise SystemExit(f"steady phase: widgets showed {statuses} before the flip, expected deploying")
            return flipped, seen, len(widgets)

        flipped, seen, _ = asyncio.run(run_ours())
        for thread in threads:
            thread.join(timeout=3 * BENTOML_CHECK_INTERVAL)
        if failures:
            raise SystemExit("bentoml wait_until_ready failed: " + "; ".join(failures))
        if len(seen) != len(ours) or len(returned) != len(theirs):
            raise SystemExit(f"steady phase incomplete: ours {len(seen)}/{len(ours)}, "
                             f"bentoml {len(returned)}/{len(theirs)}")
        return {"ours": [t - flipped for t in seen.values()], "bentoml": [t - flipped for t in returned.values()]}
    finally:
        sandbox.stop()


def rollout(samples: int, rng: random.Random) -> dict[str, Any]:
    from bentocloud_jupyter.core.rest import session
    from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient
    from bentocloud_jupyter.sandbox import Sandbox
    from bentocloud_jupyter.widgets.status import DeploymentStatus

    sandbox = Sandbox(speed=1.0).start()
    try:
        names = _save_contexts("ro", samples, sandbox.url, sandbox.token)

        async def run() -> dict[str, list[tuple[str, float]]]:
            shown: dict[str, list[tuple[str, float]]] = {name: [] for name in names}
            widgets = []
            offsets = sorted(rng.uniform(0, session.settings.poll_interval) for _ in names)
            async with AsyncBentoCloudClient(sandbox.url, sandbox.token) as client:
                started = time.perf_counter()
                for name, offset in zip(names, offsets, strict=True):
                    await asyncio.sleep(max(0.0, started + offset - time.perf_counter()))
                    await client.create_deployment(deployment_body(name))
                    widget = DeploymentStatus(name, context=name)

                    def on_value(_: Any, widget: Any = widget, name: str = name) -> None:
                        status = widget.state.status
                        if not shown[name] or shown[name][-1][0] != status:
                            shown[name].append((status, time.time()))  # the sandbox's clock is time.time

                    on_value(None)
                    widget.html.observe(on_value, names="value")
                    widgets.append(widget)
                await asyncio.wait_for(asyncio.gather(*(w.done for w in widgets)), timeout=60)
            for hub in session.hubs():
                await hub.close()
            return shown

        shown = asyncio.run(run())
        latencies: list[float] = []
        changes = skipped = 0
        for name in names:
            history = sandbox.history(name)
            seen = [(s, t) for s, t in shown[name] if s != "unknown"]
            changes += len(history) - 1
            # Walk the sandbox's history: each status shown after the first one is matched with the moment
            # the sandbox entered it; statuses in between that the widget never showed were skipped.
            position = next(i for i, (s, _) in enumerate(history) if s == seen[0][0])
            for status, at in seen[1:]:
                nxt = next(i for i in range(position + 1, len(history)) if history[i][0] == status)
                skipped += nxt - position - 1
                latencies.append(at - history[nxt][1])
                position = nxt
        return {"ours": latencies, "changes": changes, "skipped": skipped}
    finally:
        sandbox.stop()


def run(samples: int, bentoml_samples: int, seed: int) -> str:
    isolate_env()
    loopback_only()
    rng = random.Random(seed)
    started = time.perf_counter()
    steady_result = steady(samples, bentoml_samples, rng)
    rollout_result = rollout(samples, rng)
    elapsed = time.perf_counter() - started

    from bentocloud_jupyter.core.rest import session

    poll = session.settings.poll_interval
    rows = [
        [f"ours: `DeploymentStatus` widget, steady (poll interval {poll:g} s)", len(steady_result["ours"]),
         *fmt(steady_result["ours"])],
        [f"bentoml: `Deployment.wait_until_ready()` (check_interval {BENTOML_CHECK_INTERVAL:g} s)",
         len(steady_result["bentoml"]), *fmt(steady_result["bentoml"])],
        ["ours: `DeploymentStatus` widget, during a rollout (speed=1)", len(rollout_result["ours"]),
         *fmt(rollout_result["ours"])],
    ]
    ratio = median(steady_result["bentoml"]) / median(steady_result["ours"])
    return "\n".join([
        "### Status latency: sandbox status change -> visible change (default settings)",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, ipywidgets {package_version('ipywidgets')}",
        "",
        table(["watcher", "samples", "median (s)", "p95 (s)", "min (s)", "max (s)"], rows),
        "",
        f"Steady: one status flip (fake store clock jumped to `running`) seen by {samples} widgets in separate "
        f"hubs and {bentoml_samples} `wait_until_ready` threads, all idle for >= {SETTLE:g} s before it. "
        f"Rollout: {samples} deployments, {rollout_result['changes']} sandbox status changes, of which "
        f"{rollout_result['skipped']} fell between two polls and were never shown (not in the latencies). "
        f"bentoml ÷ ours (steady, median): {ratio:.1f}x. Seed {seed}; took {elapsed:.0f} s.",
    ])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=20, help="our widgets per phase (default 20)")
    parser.add_argument("--bentoml-samples", type=int, default=10,
                        help="bentoml wait_until_ready threads (default 10)")
    parser.add_argument("--seed", type=int, default=1, help="seed for the staggered start times")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.bentoml_samples < 1:
        parser.error("--samples and --bentoml-samples must be >= 1")
    text = run(args.samples, args.bentoml_samples, args.seed)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
