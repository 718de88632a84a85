"""Review R5 of the codespace engine and handle: a fast reload's short 503 is not missed (readyz is polled fast
right after a sync, then backs off), probes share one connection per pass, Terminate never blocks the loop."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from support import SHORT_RETRY, until
from test_codespace_sandbox import project
from test_engine_units import _dep, drive, make

from bentocloud_jupyter.core.codespaces.engine import (
    Backoff,
    Describe,
    Engine,
    Logs,
    Pods,
    Probe,
    Scan,
    Schema,
    Send,
    Sleep,
)
from bentocloud_jupyter.core.codespaces.handle import Codespace
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.errors import InvalidInputError


class FakeClock:
    """Time moves only when the engine sleeps (so the test asserts the schedule, never a timing)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _answers(clock: FakeClock, probes: list[int]) -> Any:
    left = iter(probes)

    def answer(effect: Any) -> Any:
        if isinstance(effect, Sleep):
            clock.now += effect.seconds
            return None
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        if isinstance(effect, Probe):
            return next(left, 200)
        return {Describe: _dep(), Schema: ["shout"], Pods: [], Logs: []}.get(type(effect))
    return answer


def test_readyz_is_polled_fast_right_after_a_sync_then_backs_off(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    engine = Engine(state, clock=clock, probe_every=0.25, settle=1.0)
    effects = drive(engine, _answers(clock, [200] * 40))  # the 503 was missed: 200s count after SETTLE
    gaps = [e.seconds for e in effects if isinstance(e, Sleep)]
    assert gaps[0] <= 0.05 < gaps[-1] <= 0.25  # fast first, then slower
    assert gaps == sorted(gaps) and len(gaps) <= 12  # about ten probes in the settle second, not a hammering
    assert state.phase is Phase.READY


def test_a_short_reload_seen_by_a_fast_probe_is_ready_at_once(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    drive(Engine(state, clock=clock, probe_every=0.25, settle=1.0), _answers(clock, [200, 503, 200]))
    assert state.phase is Phase.READY and state.last_sync_seconds is not None
    assert state.last_sync_seconds < 0.2  # was 0.5: two 0.25 s gaps before the reload was known


def test_a_later_wait_probes_before_it_describes(tmp_path: Path) -> None:
    """The deployment is known from the first wait: the next wait's first probe goes out right after the
    upload, not after one more API round trip (that delay alone could outlast a fast reload's 503)."""
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    engine = Engine(state, clock=clock, probe_every=0.25, settle=1.0)
    first = drive(engine, _answers(clock, [503, 200]))
    waits = [type(e) for e in first if isinstance(e, Describe | Probe)]
    assert waits[:2] == [Describe, Probe]  # nothing known yet: ask first
    (tmp_path / "service.py").write_text("x = 2\n")
    again = drive(engine, _answers(clock, [503, 200]))
    waits = [type(e) for e in again if isinstance(e, Describe | Probe)]
    assert waits[:2] == [Probe, Describe] and state.phase is Phase.READY
    assert state.last_sync_seconds is not None and state.last_sync_seconds < 0.1


def test_detach_ends_a_pass_that_sleeps_in_its_backoff(sbx_context: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A server failing every sync puts the pass in a long backoff sleep; detach (and ``%unload_ext``) ends the
    task there, not when the sleep is over (no task left running after the panel says detached)."""
    from bentocloud_jupyter.core.credentials.config import resolve_context
    from bentocloud_jupyter.core.rest import session

    session.close_all()
    monkeypatch.setattr(session.settings, "async_transport", httpx.MockTransport(
        lambda request: httpx.Response(503, json={"error": "busy"})))
    monkeypatch.setattr(session.settings, "retry", SHORT_RETRY)
    state = CodespaceState("cs-sleepy", "sbx", project(tmp_path / "proj"), phase=Phase.SYNCING)

    async def main() -> None:
        handle = Codespace(state, resolve_context("sbx"), engine=Engine(state, backoff=Backoff(base=60.0, cap=60.0)))
        handle.start()
        seen: list[str] = []
        state.listeners.append(lambda s: seen.append(f"{s.phase} {s.note} {s.error}"))
        await until(lambda: "retrying in 60 s" in state.note or state.phase is Phase.FAILED, timeout=10)
        assert "retrying in 60 s" in state.note, seen
        handle.detach()
        assert handle.task is not None
        await asyncio.wait({handle.task}, timeout=5)  # the sleep alone is 60 s
        assert handle.task.done() and state.phase is Phase.DETACHED

    try:
        asyncio.run(main())
    finally:
        session.close_all()


# ------------------------------------------------------------------------ the kernel's loop never does file work


def drive_marking(engine: Engine, answer: Any, marks: dict[str, bool]) -> list[Any]:
    """:func:`drive`, with ``marks["scan"]`` True only while a Scan runs (the asyncio driver's worker thread)."""
    steps, value = engine.sync(), None
    seen: list[Any] = []
    while True:
        try:
            effect = steps.send(value)
        except StopIteration:
            return seen
        seen.append(effect)
        if isinstance(effect, Scan):
            marks["scan"] = True
            try:
                value = effect.read()
            finally:
                marks["scan"] = False
        else:
            value = answer(effect)


def test_diff_syntax_check_and_base64_run_in_the_scan_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading, parsing and encoding a big project happen where the asyncio driver runs a worker thread (the
    Scan step), never in the engine's own steps (those run on the kernel's loop)."""
    import base64 as real_base64

    from bentocloud_jupyter.core.codespaces import plan as plan_mod

    make(tmp_path, {"service.py": "x = 1\n", **{f"pkg/m{i}.py": f"V = {i}\n" for i in range(30)}})
    marks, where = {"scan": False}, []
    real_check = plan_mod.check_syntax

    def check(path: str, content: bytes) -> Any:
        where.append(("parse", marks["scan"]))
        return real_check(path, content)

    def encode(data: bytes) -> bytes:
        where.append(("base64", marks["scan"]))
        return real_base64.b64encode(data)

    monkeypatch.setattr(plan_mod, "check_syntax", check)
    monkeypatch.setattr(plan_mod, "base64", SimpleNamespace(b64encode=encode))
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    drive_marking(Engine(state, clock=clock, settle=0.0, limit=200), _answers(clock, [200]), marks)
    assert state.phase is Phase.READY and state.files_synced >= 31
    assert {kind for kind, _ in where} == {"parse", "base64"} and all(inside for _, inside in where)


def test_a_file_over_the_request_bound_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    (tmp_path / "weights.bin").write_bytes(b"\0" * 5000)
    read: list[str] = []
    real_read, real_open = Path.read_bytes, Path.open

    def read_bytes(self: Path) -> bytes:
        read.append(self.name)
        return real_read(self)

    def open_(self: Path, *args: Any, **kwargs: Any) -> Any:
        read.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    monkeypatch.setattr(Path, "open", open_)
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    effects = drive(Engine(state, clock=clock, settle=0.0, limit=4000), _answers(clock, [200]))
    sent = [f["path"] for e in effects if isinstance(e, Send) and e.call.method == "POST" for f in e.call.json["files"]]
    assert "weights.bin" not in read and "weights.bin" not in sent and "service.py" in sent
    assert state.error is not None and state.error.startswith("weights.bin is 0.0 MiB, over the") and \
        state.error_file == "weights.bin"


def test_a_big_file_is_hashed_in_chunks_and_not_kept(tmp_path: Path) -> None:
    from bentocloud_jupyter.core.codespaces.engine import KEEP_BELOW

    make(tmp_path, {"service.py": "x = 1\n"})
    data = os.urandom(KEEP_BELOW + 10)
    (tmp_path / "table.csv").write_bytes(data)
    local = Engine(CodespaceState("cs", "ctx", tmp_path)).read_local()[0]
    assert local["table.csv"].content is None and local["table.csv"].digest == hashlib.md5(data).hexdigest()
    assert local["table.csv"].read() == data and local["service.py"].content == b"x = 1\n"


# ------------------------------------------------------------------------------------- the walk of a big project


def test_the_walk_asks_nothing_per_file_of_the_os(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The types come with each folder's listing: a project of 10k files costs no 20k extra stats per save."""
    from bentocloud_jupyter.core.codespaces.project import BuildConfig, project_files

    make(tmp_path, {"service.py": "", **{f"pkg/m{i}.py": "" for i in range(40)}, "pkg/__pycache__/x.pyc": ""})
    asked: list[str] = []
    for name in ("is_file", "is_symlink", "is_dir", "stat", "lstat"):
        real = getattr(Path, name)
        monkeypatch.setattr(Path, name, lambda self, *a, _real=real, _name=name, **k: (
            asked.append(_name), _real(self, *a, **k))[1])
    found = project_files(tmp_path, BuildConfig())
    assert len(found.files) == 41 and asked == []



# ------------------------------------------------------------------------------ a hostile server's own texts


def test_server_texts_quoting_the_token_never_reach_the_state(tmp_path: Path) -> None:
    """The log tail, the pod's phase, the API names and the URL are the server's words: a server that echoes
    the token in them does not get it into the state (so not into the panel, its saved snapshot or repr)."""
    from bentocloud_jupyter.core.codespaces.handle import text_of
    from bentocloud_jupyter.core.logs.pods import Pod
    from bentocloud_jupyter.core.rest.models import Deployment
    from bentocloud_jupyter.core.tokens import register_secret

    token = "cs-secret-token-" + "7" * 24
    register_secret(token)
    make(tmp_path, {"service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    dep = Deployment.from_api({"name": "cs", "status": "running", "urls": [f"http://127.0.0.1:9/{token}"],
                               "cluster": {"name": "c1"}, "creator": {"name": "u"}})
    pod = Pod("cs-1", labels={"yatai.ai/bento-function-component-type": "api-server"}, phase=f"Running {token}")

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        return {Describe: dep, Probe: 200, Schema: ["greet", f"leak_{token}"], Pods: [pod],
                Logs: [f"INFO token={token}", "ready"]}.get(type(effect))

    drive(Engine(state, settle=0.0), answer)
    assert state.phase is Phase.READY and "greet" in state.api_names and len(state.logs) == 2
    shown = repr(state) + text_of(state) + " ".join(state.logs) + " ".join(state.api_names)
    assert token not in shown and state.endpoint is not None


def test_odd_file_names_sync_and_a_name_the_listing_would_refuse_is_held_back(sbx_context: Any,
                                                                              tmp_path: Path) -> None:
    """Spaces, quotes and non-ASCII go up and come back in the listing; a backslash or a control character
    in a name would make every later listing a protocol error (so every later sync fail): such a file is
    one line in the state, never uploaded, and the next syncs still work."""
    from test_codespace_sandbox import dev, remote

    import bentocloud_jupyter as bc

    root = project(tmp_path / "proj")
    for name in ("sp ace ü.txt", "quote'\"s.txt", "odd\\name.txt", "tab\tname.txt"):
        (root / name).write_text("x")
    dev("cs-odd")
    handle = bc.code(str(root), attach="cs-odd", context="sbx")
    assert isinstance(handle, Codespace)
    files = remote("cs-odd")
    assert {"sp ace ü.txt", "quote'\"s.txt"} <= set(files) and not {"odd\\name.txt", "tab\tname.txt"} & set(files)
    error = handle.state.error or ""
    assert error.startswith("'odd\\\\name.txt' has a backslash or a control character") and "(and 1 more)" in error
    (root / "sp ace ü.txt").write_text("y")
    handle.sync()
    assert handle.state.phase is Phase.READY, handle.state
    assert remote("cs-odd")["sp ace ü.txt"] == hashlib.md5(b"y").hexdigest()
    handle.detach()


def test_attaching_twice_leaves_one_watcher_and_detach_all_leaves_none(sbx_context: Any, tmp_path: Path) -> None:
    from test_codespace_sandbox import dev

    import bentocloud_jupyter as bc
    from bentocloud_jupyter.core.codespaces.handle import attached, detach_all

    root = project(tmp_path / "proj")
    dev("cs-twice")

    def ours() -> list[asyncio.Task[Any]]:
        return [t for t in asyncio.all_tasks() if not t.done() and any(
            word in repr(t.get_coro()) for word in ("watch_project", "Codespace._main", "run_async"))]

    async def main() -> None:
        first = bc.code(str(root), attach="cs-twice", context="sbx")
        assert isinstance(first, Codespace)
        await until(lambda: first.state.phase is Phase.READY, timeout=15)
        second = bc.code(str(root), attach="cs-twice", context="sbx")
        assert isinstance(second, Codespace) and attached() is second and first.task is not None
        await asyncio.wait({first.task}, timeout=5)
        assert first.task.done() and first.state.phase is Phase.DETACHED
        await until(lambda: second.state.phase is Phase.READY, timeout=15)
        synced = first.state.files_synced
        (root / "more.py").write_text("M = 1\n")
        await until(lambda: second.state.files_synced > 0 and second.state.phase is Phase.READY and
                    "more.py" in second.engine.digests, timeout=15)
        assert first.state.files_synced == synced  # the first handle's watcher is gone
        assert detach_all() and second.task is not None
        await asyncio.wait({second.task}, timeout=5)
        await asyncio.sleep(0.1)
        assert ours() == []

    asyncio.run(main())


def test_a_hostile_schema_and_pod_phase_stay_small_in_the_state(tmp_path: Path) -> None:
    from bentocloud_jupyter.core.codespaces.engine import MAX_APIS, MAX_NAME
    from bentocloud_jupyter.core.logs.pods import Pod

    make(tmp_path, {"service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    pod = Pod("cs-1", labels={"yatai.ai/bento-function-component-type": "api-server"}, phase="R" * 100_000)
    names = [f"api_{i}_" + "x" * 5000 for i in range(20_000)]

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        return {Describe: _dep(), Probe: 200, Schema: names, Pods: [pod], Logs: []}.get(type(effect))

    drive(Engine(state, settle=0.0), answer)
    assert state.phase is Phase.READY and len(state.api_names) == MAX_APIS
    assert max(len(n) for n in state.api_names) == MAX_NAME and len(state.pod_status) <= MAX_NAME


@pytest.mark.parametrize(("file", "why"), [("a\\b.py", "backslash"), ("tab\there.py", "control character"),
                                          ("~/x.py", "'~' is not expanded"), ("pkg/../../x.py", "inside the project")])
def test_write_refuses_a_name_that_could_not_sync(tmp_path: Path, file: str, why: str) -> None:
    """The ``%%bentocloud write`` cell's FILE: a name the codespace cannot list back, or one meant for the home
    folder, is one line and nothing is written (it used to create ``a\\b.py`` or a folder named ``~``)."""
    from bentocloud_jupyter.core.codespaces.handle import write_into

    root = (tmp_path / "proj").resolve()
    root.mkdir()
    with pytest.raises(InvalidInputError, match=why.replace("(", r"\(")):
        write_into(root, file, "x = 1\n")
    assert sorted(p.name for p in root.iterdir()) == []
    assert write_into(root, "sp ace ü.py", "x\n") == root / "sp ace ü.py"


# ------------------------------------------------------------------ a project that vanishes under the watcher


def _remote_answers(remote: list[Any], deleted: list[str]) -> Any:
    def answer(effect: Any) -> Any:
        if isinstance(effect, Send) and effect.call.method == "GET":
            return remote
        if isinstance(effect, Send) and effect.call.method == "DELETE":
            deleted.extend(effect.call.json.get("paths", []) if isinstance(effect.call.json, dict) else [])
            deleted.append("<delete sent>")
            return None
        if isinstance(effect, Send):
            return None
        return {Describe: _dep(), Probe: 200, Schema: [], Pods: [], Logs: []}.get(type(effect))
    return answer


def test_a_project_folder_moved_away_deletes_nothing_remotely(tmp_path: Path) -> None:
    """Renamed, deleted or swapped by a checkout: the watcher still fires, and an empty walk used to delete
    every file of the codespace. Now the pass fails in one line and sends no delete."""
    import shutil

    from bentocloud_jupyter.core.codespaces.listing import RemoteFile

    root = make(tmp_path / "proj", {"service.py": "x = 1\n", "lib/util.py": "y = 2\n"})
    remote = [RemoteFile("service.py", 6, "0" * 32), RemoteFile("lib/util.py", 6, "1" * 32)]
    state = CodespaceState("cs", "ctx", root, "c1")
    shutil.rmtree(root)
    deleted: list[str] = []
    steps, value, error = Engine(state, settle=0.0).sync(), None, None
    while True:  # as the drivers do: an error of a step goes back into the pass
        try:
            effect = steps.throw(error) if error else steps.send(value)
        except StopIteration:
            break
        except InvalidInputError as exc:
            state.phase, state.error = Phase.FAILED, str(exc)
            break
        value, error = None, None
        try:
            value = effect.read() if isinstance(effect, Scan) else _remote_answers(remote, deleted)(effect)
        except InvalidInputError as exc:
            error = exc
    assert deleted == [] and state.phase is Phase.FAILED
    assert state.error is not None and "is gone; nothing was synced or deleted" in state.error


def test_an_unreadable_folder_keeps_its_remote_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os as os_mod

    from bentocloud_jupyter.core.codespaces.listing import RemoteFile

    root = make(tmp_path / "proj", {"service.py": "x = 1\n", "lib/util.py": "y = 2\n"})
    real = os_mod.scandir

    def scandir(path: Any) -> Any:
        if Path(path).name == "lib":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(os_mod, "scandir", scandir)
    remote = [RemoteFile("lib/util.py", 6, "1" * 32), RemoteFile("gone.py", 1, "2" * 32)]
    deleted: list[str] = []
    drive(Engine(CodespaceState("cs", "ctx", root, "c1"), settle=0.0), _remote_answers(remote, deleted))
    assert "lib/util.py" not in deleted and "gone.py" in deleted
