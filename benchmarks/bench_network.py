"""Push and pull over a modelled network (bandwidth and round trip per connection): ours vs ``bentoml``.

One model of SIZE MiB of random bytes is created with the real bentoml (as in ``bench_push.py``). A
sandbox runs as its own process in ``multipart`` mode (what BentoCloud answers: ``presigned_url``)
with the network model on: ``storage_bandwidth`` 50 MB/s per connection and ``storage_rtt`` 50 ms
before each storage response (``POST /_sandbox/faults``). Then, in one run:

* push: ours (``transfer.push(..., force=True)`` in a fresh interpreter) and ``bentoml models push
  --force``; each checked on the sandbox (``upload_status == success``);
* pull: ours (``transfer.pull``) and ``bentoml models pull``, each into its own empty BENTOML_HOME,
  the pulled weights checked byte for byte (sha256) against the original;
* resume: ours pushed again with a progress callback raising KeyboardInterrupt at 60 %, then pushed
  once more; the bytes each child handed to the storage URLs are counted in the child.

Wall time and peak RSS (``ru_maxrss`` from ``os.wait4``) are the whole child process; "idle" is the RSS
of our child just before the call (for bentoml: the peak of a no-op ``bentoml models push`` of the
model already there). All traffic stays on 127.0.0.1; HOME / BENTOML_HOME / TMPDIR are a temp dir
deleted at the end; ``BENTOML_DO_NOT_TRACK=True``.

Push and pull run ``--runs`` times per tool (default 2), the order alternating and ``os.sync()`` before
each, and the medians are reported (this machine's disk and 2 shared cores make single runs noisy).

Usage: python benchmarks/bench_network.py [--size 2048] [--runs 2] [--bandwidth 50000000] [--rtt 0.05]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from _common import isolate_env, loopback_only, machine, median, package_version, table
from bench_push import MODEL, SandboxProcess, run_measured, verify

MIB = 1024 * 1024
TOOLS = ("ours", "bentoml")
HERE = Path(__file__).resolve().parent


def vmrss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------------------------------------- children
def child(action: str, url: str, token: str, tag: str, home: str) -> None:
    """Push, pull or interrupted push with our client; print seconds, memory and bytes sent as JSON."""
    import resource

    loopback_only()
    from bentocloud_jupyter.core.artifacts.progress import NoProgress
    from bentocloud_jupyter.core.artifacts.store import LocalStore
    from bentocloud_jupyter.core.artifacts.transfer import pull, push
    from bentocloud_jupyter.core.rest.client import BentoCloudClient

    client = BentoCloudClient(url, token)
    sent = [0]
    real_put = client.storage_put

    def counting_put(target: str, chunks: Any, size: int) -> str:
        def counted() -> Any:
            for chunk in chunks:
                sent[0] += len(chunk)
                yield chunk
        return real_put(target, counted(), size)

    client.storage_put = counting_put  # type: ignore[method-assign]

    class StopAt60(NoProgress):
        total = 0
        done = 0

        def start(self, label: str, total: int) -> None:
            self.total = total

        def advance(self, label: str, nbytes: int) -> None:
            self.done += nbytes
            if self.total and self.done >= 0.6 * self.total:
                raise KeyboardInterrupt

    store = LocalStore(Path(home))
    rss_before = vmrss_kib()
    started = time.perf_counter()
    interrupted = False
    if action == "pull":
        pull(client, tag, kind="model", store=store)
    else:
        try:
            push(client, tag, kind="model", store=store, force=action in ("push", "interrupt"),
                 progress=StopAt60() if action == "interrupt" else None)
        except KeyboardInterrupt:
            interrupted = True
    elapsed = time.perf_counter() - started
    client.close()
    print(json.dumps({"s": elapsed, "rss_before_kib": rss_before, "sent": sent[0], "interrupted": interrupted,
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


# ------------------------------------------------------------------------------------------- parent side
def weights_digest(home: Path, version: str) -> str:
    digest = hashlib.sha256()
    with open(home / "models" / MODEL / version / "weights.bin", "rb") as handle:
        while block := handle.read(8 * MIB):
            digest.update(block)
    return digest.hexdigest()


class Run:
    def __init__(self, home: str, logs: Path) -> None:
        self.home, self.logs, self.count = home, logs, 0
        self.tmpdir = Path(home) / "tmp-sys"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, TMPDIR=str(self.tmpdir), PYTHONUNBUFFERED="1")
        self.bentoml = str(Path(sys.executable).with_name("bentoml"))

    def ours(self, action: str, sandbox: SandboxProcess, tag: str, store: str) -> tuple[float, int, dict[str, Any]]:
        self.count += 1
        argv = [sys.executable, __file__, "--_child", action, "--url", sandbox.url, "--token", sandbox.token,
                "--tag", tag, "--home", store]
        wall, peak, _, out = run_measured(argv, self.env, self.home, self.logs, f"{self.count:02d}-ours-{action}")
        return wall, peak, json.loads(out.strip().splitlines()[-1])

    def bentoml_cli(self, args: list[str], sandbox: SandboxProcess, store: str) -> tuple[float, int]:
        self.count += 1
        env = dict(self.env, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
                   BENTOML_HOME=store)
        wall, peak, _, _ = run_measured([self.bentoml, "models", *args], env, self.home, self.logs,
                                        f"{self.count:02d}-bentoml-{args[0]}")
        return wall, peak


def measure(size_mb: int, bandwidth: float, rtt: float, runs: int) -> dict[str, Any]:
    home = isolate_env()
    logs = Path(home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    run, store = Run(home, logs), os.environ["BENTOML_HOME"]
    _, _, _, out = run_measured([sys.executable, str(HERE / "bench_push.py"), "--_child", "create", "--size-mb",
                                 str(size_mb)], run.env, home, logs, "create")
    tag = json.loads(out.strip().splitlines()[-1])["tag"]
    version = tag.split(":", 1)[1]
    original = weights_digest(Path(store), version)
    results: dict[str, Any] = {"tag": tag}
    sandbox = SandboxProcess("multipart", run.env, home, logs)
    try:
        sandbox.http.post("/_sandbox/faults", json={"storage_bandwidth": bandwidth, "storage_rtt": rtt}
                          ).raise_for_status()
        for run_index in range(runs):  # order alternates: neither tool always meets a cold (or warm) disk
            for tool in TOOLS if run_index % 2 == 0 else TOOLS[::-1]:
                os.sync()
                started = time.time()
                if tool == "ours":
                    results.setdefault("push ours", []).append(run.ours("push", sandbox, tag, store))
                else:
                    results.setdefault("push bentoml", []).append(
                        (*run.bentoml_cli(["push", tag, "--force"], sandbox, store), {}))
                verify(sandbox, version, started, run.tmpdir, size_mb * MIB)
        results["idle bentoml"] = run.bentoml_cli(["push", tag], sandbox, store)  # already there: nothing sent
        for run_index in range(runs):
            for tool in TOOLS if run_index % 2 == 0 else TOOLS[::-1]:
                os.sync()
                target = Path(home) / f"pulled-{tool}"
                if tool == "ours":
                    results.setdefault(f"pull {tool}", []).append(run.ours("pull", sandbox, tag, str(target)))
                else:
                    results.setdefault(f"pull {tool}", []).append(
                        (*run.bentoml_cli(["pull", tag], sandbox, str(target)), {}))
                if weights_digest(target, version) != original:
                    raise RuntimeError(f"{tool} pulled other bytes than were pushed")
                shutil.rmtree(target, ignore_errors=True)
        results["interrupt"] = run.ours("interrupt", sandbox, tag, store)
        if not results["interrupt"][2]["interrupted"]:
            raise RuntimeError("the interrupted push was not interrupted")
        started = time.time()
        results["resume"] = run.ours("resume", sandbox, tag, store)
        verify(sandbox, version, started, run.tmpdir, size_mb * MIB)
    finally:
        sandbox.stop()
    return results


def report(results: dict[str, Any], size_mb: int, bandwidth: float, rtt: float) -> str:
    idle_bentoml = results["idle bentoml"][1] / 1024
    rows, walls = [], {}
    for step in ("push", "pull"):
        for tool in TOOLS:
            runs = results[f"{step} {tool}"]
            wall = median([r[0] for r in runs])
            peak = median([r[1] for r in runs]) / 1024
            idle = median([r[2]["rss_before_kib"] for r in runs]) / 1024 if tool == "ours" else idle_bentoml
            walls[(step, tool)] = wall
            rows.append([step, tool, len(runs), f"{wall:.1f}", " / ".join(f"{r[0]:.1f}" for r in runs),
                         f"{size_mb / wall:.0f}", f"{peak:.0f}", f"{peak - idle:+.0f}"])
    first, second = results["interrupt"][2]["sent"], results["resume"][2]["sent"]
    size = size_mb * MIB
    ratio = {s: walls[(s, "bentoml")] / walls[(s, "ours")] for s in ("push", "pull")}
    return "\n".join([
        f"### Push and pull of a {size_mb} MiB model at {bandwidth / 1e6:g} MB/s per connection, "
        f"{rtt * 1000:g} ms round trip",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, httpx {package_version('httpx')}",
        "",
        table(["step", "tool", "runs", "median wall (s)", "each run (s)", "MiB/s", "peak RSS (MiB)",
               "Δ vs idle (MiB)"], rows, "llrrrrrr"),
        "",
        "Medians of the runs (order alternating, `os.sync()` before each). "
        f"bentoml ÷ ours (wall): push {ratio['push']:.2f}x, pull {ratio['pull']:.2f}x. Interrupted at 60 % and "
        f"pushed again (ours): {first / MIB:.0f} MiB sent before the interrupt, {second / MIB:.0f} MiB on resume, "
        f"{(first + second) / MIB:.0f} MiB in total for a {size / MIB:.0f} MiB archive "
        f"({(first + second) / size:.2f}x; bentoml has no resume: {1.6:.1f}x at best, all of it sent again). "
        "Idle = our child's RSS just before the call; for bentoml the peak of a no-op `bentoml models push` "
        "(model already there). Pulls were checked by sha256 of the weights; pushes on the sandbox.",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", type=int, default=2048, help="model size in MiB (default %(default)s)")
    parser.add_argument("--bandwidth", type=float, default=50e6, help="bytes/s per connection (default 50 MB/s)")
    parser.add_argument("--rtt", type=float, default=0.05, help="seconds per storage response (default 0.05)")
    parser.add_argument("--runs", type=int, default=2, help="push and pull runs per tool (default %(default)s)")
    parser.add_argument("--_child", choices=["push", "pull", "interrupt", "resume"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        child(args._child, args.url, args.token, args.tag, args.home)
        return
    if args.size < 1 or args.runs < 1:
        parser.error("--size and --runs must be >= 1")
    loopback_only()
    home = isolate_env()
    free = shutil.disk_usage(home).free
    if free < 7 * args.size * MIB:
        raise SystemExit(f"need about {7 * args.size} MiB free in {home}, have {free // MIB} MiB")
    try:
        results = measure(args.size, args.bandwidth, args.rtt, args.runs)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(report(results, args.size, args.bandwidth, args.rtt), flush=True)


if __name__ == "__main__":
    main()
