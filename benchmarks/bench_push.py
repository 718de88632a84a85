"""Push throughput and peak memory of a big model: our ``core.transfer.push`` vs ``bentoml models push``.

One model of SIZE MiB of random bytes (``os.urandom``, 1 MiB chunks) is created with the real bentoml
(``bentoml.models.create("big_model")``) in a temporary BENTOML_HOME, so both tools push the very
same store entry. For each transfer mode (``proxy``, ``presigned`` single PUT, ``multipart``) a
sandbox runs as its own process (``python -m bentocloud_jupyter.sandbox --transfer-mode MODE``), so
the server's work never counts against a pusher's memory. Then, RUNS times per tool (order
alternating):

* ours: a fresh interpreter running ``bentocloud_jupyter.core.artifacts.transfer.push(client, "big_model:<v>",
  kind="model", store=LocalStore(home), force=True)``; it prints the time of the ``push()`` call, its
  RSS just before it (``VmRSS``) and its peak RSS at the end (``ru_maxrss``);
* bentoml: ``bentoml models push big_model:<v> --force`` (``bentoml push`` is for bentos) with
  ``BENTO_CLOUD_API_KEY`` / ``BENTO_CLOUD_API_ENDPOINT`` pointing at the sandbox.

For both, the parent times the whole process and reads its peak RSS from ``os.wait4`` (the kernel's
``ru_maxrss`` of that child). After every push the sandbox must report ``upload_status == success``
with an ``upload_finished_at`` after the push started, and hold an archive at least SIZE MiB big that
was written during the push. Each tool also pushes once without ``--force`` (the model is already
there, so nothing is sent): that "no-op" process's peak RSS and wall time are the tool's start-up
baseline, and "Δ peak" is a push's peak minus it. Medians are reported; runs are cut short (and the
report says so) when the time budget would be exceeded.

All traffic stays on 127.0.0.1; HOME / BENTOML_HOME / TMPDIR are a temp dir (model, archives, the
sandboxes' blobs) deleted at the end; ``BENTOML_DO_NOT_TRACK=True``.

Usage: python benchmarks/bench_push.py [--size-mb 500] [--runs 3] [--modes proxy,presigned,multipart]
       [--budget 300]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _common import isolate_env, loopback_only, machine, median, package_version, table

MODEL = "big_model"
MODES = ("proxy", "presigned", "multipart")
MIB = 1024 * 1024
TOOLS = ("ours", "bentoml")
LABELS = {"ours": "ours: `transfer.push(..., force=True)`", "bentoml": "bentoml: `bentoml models push --force`"}


# ------------------------------------------------------------------------------------------- children
def child_create(size_mb: int) -> None:
    """Create ``big_model`` with the real bentoml, SIZE MiB of random bytes in ``model.path``."""
    import bentoml

    with bentoml.models.create(MODEL) as model, open(os.path.join(model.path, "weights.bin"), "wb") as handle:
        for _ in range(size_mb):
            handle.write(os.urandom(MIB))
    print(json.dumps({"tag": str(model.tag)}))


def _vmrss_kib() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child_ours(url: str, token: str, tag: str, home: str, force: bool) -> None:
    """Push with our client in this (fresh) interpreter; print timings and memory as JSON."""
    import resource

    loopback_only()
    from bentocloud_jupyter.core.artifacts.store import LocalStore
    from bentocloud_jupyter.core.artifacts.transfer import push
    from bentocloud_jupyter.core.rest.client import BentoCloudClient

    client = BentoCloudClient(url, token)
    store = LocalStore(Path(home))
    rss_before = _vmrss_kib()
    maxrss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = push(client, tag, kind="model", store=store, force=force)
    elapsed = time.perf_counter() - started
    client.close()
    print(json.dumps({"push_s": elapsed, "rss_before_kib": rss_before, "maxrss_before_kib": maxrss_before,
                      "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "mode": result.mode,
                      "size": result.size}))


# ------------------------------------------------------------------------------------------- parent side
def run_measured(argv: list[str], env: dict[str, str], cwd: str, logs: Path, name: str
                 ) -> tuple[float, int, float, str]:
    """Run a child: (wall s, peak RSS KiB and CPU s from wait4, stdout); output goes to files, not pipes."""
    out_path, err_path = logs / f"{name}.out", logs / f"{name}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = out_path.read_text(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed (exit {proc.returncode}):\n{stdout[-3000:]}\n"
                           f"{err_path.read_text(errors='replace')[-3000:]}")
    return elapsed, int(usage.ru_maxrss), usage.ru_utime + usage.ru_stime, stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SandboxProcess:
    """``python -m bentocloud_jupyter.sandbox`` in its own process, blobs under this run's TMPDIR."""

    def __init__(self, mode: str, env: dict[str, str], cwd: str, logs: Path) -> None:
        self.mode, self.token, self.port = mode, "sbx_bench_" + secrets.token_hex(8), free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = logs / f"sandbox-{mode}.log"
        self._log = open(self.log, "wb")  # noqa: SIM115 (closed in stop())
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bentocloud_jupyter.sandbox", "--port", str(self.port), "--token", self.token,
             "--transfer-mode", mode], stdout=self._log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        self.peak_kib = 0
        deadline = time.monotonic() + 30
        while "listening on" not in self.log.read_text(errors="replace"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the sandbox did not start:\n{self.log.read_text(errors='replace')}")
            time.sleep(0.05)
        import httpx

        self.http = httpx.Client(base_url=self.url, headers={"X-YATAI-API-TOKEN": self.token}, trust_env=False,
                                 timeout=30)
        config = self.http.get("/_sandbox/config").json()
        if config.get("transfer_mode") != mode:
            raise RuntimeError(f"sandbox transfer_mode is {config!r}, wanted {mode!r}")

    def cpu_s(self) -> float:
        """User + system CPU seconds the sandbox process has used so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def model(self, version: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/model_repositories/{MODEL}/models/{version}")
        response.raise_for_status()
        return dict(response.json())

    def stop(self) -> None:
        if getattr(self, "http", None) is not None:
            self.http.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, _, usage = os.wait4(self.proc.pid, 0)  # the sandbox deletes its blobs on SIGTERM
            self.peak_kib = int(usage.ru_maxrss)
            self.proc.returncode = 0
        except ChildProcessError:
            pass
        self._log.close()


def _epoch(value: Any) -> float:
    if not value:
        return 0.0
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()


def verify(sandbox: SandboxProcess, version: str, started_epoch: float, tmpdir: Path, size: int) -> None:
    """The sandbox holds the model, upload_status success, finished after the push started, bytes stored."""
    record = sandbox.model(version)
    if record.get("upload_status") != "success":
        raise RuntimeError(f"{sandbox.mode}: upload_status is {record.get('upload_status')!r} "
                           f"({record.get('upload_finished_reason')!r})")
    if _epoch(record.get("upload_finished_at")) < started_epoch - 1:  # the sandbox's iso() keeps whole seconds
        raise RuntimeError(f"{sandbox.mode}: upload_finished_at {record.get('upload_finished_at')} predates the push")
    archives = list(tmpdir.glob("bentocloud-sandbox-blobs-*/*/archive.tar"))
    fresh = [a for a in archives if a.stat().st_mtime >= started_epoch - 1 and a.stat().st_size >= size]
    if not fresh:
        raise RuntimeError(f"{sandbox.mode}: no archive of >= {size} bytes written during the push: "
                           f"{[(str(a), a.stat().st_size) for a in archives]}")


@dataclass
class Row:
    wall_s: list[float] = field(default_factory=list)
    peak_kib: list[int] = field(default_factory=list)
    push_s: list[float] = field(default_factory=list)  # ours only: the push() call
    delta_before_kib: list[int] = field(default_factory=list)  # ours only: ru_maxrss - VmRSS before push()
    cpu_s: list[float] = field(default_factory=list)  # the pusher process
    sandbox_cpu_s: list[float] = field(default_factory=list)  # the sandbox process, during that push
    modes_seen: set[str] = field(default_factory=set)
    noop_wall_s: float = 0.0
    noop_peak_kib: int = 0


class Bench:
    def __init__(self, size_mb: int, home: str, logs: Path) -> None:
        self.size_mb, self.home, self.logs = size_mb, home, logs
        self.tmpdir = Path(home) / "tmp-sys"
        self.tmpdir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, TMPDIR=str(self.tmpdir), PYTHONUNBUFFERED="1")
        self.bentoml = str(Path(sys.executable).with_name("bentoml"))
        self.count = 0
        self.tag = ""

    def create_model(self) -> str:
        _, _, _, out = run_measured([sys.executable, __file__, "--_child", "create", "--size-mb", str(self.size_mb)],
                                 self.env, self.home, self.logs, "create")
        self.tag = json.loads(out.strip().splitlines()[-1])["tag"]
        return self.tag

    def push(self, tool: str, sandbox: SandboxProcess, force: bool = True
             ) -> tuple[float, int, float, float, dict[str, Any]]:
        self.count += 1
        name = f"{self.count:02d}-{sandbox.mode}-{tool}"
        if tool == "ours":
            argv = [sys.executable, __file__, "--_child", "ours", "--url", sandbox.url, "--token", sandbox.token,
                    "--tag", self.tag, "--home", os.environ["BENTOML_HOME"]] + (["--force"] if force else [])
            env = self.env
        else:
            argv = [self.bentoml, "models", "push", self.tag] + (["--force"] if force else [])
            env = dict(self.env, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url)
        server_cpu = sandbox.cpu_s()
        wall, peak, cpu, out = run_measured(argv, env, self.home, self.logs, name)
        server_cpu = sandbox.cpu_s() - server_cpu
        info = json.loads(out.strip().splitlines()[-1]) if tool == "ours" else {}
        return wall, peak, cpu, server_cpu, info


def measure(size_mb: int, runs: int, modes: list[str], budget: float
            ) -> tuple[dict[tuple[str, str], Row], dict[str, Any]]:
    home = isolate_env()
    logs = Path(home) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    bench = Bench(size_mb, home, logs)
    meta: dict[str, Any] = {"sandbox_peak_kib": {}, "short": []}
    started = time.perf_counter()
    create_s = time.perf_counter()
    bench.create_model()
    meta["create_s"] = time.perf_counter() - create_s
    version = bench.tag.split(":", 1)[1]
    size = size_mb * MIB
    rows = {(m, t): Row() for m in modes for t in TOOLS}
    deadline = started + budget
    for index, mode in enumerate(modes):
        sandbox = SandboxProcess(mode, bench.env, home, logs)
        mode_started = time.perf_counter()
        try:
            pair_times: list[float] = []
            for run in range(runs):
                if run > 0:  # keep the whole benchmark within its budget: one pair per mode at least
                    left_modes = len(modes) - index - 1
                    mode_share = (deadline - mode_started) / (left_modes + 1)
                    if time.perf_counter() - mode_started + median(pair_times) > mode_share:
                        meta["short"].append((mode, run))
                        break
                pair_started = time.perf_counter()
                for tool in (TOOLS if run % 2 == 0 else TOOLS[::-1]):
                    row = rows[(mode, tool)]
                    push_started = time.time()
                    wall, peak, cpu, server_cpu, info = bench.push(tool, sandbox)
                    verify(sandbox, version, push_started, bench.tmpdir, size)
                    row.wall_s.append(wall)
                    row.peak_kib.append(peak)
                    row.cpu_s.append(cpu)
                    row.sandbox_cpu_s.append(server_cpu)
                    if info:
                        row.push_s.append(info["push_s"])
                        row.delta_before_kib.append(info["maxrss_kib"] - info["rss_before_kib"])
                        row.modes_seen.add(info["mode"])
                pair_times.append(time.perf_counter() - pair_started)
            for tool in TOOLS:  # already uploaded: nothing is sent, the tool's start-up + a few requests
                wall, peak, _, _, info = bench.push(tool, sandbox, force=False)
                if info and info["mode"] != "skipped":
                    raise RuntimeError(f"no-op push was not skipped: {info}")
                rows[(mode, tool)].noop_wall_s, rows[(mode, tool)].noop_peak_kib = wall, peak
                if sandbox.model(version).get("upload_status") != "success":
                    raise RuntimeError("the no-op push changed the upload status")
        finally:
            sandbox.stop()
        meta["sandbox_peak_kib"][mode] = sandbox.peak_kib
        leftovers = list(bench.tmpdir.glob("bentocloud-sandbox-blobs-*"))
        for path in leftovers:  # the sandbox removes them on SIGTERM; be sure anyway (500 MB each)
            shutil.rmtree(path, ignore_errors=True)
    meta["total_s"] = time.perf_counter() - started
    meta["tag"] = bench.tag
    return rows, meta


def report(rows: dict[tuple[str, str], Row], meta: dict[str, Any], size_mb: int, runs: int) -> str:
    table_rows = []
    for (mode, tool), row in rows.items():
        if not row.wall_s:
            continue
        wall = median(row.wall_s)
        peak = median(row.peak_kib) / 1024
        table_rows.append([
            mode, LABELS[tool], len(row.wall_s), f"{wall:.2f}", f"{size_mb / wall:.0f}",
            f"{size_mb / median(row.push_s):.0f}" if row.push_s else "—",
            f"{peak:.0f}", f"{peak - row.noop_peak_kib / 1024:+.0f}",
            f"{median(row.delta_before_kib) / 1024:+.0f}" if row.delta_before_kib else "—",
            f"{row.noop_wall_s:.2f} / {row.noop_peak_kib / 1024:.0f}",
            f"{median(row.cpu_s):.1f} / {median(row.sandbox_cpu_s):.1f}",
        ])
    headers = ["mode", "pusher", "runs", "wall (s)", "MiB/s (wall)", "MiB/s (push() call)", "peak RSS (MiB)",
               "Δ peak vs no-op (MiB)", "Δ vs RSS before push() (MiB)", "no-op push: wall (s) / peak (MiB)",
               "CPU (s): pusher / sandbox"]
    lines = [
        f"### Pushing a {size_mb} MiB model to the sandbox (median of {runs} runs per mode and pusher)",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, httpx {package_version('httpx')}, "
        f"uvicorn {package_version('uvicorn')}",
        "",
        table(headers, table_rows, "llrrrrrrrrr"),
        "",
    ]
    ratios = []
    for mode in dict.fromkeys(m for m, _ in rows):
        ours, theirs = rows[(mode, "ours")], rows[(mode, "bentoml")]
        if ours.wall_s and theirs.wall_s:
            ratios.append(f"{mode}: {median(theirs.wall_s) / median(ours.wall_s):.2f}x wall, "
                          f"peak {median(theirs.peak_kib) / median(ours.peak_kib):.1f}x")
    modes = list(dict.fromkeys(m for m, _ in rows))
    mismatched = {m: sorted(rows[(m, "ours")].modes_seen) for m in modes if rows[(m, "ours")].modes_seen != {m}}
    seen = (f"Our client did NOT use the advertised mode: {mismatched}." if mismatched else
            "Our client used the mode each sandbox advertised (its `PushResult.mode`).")
    sandbox = ", ".join(f"{m} {kib / 1024:.0f} MiB" for m, kib in meta["sandbox_peak_kib"].items())
    short = "; ".join(f"{m}: {n} run(s) instead of {runs} (time budget)" for m, n in meta["short"])
    lines.append(
        f"Model `{meta['tag']}` ({size_mb} MiB of `os.urandom`, created once with `bentoml.models.create` in "
        f"{meta['create_s']:.0f} s); MiB/s = model size ÷ median time. Wall = the whole pusher process (interpreter "
        "start, imports, tar archive of the model, requests, upload); \"push() call\" leaves out our start-up and "
        "imports. Peak RSS = `ru_maxrss` of the pusher process from `os.wait4`; the no-op push (already uploaded, "
        "no `--force`: nothing sent) is each tool's baseline. Every push was checked on the sandbox "
        "(`upload_status == success`, finished after it started, a fresh archive of the full size). "
        f"{seen} CPU = user + system seconds of the pusher process (`wait4`) and of the sandbox during that push. "
        f"Sandbox (separate process) peak RSS: {sandbox}. "
        f"bentoml ÷ ours: {'; '.join(ratios)}.{(' Cut short: ' + short + '.') if short else ''} "
        f"Took {meta['total_s']:.0f} s."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=500, help="model size in MiB (default %(default)s)")
    parser.add_argument("--runs", type=int, default=3, help="pushes per mode and pusher (default %(default)s)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated transfer modes (default: all)")
    parser.add_argument("--budget", type=float, default=300.0,
                        help="seconds for all pushes; later runs are skipped beyond it (default %(default)s)")
    parser.add_argument("--_child", choices=["create", "ours"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--tag", help=argparse.SUPPRESS)
    parser.add_argument("--home", help=argparse.SUPPRESS)
    parser.add_argument("--force", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child == "create":
        child_create(args.size_mb)
        return
    if args._child == "ours":
        child_ours(args.url, args.token, args.tag, args.home, args.force)
        return
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes must be a subset of {','.join(MODES)}")
    if args.size_mb < 1 or args.runs < 1:
        parser.error("--size-mb and --runs must be >= 1")
    loopback_only()
    home = isolate_env()
    free = shutil.disk_usage(home).free
    if free < 6 * args.size_mb * MIB:
        raise SystemExit(f"need about {6 * args.size_mb} MiB free in {home}, have {free // MIB} MiB")
    try:
        rows, meta = measure(args.size_mb, args.runs, modes, args.budget)
    finally:
        shutil.rmtree(home, ignore_errors=True)  # the model, archives, logs (atexit does it too)
    print(report(rows, meta, args.size_mb, args.runs), flush=True)


if __name__ == "__main__":
    main()
