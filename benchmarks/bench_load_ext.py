"""Cost of ``%load_ext bentocloud_jupyter`` in a fresh IPython vs ``import bentoml; bentoml.deployment``.

``bentoml.deployment`` alone is a lazy proxy that loads nothing; the bentoml probe reads
``bentoml.deployment.list``, which loads the module (what a first ``bentoml.deployment.list()`` needs,
the same as ``import bentoml.deployment`` in bench_import.py).

Every probe is a fresh interpreter that first starts IPython's ``InteractiveShell`` (what a notebook
kernel has before the first cell) and installs a loopback-only socket guard, then runs one statement
and reports the statement's own time (``time.perf_counter``), how many modules it added and its peak
RSS. The same probe with no statement is the bare shell, run in every round, so "Δ wall" is the
whole-process time a target adds over a bare IPython start in the same round. Rounds are paired: each
round runs every target once (order rotated per round, after one discarded warm-up round), and the
bentoml ÷ ours ratio is taken round by round, then the median reported. Children cache bytecode in
a private PYTHONPYCACHEPREFIX (filled by the warm-up), so neither side pays for compiling sources.

Usage: python benchmarks/bench_load_ext.py [--runs N]   (bentoml rows need bentoml==1.4.40 installed)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field

from _common import bytecode_env, isolate_env, machine, median, package_version, table

PROBE = """\
import json, resource, socket, sys, time
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()

def _guard(real):
    def connect(sock, address):
        host = str(address[0]) if sock.family in (socket.AF_INET, socket.AF_INET6) else "127.0.0.1"
        if not (host.startswith("127.") or host in ("::1", "localhost")):
            raise ConnectionRefusedError(f"benchmark guard: connection to {{host!r}} blocked")
        return real(sock, address)
    return connect

socket.socket.connect = _guard(socket.socket.connect)
socket.socket.connect_ex = _guard(socket.socket.connect_ex)
bare = len(sys.modules)
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
print(json.dumps({{"stmt_s": t1 - t0, "modules": len(sys.modules) - bare,
                  "maxrss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}}))
"""

LOAD = 'shell.run_line_magic("load_ext", "bentocloud_jupyter")'
HELP_AND_COMPLETE = (
    LOAD + '\nshell.run_line_magic("bentocloud", "help")'
    '\nfrom IPython.core.completer import provisionalcompleter'
    '\nshell.Completer.use_jedi = False  # jedi is IPython\'s cost, not ours'
    '\nwith provisionalcompleter():'
    '\n    assert "use" in [c.text for c in shell.Completer.completions("%bentocloud u", len("%bentocloud u"))]')

BARE = "bare IPython shell (same probe, no statement)"
OURS = "ours: `%load_ext bentocloud_jupyter`"
OURS_HELP = "ours: `%load_ext`, then `%bentocloud help` and completing `%bentocloud u`"
THEIRS = "bentoml: `import bentoml; bentoml.deployment.list`"
STATEMENTS = {BARE: "pass", OURS: LOAD, OURS_HELP: HELP_AND_COMPLETE,
              THEIRS: "import bentoml\nbentoml.deployment.list"}
TARGET_RATIO = 20.0  # the goal: ours costs at most 1/20 of bentoml's


@dataclass
class Samples:
    stmt_s: list[float] = field(default_factory=list)
    process_s: list[float] = field(default_factory=list)
    modules: list[int] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)


def probe(target: str, cwd: str) -> tuple[float, float, int, int]:
    """One fresh interpreter: (statement s, whole process s, modules added, peak RSS KiB)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", PROBE.format(stmt=STATEMENTS[target])], cwd=cwd,
                         env=bytecode_env(cwd), capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"probe {target!r} failed:\n{out.stderr}")
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return data["stmt_s"], elapsed, int(data["modules"]), int(data["maxrss_kib"])


def measure(targets: list[str], runs: int) -> dict[str, Samples]:
    home = isolate_env()  # children inherit the isolated HOME/BENTOML_HOME and BENTOML_DO_NOT_TRACK
    results = {t: Samples() for t in targets}
    for target in targets:
        probe(target, home)  # warm-up round, discarded
    for round_no in range(runs):
        shift = round_no % len(targets)
        for target in targets[shift:] + targets[:shift]:
            stmt_s, process_s, modules, rss = probe(target, home)
            s = results[target]
            s.stmt_s.append(stmt_s)
            s.process_s.append(process_s)
            s.modules.append(modules)
            s.maxrss_kib.append(rss)
    return results


def paired_ratio(theirs: list[float], ours: list[float]) -> float:
    """Median of the round-by-round ratios theirs ÷ ours."""
    return median([t / o for t, o in zip(theirs, ours, strict=True) if o > 0])


def ratio_line(results: dict[str, Samples]) -> str:
    """bentoml ÷ ours: statement time paired round by round; Δ wall over the bare shell as a ratio of medians."""
    ours, theirs, bare = results[OURS], results[THEIRS], results[BARE].process_s
    d_ours = median([o - b for o, b in zip(ours.process_s, bare, strict=True)])
    d_theirs = median([t - b for t, b in zip(theirs.process_s, bare, strict=True)])
    stmt = paired_ratio(theirs.stmt_s, ours.stmt_s)
    wall = f"{d_theirs / d_ours:.1f}x" if d_ours > 0 else "n/a (ours within the noise of a bare start)"
    met = "met" if stmt >= TARGET_RATIO else "not met"
    return (f"bentoml ÷ ours: statement time {stmt:.1f}x (median of paired rounds), Δ wall {wall} (ratio of "
            f"medians). Target: ours at most 1/{TARGET_RATIO:.0f} of bentoml's statement time ({met}).")


def report(results: dict[str, Samples], runs: int) -> str:
    bare = results[BARE]
    rows = []
    for target, s in results.items():
        d_wall = [p - b for p, b in zip(s.process_s, bare.process_s, strict=True)]
        d_rss = median(s.maxrss_kib) - median(bare.maxrss_kib)
        rows.append([target, f"{median(s.stmt_s) * 1e3:.1f}", f"{median(s.process_s) * 1e3:.0f}",
                     f"{median(d_wall) * 1e3:+.0f}", f"{median(s.modules):.0f}",
                     f"{median(s.maxrss_kib) / 1024:.1f}", f"{d_rss / 1024:+.1f}"])
    lines = [
        f"### `%load_ext bentocloud_jupyter` in a fresh IPython (median of {runs} paired rounds)",
        "",
        f"{machine()}; bentoml {package_version('bentoml')}, ipython {package_version('ipython')}, "
        f"bentocloud-jupyter {package_version('bentocloud-jupyter')}",
        "",
        table(["target (after a bare InteractiveShell start)", "statement (ms)", "process wall (ms)",
               "Δ wall vs bare shell (ms)", "modules added", "peak RSS (MiB)", "Δ RSS vs bare (MiB)"], rows),
        "",
    ]
    if THEIRS in results:
        lines.append(ratio_line(results))
    else:
        lines.append("_bentoml is not installed in this interpreter: its row and the ratio are left out._")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    targets = [BARE, OURS, OURS_HELP]
    if importlib.util.find_spec("bentoml") is not None:
        targets.append(THEIRS)
    text = report(measure(targets, args.runs), args.runs)
    print(text, flush=True)
    return text


if __name__ == "__main__":
    main()
