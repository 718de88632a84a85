"""Codespace edit loop: a file saved under PATH, then "ready after reload", ours vs ``bentoml code``, same run.

Run it with a venv that has this project *and* ``bentoml==1.4.40`` (``.venv-compat``). One sandbox (a uvicorn
thread on 127.0.0.1, ``--speed`` 20 by default: a reload's 503 lasts 50 ms), two dev deployments made from a
sandbox bento, one tiny project folder each. Every edit rewrites ``service.py`` with a new API name (an
editor's save), so a reload is known to be the one after that save.

* **ours**: ``code(PATH, attach=NAME)`` on an ``asyncio.run`` loop (live sync through ``watchfiles``) with a
  :class:`CodespacePanel` following the handle. Ready = the state listener sees phase ``ready`` with the new
  API in ``api_names`` (the panel redraws in that same call).
* **bentoml**: ``bentoml code --attach NAME PATH`` under a pseudo-terminal (its output drained by a thread).
  Ready = the first ``/readyz`` that the sandbox answers 200 to bentoml for that deployment after the upload
  of that save (bentoml's heartbeat polls readyz every 5 s: that is when its spinner turns green). The
  sandbox's readyz and sync handlers are wrapped to timestamp these; nothing else is changed.

The last column, save -> the sandbox received the upload, splits the time: bentoml rebuilds a bare bento and
imports the service on every change before it uploads, then learns of the reload from its next heartbeat; ours
hashes the changed files, uploads, and polls readyz on the kernel's loop until 200.

Usage: python benchmarks/bench_codespace.py [--edits N] [--speed S] [--skip-bentoml]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from _common import isolate_env, loopback_only, machine, median, p95, package_version, table

SERVICE = '''import bentoml


@bentoml.service
class Bench:
    @bentoml.api
    def {api}(self, text: str = "x") -> str:
        return text
'''
BENTOFILE = 'service: "service:Bench"\ninclude:\n  - "*.py"\npython:\n  lock_packages: false\n'
EDIT_TIMEOUT = 30.0


class Probes:
    """Timestamps of the sandbox's readyz answers and syncs, per deployment (wrapped handlers)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ready: list[tuple[float, str, int, str]] = []  # (when, deployment, status, user agent)
        self.syncs: list[tuple[float, str]] = []

    def install(self) -> None:
        from bentocloud_jupyter.sandbox import codespaces, services

        real_probe, real_sync = services.probe, codespaces.sync

        async def probe(request: Any) -> Any:
            response = await real_probe(request)
            with self.lock:
                self.ready.append((time.perf_counter(), request.path_params["name"], response.status_code,
                                   request.headers.get("user-agent", "")))
            return response

        def sync(store: Any, dep: Any, upload: Any, delete: Any) -> None:
            real_sync(store, dep, upload, delete)
            with self.lock:
                self.syncs.append((time.perf_counter(), dep.name))

        services.probe, codespaces.sync = probe, sync

    def first_sync_after(self, name: str, since: float) -> float | None:
        with self.lock:
            return next((t for t, n in self.syncs if n == name and t > since), None)

    def first_ready_after_sync(self, name: str, since: float) -> float | None:
        """The first 200 answered for ``name`` after the first sync of ``name`` later than ``since``."""
        with self.lock:
            synced = next((t for t, n in self.syncs if n == name and t > since), None)
            if synced is None:
                return None
            return next((t for t, n, s, _ in self.ready if n == name and s == 200 and t > synced), None)


def make_project(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "bentofile.yaml").write_text(BENTOFILE)
    (root / "service.py").write_text(SERVICE.format(api="edit_start"))
    return root


def save(project: Path, api: str) -> float:
    """Rewrite service.py as an editor does; the moment it was saved."""
    (project / "service.py").write_text(SERVICE.format(api=api))
    return time.perf_counter()


async def ours(name: str, project: Path, edits: int) -> list[tuple[float, float]]:
    from bentocloud_jupyter.core.api.codespaces import code
    from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
    from bentocloud_jupyter.core.results import TableView
    from bentocloud_jupyter.widgets.codespace import CodespacePanel

    handle = code(str(project), attach=name)
    assert not isinstance(handle, TableView)
    panel = CodespacePanel(handle, call_form=False)
    wanted: dict[str, Any] = {"api": "edit_start", "at": None, "event": asyncio.Event()}

    def listener(state: CodespaceState) -> None:
        if state.phase is Phase.READY and wanted["api"] in state.api_names and wanted["at"] is None:
            wanted["at"] = time.perf_counter()
            wanted["event"].set()

    handle.state.listeners.append(listener)
    await asyncio.wait_for(wanted["event"].wait(), 60)
    latencies = []
    try:
        for i in range(edits):
            await asyncio.sleep(0.3)  # let the watcher settle after the last reload
            wanted.update(api=f"edit_{i}", at=None, event=asyncio.Event())
            saved = save(project, f"edit_{i}")
            await asyncio.wait_for(wanted["event"].wait(), EDIT_TIMEOUT)
            latencies.append((saved, wanted["at"]))
            assert "ready" in panel.header.value
    finally:
        handle.detach()
        panel.close()
    return latencies


class Terminal:
    """``bentoml ARGS`` on a pseudo-terminal; a thread drains its output (kept for errors)."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        cli = str(Path(sys.executable).with_name("bentoml"))
        self.proc = subprocess.Popen([cli, *args], cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave,
                                     start_new_session=True)
        os.close(slave)
        self.master, self.out = master, b""
        self.reader = threading.Thread(target=self._drain, daemon=True)
        self.reader.start()

    def _drain(self) -> None:
        while True:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if not ready:
                if self.proc.poll() is not None:
                    return
                continue
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.out += chunk

    def wait_for(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.out.decode("utf-8", "replace"):
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"bentoml code: no {text!r}; last output {self.tail()!r}")
            time.sleep(0.05)

    def tail(self) -> str:
        return self.out.decode("utf-8", "replace")[-800:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.reader.join(2)
        os.close(self.master)


def bentoml_code(sandbox: Any, probes: Probes, name: str, project: Path, edits: int) -> list[tuple[float, float]]:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True", COLUMNS="160", LINES="50", TERM="xterm")
    term = Terminal(["code", "--attach", name, str(project)], project.parent, env)
    latencies = []
    try:
        term.wait_for("Watching for changes", 120)
        for i in range(edits):
            time.sleep(0.3)
            saved = save(project, f"edit_{i}")
            deadline = time.monotonic() + EDIT_TIMEOUT
            ready = None
            while ready is None:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"bentoml code: edit {i} never ready; last output {term.tail()!r}")
                time.sleep(0.02)
                ready = probes.first_ready_after_sync(name, saved)
            latencies.append((saved, ready))
    finally:
        term.stop()
    return latencies


def bare_bento(sandbox: Any, project: Path) -> str:
    """The bare bento ``bentoml code`` builds and pushes for ``project`` (both codespaces start from it, so
    bentoml finds its own bento there and does not update the deployment first); the summarizer without bentoml."""
    try:
        from bentoml._internal.cloud import BentoCloudClient
        from bentoml._internal.cloud.deployment import ensure_bento
    except ImportError:
        return "summarizer"
    before = os.getcwd()
    os.chdir(project.parent)  # bentoml builds only inside the working folder
    try:
        bento = ensure_bento(str(project), bare=True, push=True,
                             _client=BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url).client)
    finally:
        os.chdir(before)
    tag = getattr(bento, "tag", bento)
    return f"{tag.name}:{tag.version}"


def row(label: str, probes: Probes, name: str, pairs: list[tuple[float, float]]) -> list[str]:
    """Save -> ready (median, p95, min, max) and save -> the sandbox received the upload (median)."""
    ready = [done - saved for saved, done in pairs]
    uploads = [t - saved for saved, _ in pairs if (t := probes.first_sync_after(name, saved)) is not None]
    if not ready:
        return [label, "0", "n/a", "n/a", "n/a", "n/a", "n/a"]
    return [label, str(len(ready)), f"{median(ready):.2f}", f"{p95(ready):.2f}", f"{min(ready):.2f}",
            f"{max(ready):.2f}", f"{median(uploads):.2f}" if uploads else "n/a"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=20)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--skip-bentoml", action="store_true")
    options = parser.parse_args()
    home = isolate_env()
    loopback_only()
    from bentocloud_jupyter.core import api
    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.sandbox import Sandbox

    probes = Probes()
    probes.install()
    sandbox = Sandbox(speed=options.speed).start()
    try:
        config.save_context(config.Context("bench", sandbox.url, sandbox.token))
        config.set_current_context("bench")
        work = Path(home) / "projects"
        projects = {"ours": make_project(work / "ours"), "bentoml": make_project(work / "bentoml")}
        bento = bare_bento(sandbox, projects["bentoml"])
        for name in ("bench-ours", "bench-bentoml"):
            api.deploy(bento, name=name, config_dict={"dev": True}, wait=True, timeout=60)
        pairs = asyncio.run(ours("bench-ours", projects["ours"], options.edits))
        results = [row("ours (panel sees ready)", probes, "bench-ours", pairs)]
        if not options.skip_bentoml and shutil.which("bentoml", path=str(Path(sys.executable).parent)):
            pairs = bentoml_code(sandbox, probes, "bench-bentoml", projects["bentoml"], options.edits)
            results.append(row("bentoml code (readyz 200 to it)", probes, "bench-bentoml", pairs))
    finally:
        sandbox.stop()
    print(f"## Codespace: save -> ready after reload ({options.edits} edits, sandbox speed {options.speed:g})\n")
    print(table(["client", "edits", "median s", "p95 s", "min s", "max s", "save->upload median s"], results))
    print(f"\n{machine()}; bentoml {package_version('bentoml')}, watchfiles {package_version('watchfiles')}")


if __name__ == "__main__":
    main()
