"""Round trip of a trivial cell in a real IPython kernel, with 0 and with 10 live deployment watchers.

Needs a venv with this project plus ``jupyter_client`` and ``ipykernel`` (e.g. /work/main/.venv; no
bentoml needed). The script starts the sandbox in this process (127.0.0.1) with a slow lifecycle
(``speed=0.1``: ``deploying`` 5 s, ``image-building`` 20 s, ``deploying`` 10 s, ``running`` at 35 s),
logs in to it as context ``sbx`` (in a temporary HOME / BENTOML_HOME that the kernel inherits), and
starts a kernel of this same interpreter through ``jupyter_client.KernelManager``.

1. ``%load_ext bentocloud_jupyter``, WARMUP executions, then SAMPLES executions of ``1+1``
   (``client.execute_interactive``, timed from the request to the reply, GAP s apart): no watchers.
2. In the same kernel, ten ``%deploy summarizer -n rt-<i>`` (each displays a live status widget and
   is watched by the context's ``WatchHub`` on the kernel's event loop), the same WARMUP + SAMPLES
   executions of ``1+1``. The samples span the first ``deploying`` -> ``image-building`` change (the
   hub polls every 1 s after a change, then backs off to 5 s, and each change updates ten widgets).
   ``live.watched()`` is checked to report 10 before and after the samples; the sandbox's request
   counter shows how many polls happened during them.
3. In the same kernel, a ``bc.map`` of MAP_CALLS calls at concurrency 16 against a second, fast sandbox
   (context ``fast``; latency model 10 ms + up to 5 ms jitter, 4 calls per replica) runs on the kernel's loop
   while the same ``1+1`` samples are taken; the map's progress is read before and after.

The kernel and the sandbox share this machine's CPUs; compare the two rows with each other.

Usage: python benchmarks/bench_kernel_roundtrip.py [--samples N] [--gap S]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from _common import isolate_env, loopback_only, machine, median, p95, package_version, table

WARMUP = 5
WATCHERS = 10
SPEED = 0.1
MAP_CALLS = 3000


def execute(client: Any, code: str, timeout: float = 60) -> tuple[float, str]:
    """Run ``code``; (seconds from request to reply, its stdout)."""
    out: list[str] = []

    def hook(message: dict[str, Any]) -> None:
        if message["msg_type"] == "stream":
            out.append(message["content"].get("text", ""))

    started = time.perf_counter()
    reply = client.execute_interactive(code, timeout=timeout, output_hook=hook)
    elapsed = time.perf_counter() - started
    if reply["content"]["status"] != "ok":
        raise SystemExit(f"cell failed: {code!r}: {reply['content'].get('ename')}: {reply['content'].get('evalue')}")
    return elapsed, "".join(out)


def sample(client: Any, count: int, gap: float) -> list[float]:
    for _ in range(WARMUP):
        execute(client, "1+1")
    values = []
    for _ in range(count):
        time.sleep(gap)
        values.append(execute(client, "1+1")[0])
    return values


def sample_while_mapping(client: Any, fast: Any, count: int, gap: float) -> tuple[list[float], str]:
    """``1+1`` samples while a ``bc.map`` runs on the kernel's loop; (samples, its progress before/after)."""
    execute(client, "%deploy summarizer -n mapper --wait --context fast", timeout=120)
    execute(client, "import bentocloud_jupyter as bc\n"
                    f"handle = bc.map('mapper', 'summarize', [{{'text': 'One. Two.'}}] * {MAP_CALLS}, "
                    "concurrency=16, context='fast')")
    _, before = execute(client, "print(handle.progress.line())")
    values = sample(client, count, gap)
    _, after = execute(client, "print(handle.progress.line())")
    return values, f"`{before.strip()}` at the first sample, `{after.strip()}` after the last"


def run(count: int, gap: float) -> str:
    home = isolate_env()
    loopback_only()
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    from bentocloud_jupyter.core.credentials import auth, config
    from bentocloud_jupyter.sandbox import Sandbox

    kernels = Path(home) / "kernels"
    spec = kernels / "bcj-bench"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bcj bench", "language": "python"}))
    started_all = time.perf_counter()
    with Sandbox(speed=SPEED) as sandbox, Sandbox(speed=50) as fast:
        fast.latency.set(seed=7, base=0.01, jitter=0.005, per_replica=4)
        auth.login(fast.url, fast.token, "fast")
        auth.login(sandbox.url, sandbox.token, "sbx")
        config.set_current_context("sbx")
        manager = KernelManager(kernel_name="bcj-bench", kernel_spec_manager=KernelSpecManager(
            kernel_dirs=[str(kernels)]))
        manager.start_kernel(cwd=home, env=dict(os.environ))
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=60)
            execute(client, "%load_ext bentocloud_jupyter")
            idle = sample(client, count, gap)

            execute(client, f"views = [get_ipython().run_line_magic('deploy', f'summarizer -n rt-{{i}}') "
                            f"for i in range({WATCHERS})]\nfor v in views: display(v)")
            _, before = execute(client, "from bentocloud_jupyter.ipython import present as live\n"
                                        "print(len(live.watched()))")
            sandbox.reset_stats()
            window_started = time.perf_counter()
            busy = sample(client, count, gap)
            window = time.perf_counter() - window_started
            polls = sandbox.stats()["total"]
            _, after = execute(client, "print(len(live.watched()), sorted({v.state.status for v in views}))")
            mapping, map_note = sample_while_mapping(client, fast, count, gap)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    elapsed = time.perf_counter() - started_all

    rows = [["0 watchers", len(idle), f"{median(idle) * 1e3:.2f}", f"{p95(idle) * 1e3:.2f}",
             f"{max(idle) * 1e3:.2f}"],
            [f"{WATCHERS} active watchers (`%deploy` x{WATCHERS}, one hub)", len(busy),
             f"{median(busy) * 1e3:.2f}", f"{p95(busy) * 1e3:.2f}", f"{max(busy) * 1e3:.2f}"],
            [f"`bc.map` of {MAP_CALLS} calls at concurrency 16 running", len(mapping),
             f"{median(mapping) * 1e3:.2f}", f"{p95(mapping) * 1e3:.2f}", f"{max(mapping) * 1e3:.2f}"]]
    return "\n".join([
        "### Kernel round trip of `1+1` (jupyter_client -> ipykernel -> reply)",
        "",
        f"{machine()}; ipykernel {package_version('ipykernel')}, jupyter_client "
        f"{package_version('jupyter_client')}, ipywidgets {package_version('ipywidgets')}",
        "",
        table(["kernel state", "samples", "median (ms)", "p95 (ms)", "max (ms)"], rows),
        "",
        f"{WARMUP} warm-up executions per row, then one `1+1` every {gap:g} s. Watched deployments: "
        f"{before.strip()} before the samples, `{after.strip()}` (count, statuses) after; the hub made "
        f"{polls} requests to the sandbox during the {window:.1f} s of samples. While mapping: {map_note}. "
        f"Took {elapsed:.0f} s.",
    ])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--gap", type=float, default=0.3, help="seconds between two samples")
    args = parser.parse_args(argv)
    if args.samples < 1 or args.gap < 0:
        parser.error("--samples must be >= 1 and --gap >= 0")
    text = run(args.samples, args.gap)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
