"""Import cost of bentocloud_jupyter vs bentoml, each import in a fresh interpreter.

For every target the script starts ``python -c <probe>`` RUNS times (after one discarded warm-up run
that fills the bytecode and page caches), interleaving targets so drift hits them alike. The probe
times the import itself with ``time.perf_counter`` and prints its own peak RSS
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``). The same probe with no import is the baseline, so
"Δ RSS" is what the import adds on top of a bare interpreter. "process" is the parent's wall time
for the whole child (start-up + import + exit). Medians are reported.

Usage: python benchmarks/bench_import.py [--runs N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from _common import isolate_env, machine, median, package_version, table

PROBE = """\
import json, resource, time
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
print(json.dumps({{"import_s": t1 - t0, "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""

BASELINE = "baseline (same probe, no import)"
TARGETS = [
    BASELINE,
    "bentocloud_jupyter",
    "bentocloud_jupyter.core.rest.client",
    "bentocloud_jupyter.core.api",
    "bentoml",
    "bentoml.deployment",
]
# (bentoml side, our side) pairs for the ratio table: the bare package, and "what you need to list deployments".
RATIOS = [("bentoml", "bentocloud_jupyter"), ("bentoml.deployment", "bentocloud_jupyter.core.rest.client")]


@dataclass
class Samples:
    import_s: list[float] = field(default_factory=list)
    process_s: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)


def probe(target: str, cwd: str) -> tuple[float, float, int]:
    stmt = "pass" if target == BASELINE else f"import {target}"
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=stmt)], cwd=cwd, capture_output=True,
                         text=True, check=False)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"importing {target} failed:\n{out.stderr}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["import_s"], elapsed, int(data["maxrss_kib"])


def measure(runs: int) -> dict[str, Samples]:
    home = isolate_env()  # children inherit the isolated HOME/BENTOML_HOME and BENTOML_DO_NOT_TRACK
    results = {t: Samples() for t in TARGETS}
    for target in TARGETS:
        probe(target, home)  # warm-up, discarded
    for _ in range(runs):
        for target in TARGETS:
            import_s, process_s, rss = probe(target, home)
            results[target].import_s.append(import_s)
            results[target].process_s.append(process_s)
            results[target].maxrss_kib.append(rss)
    return results


def report(results: dict[str, Samples], runs: int) -> str:
    base = results[BASELINE]
    base_proc, base_rss = median(base.process_s), median(base.maxrss_kib)
    rows = []
    for target in TARGETS:
        s = results[target]
        name = target if target == BASELINE else f"`import {target}`"
        rss = median(s.maxrss_kib)
        rows.append([name, f"{median(s.import_s) * 1e3:.1f}", f"{median(s.process_s) * 1e3:.0f}",
                     f"{(median(s.process_s) - base_proc) * 1e3:+.0f}", f"{rss / 1024:.1f}",
                     f"{(rss - base_rss) / 1024:+.1f}"])
    main = table(["target", "import (ms)", "process wall (ms)", "Δ wall vs baseline (ms)", "peak RSS (MiB)",
                  "Δ RSS vs baseline (MiB)"], rows)

    ratio_rows = []
    for theirs, ours in RATIOS:
        t, o = results[theirs], results[ours]
        d_t = median(t.maxrss_kib) - base_rss
        d_o = median(o.maxrss_kib) - base_rss
        mem = f"{d_t / d_o:.1f}x" if d_o > 0 else "n/a (ours adds ~0)"
        ratio_rows.append([f"`{theirs}` ÷ `{ours}`", f"{median(t.import_s) / median(o.import_s):.1f}x", mem])
    ratios = table(["ratio (bentoml ÷ ours)", "import time", "Δ RSS"], ratio_rows)
    return "\n".join([
        f"### Import cost (median of {runs} fresh interpreters)",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, "
        f"bentocloud-jupyter {package_version('bentocloud-jupyter')}",
        "",
        main,
        "",
        ratios,
    ])


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    text = report(measure(args.runs), args.runs)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
