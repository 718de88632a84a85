"""The codespace engine's pure parts: the file set (ignore rules, links), the listing as hostile input, the md5
difference, the batches, the syntax check, and one engine pass driven by hand (retries said in the note)."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from bentocloud_jupyter.core.codespaces import plan as plan_mod
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
    merge_tail,
)
from bentocloud_jupyter.core.codespaces.listing import RemoteFile, parse_listing
from bentocloud_jupyter.core.codespaces.plan import READY_MARKER, batches, check_syntax, generated_files, plan_sync
from bentocloud_jupyter.core.codespaces.project import check_project, project_files, read_config
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.errors import InvalidInputError, ProtocolError, ServerError
from bentocloud_jupyter.core.logs.pods import Pod
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def make(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


# ------------------------------------------------------------------------------------------ the file set


def test_ignore_rules_follow_the_bentofile_and_bentoignore(tmp_path: Path) -> None:
    make(tmp_path, {"bentofile.yaml": "service: service:Svc\ninclude: ['*.py', 'data/', 'pyproject.toml']\n"
                                      "exclude: ['secret_*.py', '/tests/']\n",
                    "service.py": "x = 1\n", "secret_key.py": "", "tests/test_a.py": "", "lib/util.py": "",
                    "data/a.csv": "1", "notes.txt": "", "__pycache__/service.cpython.pyc": "",
                    ".git/HEAD": "", "lib/.bentoignore": "gen_*.py\n", "lib/gen_x.py": "",
                    "lib/.ipynb_checkpoints/x.py": ""})
    found = sorted(project_files(tmp_path).files)
    assert found == ["bentofile.yaml", "data/a.csv", "lib/util.py", "service.py"]


def test_links_never_lead_out_of_the_project(tmp_path: Path) -> None:
    outside = make(tmp_path / "outside", {"secret.py": "TOKEN = 1\n", "pkg/mod.py": ""})
    root = make(tmp_path / "proj", {"service.py": "", "real.py": "y = 2\n"})
    os.symlink(outside / "secret.py", root / "leak.py")
    os.symlink(outside / "pkg", root / "pkg")
    os.symlink(root / "real.py", root / "alias.py")
    found = project_files(root)
    assert sorted(found.files) == ["alias.py", "real.py", "service.py"]
    assert sorted(found.skipped_links) == ["leak.py", "pkg"]


def test_a_folder_that_is_no_project_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="not a BentoML project folder"):
        check_project(tmp_path)
    with pytest.raises(InvalidInputError, match="not a BentoML project folder"):
        check_project(str(tmp_path / ("x" * 300)))
    assert check_project(make(tmp_path, {"service.py": ""})) == tmp_path.resolve()


def test_generated_requirements_and_setup_follow_bentoml(tmp_path: Path) -> None:
    make(tmp_path, {"bentofile.yaml": "python:\n  packages: [torch, numpy]\ndocker:\n  system_packages: [ffmpeg]\n"
                                      "  setup_script: setup_more.sh\n", "setup_more.sh": "echo hi\n"})
    files = generated_files(tmp_path, read_config(tmp_path))
    assert files["requirements.txt"].startswith(b"torch\nnumpy\nbentoml")
    assert files["setup.sh"] == b"apt-get update && apt-get install -y ffmpeg || exit 1\n"
    assert files["post_setup.sh"] == b"echo hi\n"
    make(tmp_path, {"bentofile.yaml": "python:\n  requirements_txt: reqs.txt\n", "reqs.txt": "httpx\n\n\n"})
    assert generated_files(tmp_path, read_config(tmp_path))["requirements.txt"].startswith(b"httpx\nbentoml")


# ------------------------------------------------------------------------------------- hostile listings


@pytest.mark.parametrize("entry", [
    {"path": "../etc/passwd", "size": 1, "md5": "0" * 32}, {"path": "/abs", "size": 1, "md5": "0" * 32},
    {"path": "a\\b", "size": 1, "md5": "0" * 32}, {"path": "a\x00b", "size": 1, "md5": "0" * 32},
    {"path": "a//b", "size": 1, "md5": "0" * 32}, {"path": "x", "size": -1, "md5": "0" * 32},
    {"path": "x", "size": True, "md5": "0" * 32}, {"path": "x", "size": 1, "md5": "z" * 32},
    {"path": "x", "size": 1.5, "md5": "0" * 32}, {"path": 7, "size": 1, "md5": "0" * 32}, "not an object",
])
def test_a_bad_listing_entry_is_refused(entry: Any) -> None:
    with pytest.raises(TypeError):
        parse_listing({"files": [entry]})


def test_the_client_turns_a_hostile_listing_into_one_protocol_error() -> None:
    answers = iter([{"files": [{"path": "../../x", "size": 1, "md5": "0" * 32}]},
                    {"files": [{"path": "a.py", "size": 1, "md5": "A" * 32},
                               {"path": "b", "size": 0, "md5": "1" * 32}]},
                    {"files": [{"path": "a", "size": 1, "md5": "0" * 32}] * 2}])
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=next(answers))

    with BentoCloudClient("http://127.0.0.1:9", "tok", transport=httpx.MockTransport(handler)) as client:
        with pytest.raises(ProtocolError, match="unexpected answer"):
            client.list_files("cs")
        assert client.list_files("cs", "c1") == [RemoteFile("a.py", 1, "a" * 32), RemoteFile("b", 0, "1" * 32)]
        with pytest.raises(ProtocolError):
            client.list_files("cs")
    assert seen[1].url.params["cluster"] == "c1" and seen[1].url.path == "/api/v2/deployments/cs/files"


def test_upload_and_delete_bodies() -> None:
    bodies: list[tuple[str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        bodies.append((request.method, request.content))
        return httpx.Response(200, json={})

    with BentoCloudClient("http://127.0.0.1:9", "tok", transport=httpx.MockTransport(handler)) as client:
        client.upload_files("cs", [{"path": "a.py", "b64_encoded_content": "eA=="}])
        client.delete_files("cs", ["old.py"])
    assert bodies == [("POST", b'{"files":[{"path":"a.py","b64_encoded_content":"eA=="}]}'),
                      ("DELETE", b'{"paths":["old.py"]}')]


# ------------------------------------------------------------------------------- the difference, batches


def test_plan_uploads_changes_deletes_the_gone_and_keeps_reserved_paths() -> None:
    local = {"service.py": b"x = 1\n", "same.txt": b"s", "requirements.txt": b"mine\n"}
    generated = {"requirements.txt": b"bentoml\n", "setup.sh": b""}
    remote = [RemoteFile("same.txt", 1, md5(b"s")), RemoteFile("service.py", 2, md5(b"old")),
              RemoteFile("gone.py", 1, md5(b"g")), RemoteFile(READY_MARKER, 0, md5(b"")),
              RemoteFile("requirements.txt", 8, md5(b"bentoml\n")), RemoteFile("__editable_bentoml__/x", 1, "0" * 32)]
    plan = plan_sync(local, generated, remote)
    assert plan.uploads == [("service.py", b"x = 1\n"), ("setup.sh", b"")]
    assert plan.deletes == ["gone.py"] and not plan.needs_update


def test_a_changed_setup_script_needs_the_update_bentoml_does() -> None:
    remote = [RemoteFile("setup.sh", 0, md5(b""))]
    plan = plan_sync({}, {"setup.sh": b"apt-get install -y ffmpeg\n"}, remote)
    assert plan.needs_update and plan.uploads == [("setup.sh", b"apt-get install -y ffmpeg\n")]


def test_a_syntax_error_is_held_back_with_its_line_and_not_deleted() -> None:
    remote = [RemoteFile("service.py", 5, md5(b"good\n"))]
    plan = plan_sync({"service.py": b"def f(:\n    pass\n", "ok.py": b"y = 1\n"}, {}, remote)
    assert plan.uploads == [("ok.py", b"y = 1\n")] and plan.deletes == []
    problem = plan.problems[0]
    assert problem.path == "service.py" and problem.line == 1 and "keeps the last good files" in problem.message
    assert check_syntax("x.py", b"a\x00b") is not None and check_syntax("x.txt", b"def (") is None


def test_batches_are_bounded_and_a_file_over_the_limit_is_one_line() -> None:
    uploads = [("a", b"x" * 30), ("b", b"y" * 30), ("big", b"z" * 300), ("c", b"w" * 60)]
    sent, problems = batches(uploads, limit=100)
    assert [b.paths for b in sent] == [["a", "b"], ["c"]] and all(b.size <= 100 for b in sent)
    assert base64.b64decode(sent[0].files[0]["b64_encoded_content"]) == b"x" * 30
    assert [p.path for p in problems] == ["big"] and "over the" in problems[0].message
    assert "\n" not in problems[0].message
    assert plan_mod.MAX_BATCH == 64 * 2**20


def test_merge_tail_appends_only_new_lines() -> None:
    assert merge_tail(["a", "b", "c"], ["b", "c", "d"]) == ["d"]
    assert merge_tail([], ["a"]) == ["a"] and merge_tail(["x"], ["y"]) == ["y"]


# ------------------------------------------------------------------------------ one pass, driven by hand


def _dep() -> Deployment:
    return Deployment.from_api({"name": "cs", "status": "running", "urls": ["http://127.0.0.1:9/_svc/cs"],
                                "cluster": {"name": "c1"}, "creator": {"name": "u"}})


def drive(engine: Engine, answer: Any) -> list[Any]:
    """Run one pass; ``answer(effect)`` returns the value or raises; every effect is recorded."""
    steps, value, error = engine.sync(), None, None
    seen: list[Any] = []
    while True:
        try:
            effect = steps.throw(error) if error else steps.send(value)
        except StopIteration:
            return seen
        seen.append(effect)
        value, error = None, None
        try:
            value = effect.read() if isinstance(effect, Scan) else answer(effect)
        except Exception as exc:
            error = exc


def test_one_pass_retries_a_5xx_with_backoff_then_waits_for_ready(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    notes: list[str] = []
    state.listeners.append(lambda s: notes.append(s.note))
    failures = iter([True, True])
    probes = iter([503, 200])

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send) and effect.call.method == "POST" and next(failures, False):
            raise ServerError("BentoCloud answered 503", status=503)
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        if isinstance(effect, Describe):
            return _dep()
        if isinstance(effect, Probe):
            return next(probes)
        if isinstance(effect, Schema):
            return ["summarize"]
        if isinstance(effect, Pods):
            return [Pod("cs-1", labels={"yatai.ai/bento-function-component-type": "api-server"}, phase="Running")]
        if isinstance(effect, Logs):
            return ["reloaded", "ready"]
        return None

    effects = drive(Engine(state, backoff=Backoff(base=0.5), settle=10.0), answer)
    sleeps = [e.seconds for e in effects if isinstance(e, Sleep)]
    assert sleeps[:2] == [0.5, 1.0]
    assert any("retrying in 0.5 s" in n for n in notes) and state.note == ""
    posted = [e.call.json for e in effects if isinstance(e, Send) and e.call.method == "POST"]
    assert posted[-1] == {"files": [{"path": READY_MARKER, "b64_encoded_content": ""}]}
    assert state.phase is Phase.READY and state.api_names == ("summarize",) and state.pod_status == "Running"
    assert list(state.logs) == ["reloaded", "ready"] and state.files_synced == 3  # service.py, requirements, setup
    assert state.endpoint == "http://127.0.0.1:9/_svc/cs" and state.last_sync_seconds is not None


def test_unchanged_files_are_not_read_again(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    old = 1_600_000_000
    os.utime(tmp_path / "service.py", (old, old))
    engine = Engine(CodespaceState("cs", "ctx", tmp_path))
    first = engine.read_local()[0]["service.py"]
    assert first.content == b"x = 1\n" and first.digest == md5(b"x = 1\n")
    assert engine.read_local()[0]["service.py"].content is None  # known by size and mtime
    (tmp_path / "service.py").write_text("x = 2\n")  # same size, fresh mtime
    again = engine.read_local()[0]["service.py"]
    assert again.content == b"x = 2\n" and again.digest == md5(b"x = 2\n")


def test_a_reload_wait_cut_short_by_a_newer_change_is_still_awaited(tmp_path: Path) -> None:
    """The first pass uploads then is interrupted while it waits; the next finds nothing to send but still
    waits for the reload (so ready and the API names are never stale)."""
    make(tmp_path, {"service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    engine = Engine(state, settle=0.0)
    uploaded: dict[str, str] = {}

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send) and effect.call.method == "GET":
            return [RemoteFile(p, 0, m) for p, m in uploaded.items()]
        if isinstance(effect, Send):
            for item in effect.call.json["files"]:
                uploaded[item["path"]] = md5(base64.b64decode(item["b64_encoded_content"]))
            return None
        return {Describe: _dep(), Probe: 200, Schema: ["shout"], Pods: [], Logs: []}.get(type(effect))

    steps = engine.sync()
    effect = steps.send(None)
    while not isinstance(effect, Probe):
        effect = steps.send(effect.read() if isinstance(effect, Scan) else answer(effect))
    steps.close()  # a newer change arrived: the driver ends the pass at its wait
    assert state.phase is Phase.RELOADING
    effects = drive(engine, answer)
    assert any(isinstance(e, Probe) for e in effects) and state.phase is Phase.READY
    assert state.api_names == ("shout",)
    assert not any(isinstance(e, Probe) for e in drive(engine, answer))  # confirmed: a no-change pass is quick


def test_a_failed_rebuild_is_a_note_and_the_files_still_sync(tmp_path: Path) -> None:
    from bentocloud_jupyter.core.codespaces.engine import Rebuild

    make(tmp_path, {"bentofile.yaml": "docker:\n  system_packages: [ffmpeg]\n", "service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send) and effect.call.method == "GET":
            return [RemoteFile("setup.sh", 0, md5(b""))]
        if isinstance(effect, Rebuild):
            raise InvalidInputError("Creating a codespace needs bentoml")
        return {Describe: _dep(), Probe: 200, Schema: [], Pods: [], Logs: []}.get(type(effect))

    effects = drive(Engine(state, settle=0.0), answer)
    uploaded = [f["path"] for e in effects if isinstance(e, Send) and e.call.method == "POST"
                for f in e.call.json["files"]]
    assert "service.py" in uploaded and "setup.sh" in uploaded and state.phase is Phase.READY
    assert state.note.startswith("could not update the codespace's bento (Creating a codespace needs bentoml")


def test_a_service_that_never_comes_ready_is_a_note_with_its_log(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    pod = Pod("cs-1", labels={"yatai.ai/bento-function-component-type": "api-server"}, phase="Running")

    def answer(effect: Any) -> Any:
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        return {Describe: _dep(), Probe: 503, Pods: [pod], Logs: ["ImportError: no module named torch"]}.get(
            type(effect))

    drive(Engine(state, settle=0.0, ready_timeout=0.0), answer)
    assert state.phase is Phase.RELOADING and state.note.startswith("no ready answer after 0 s")
    assert list(state.logs) == ["ImportError: no module named torch"]
