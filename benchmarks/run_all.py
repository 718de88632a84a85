"""Run every benchmark, each in its own interpreter, and print one markdown report.

Usage: python benchmarks/run_all.py [--write-readme]

With ``--write-readme`` the report also replaces the block between the ``results:start`` and
``results:end`` markers in benchmarks/README.md. Run it with an interpreter that has both this
project (``.[test]``) and ``bentoml==1.4.40`` installed, e.g. ``.venv-compat/bin/python``.
"""

from __future__ import annotations

import argparse
import datetime
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_import.py", "bench_list.py"]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def run_script(name: str) -> tuple[str, float]:
    started = time.perf_counter()
    out = subprocess.run([sys.executable, str(HERE / name)], capture_output=True, text=True, check=False)
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
    args = parser.parse_args(argv)
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    parts = [f"Measured {today} (UTC) with `benchmarks/run_all.py`."]
    for name in SCRIPTS:
        output, elapsed = run_script(name)
        parts.append(f"{output}\n\n_{name} took {elapsed:.0f} s._")
    report = "\n\n".join(parts)
    print(report, flush=True)
    if args.write_readme:
        write_readme(report)


if __name__ == "__main__":
    main()
