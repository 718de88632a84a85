"""Run every benchmark, each in its own interpreter, and print one markdown report.

Usage: python benchmarks/run_all.py [--write-readme] [--kernel-python PATH] [--push-size-mb N | --skip-push]
       [--network-size-mb N | --skip-network]

With ``--write-readme`` the report also replaces the block between the ``results:start`` and
``results:end`` markers in benchmarks/README.md. Run it with an interpreter that has both this
project (``.[test]``) and ``bentoml==1.4.40`` installed, e.g. /work/main/.venv-compat/bin/python.
``bench_kernel_roundtrip.py`` needs ``jupyter_client`` and ``ipykernel`` instead; it runs with
``--kernel-python`` (default: ``$BCJ_BENCH_KERNEL_PYTHON``, else ``<repo>/.venv/bin/python`` when it
exists, else this interpreter) and is reported as skipped when that interpreter lacks them.
``bench_push.py`` pushes a ``--push-size-mb`` model (default 500 MiB, ~1.5 min and ~2.5 GB of temporary
disk); ``--skip-push`` leaves it out. ``bench_network.py`` pushes and pulls a ``--network-size-mb`` model
(default 2048 MiB, ~3 min and ~14 GB of temporary disk) at 50 MB/s per connection and 50 ms round trip;
``--skip-network`` leaves it out.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_import.py", "bench_load_ext.py", "bench_list.py", "bench_status_latency.py",
           "bench_watch_requests.py", "bench_kernel_roundtrip.py", "bench_push.py", "bench_network.py",
           "bench_codespace.py"]
KERNEL_SCRIPT = "bench_kernel_roundtrip.py"
PUSH_SCRIPT = "bench_push.py"
NETWORK_SCRIPT = "bench_network.py"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def default_kernel_python() -> str:
    configured = os.environ.get("BCJ_BENCH_KERNEL_PYTHON")
    if configured:
        return configured
    local = HERE.parent / ".venv" / "bin" / "python"
    return str(local) if local.exists() else sys.executable


def has_kernel_stack(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import jupyter_client, ipykernel, bentocloud_jupyter"],
                           capture_output=True, check=False)
    return probe.returncode == 0


def run_script(name: str, python: str = sys.executable, args: list[str] | None = None) -> tuple[str, float]:
    started = time.perf_counter()
    out = subprocess.run([python, str(HERE / name), *(args or [])], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise SystemExit(f"{name} failed (exit {out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout.strip(), elapsed


def write_readme(report: str) -> None:
    readme = HERE / "README.md"
    text = readme.read_text(encoding="utf-8")
    head, sep, rest = text.partition(START)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise SystemExit(f"{readme} has no {START} ... {END} block")
    readme.write_text(f"{head}{START}\n{report}\n{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--write-readme", action="store_true", help="also refresh the results in README.md")
    parser.add_argument("--kernel-python", default=default_kernel_python(),
                        help=f"interpreter with jupyter_client + ipykernel for {KERNEL_SCRIPT}")
    parser.add_argument("--push-size-mb", type=int, default=500,
                        help=f"model size in MiB for {PUSH_SCRIPT} (default %(default)s)")
    parser.add_argument("--skip-push", action="store_true", help=f"do not run {PUSH_SCRIPT}")
    parser.add_argument("--network-size-mb", type=int, default=2048,
                        help=f"model size in MiB for {NETWORK_SCRIPT} (default %(default)s)")
    parser.add_argument("--skip-network", action="store_true", help=f"do not run {NETWORK_SCRIPT}")
    args = parser.parse_args(argv)
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    parts = [f"Measured {today} (UTC) with `benchmarks/run_all.py`."]
    for name in SCRIPTS:
        python = args.kernel_python if name == KERNEL_SCRIPT else sys.executable
        if name == KERNEL_SCRIPT and not has_kernel_stack(python):
            parts.append(f"_{name} skipped: {python} lacks jupyter_client / ipykernel (see --kernel-python)._")
            continue
        if name == PUSH_SCRIPT and args.skip_push:
            parts.append(f"_{name} skipped (--skip-push)._")
            continue
        if name == NETWORK_SCRIPT and args.skip_network:
            parts.append(f"_{name} skipped (--skip-network)._")
            continue
        extra = ["--size-mb", str(args.push_size_mb)] if name == PUSH_SCRIPT else []
        extra = ["--size", str(args.network_size_mb)] if name == NETWORK_SCRIPT else extra
        output, elapsed = run_script(name, python, extra)
        parts.append(f"{output}\n\n_{name} took {elapsed:.0f} s._")
    report = "\n\n".join(parts)
    print(report, flush=True)
    if args.write_readme:
        write_readme(report)


if __name__ == "__main__":
    main()
