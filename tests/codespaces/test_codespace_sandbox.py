"""``code()`` against the sandbox: attach and sync (blocking), a syntax error kept back, deletes, the list,
attach to a deployment that is no codespace, a folder that is no project, create (with the build stubbed),
and write_file without a codespace."""

from __future__ import annotations

import hashlib
import importlib
from pathlib import Path
from typing import Any

import pytest

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.codespaces.create import Creation, is_dev
from bentocloud_jupyter.core.codespaces.handle import Codespace, attached
from bentocloud_jupyter.core.codespaces.state import Phase
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.guardrails import ledger
from bentocloud_jupyter.core.rest.session import client_for

verbs = importlib.import_module("bentocloud_jupyter.core.api.codespaces")  # the package's `codespaces` is the verb
SERVICE = "import bentoml\n\n@bentoml.service\nclass Svc:\n    @bentoml.api\n    def hello(self, name: str) -> str:\n" \
          "        return name\n"


def project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "service.py").write_text(SERVICE)
    (root / "bentofile.yaml").write_text("service: service:Svc\npython:\n  packages: [httpx]\n")
    return root


def dev(name: str, dev: bool = True) -> None:
    client, _ = client_for("sbx")
    client.create_deployment({"bento": "summarizer:v3", "name": name, "dev": dev, "access_authorization": False,
                              "envs": None, "labels": None, "secrets": None, "services": {}, "canary": None})


def remote(name: str) -> dict[str, str]:
    client, _ = client_for("sbx")
    return {f.path: f.md5 for f in client.list_files(name)}


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def test_attach_syncs_once_without_a_loop_then_keeps_the_last_good_file(sbx_context: Any, tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    dev("cs-attach")
    handle = bc.code(str(root), attach="cs-attach", context="sbx")
    assert isinstance(handle, Codespace) and attached() is handle
    assert handle.state.phase is Phase.READY, handle.state
    files = remote("cs-attach")
    assert {"service.py", "bentofile.yaml", "requirements.txt", "setup.sh", ".project_ready"} <= set(files)
    assert files["service.py"] == md5(SERVICE) and "live sync is off" in repr(handle)
    (root / "service.py").write_text("def broken(:\n")
    handle.sync()
    assert handle.state.error is not None and handle.state.error.startswith("service.py line 1:")
    assert handle.state.error_file == "service.py" and handle.state.error_line == 1
    assert remote("cs-attach")["service.py"] == md5(SERVICE)
    (root / "service.py").write_text(SERVICE + "\n# edited\n")
    (root / "bentofile.yaml").unlink()
    (root / "pyproject.toml").write_text("[project]\nname = 'p'\n")
    handle.sync()
    files = remote("cs-attach")
    assert handle.state.error is None and files["service.py"] == md5(SERVICE + "\n# edited\n")
    assert "bentofile.yaml" not in files and "pyproject.toml" in files
    assert "Detached" in repr(handle.detach()) and attached() is None


def test_a_file_over_the_batch_limit_is_one_line_and_the_rest_still_syncs(sbx_context: Any, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.codespaces import engine

    monkeypatch.setattr(engine, "MAX_BATCH", 4000)
    root = project(tmp_path / "proj")
    (root / "big.bin").write_bytes(b"\0" * 5000)
    dev("cs-big")
    handle = bc.code(str(root), attach="cs-big", context="sbx")
    assert handle.state.error is not None and "big.bin" in handle.state.error and "\n" not in handle.state.error
    assert "big.bin" not in remote("cs-big") and "service.py" in remote("cs-big")


def test_bad_input_is_one_line(sbx_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev("plain-dep", dev=False)
    root = project(tmp_path / "proj")
    with pytest.raises(InvalidInputError, match="is a deployment, not a codespace"):
        bc.code(str(root), attach="plain-dep", context="sbx")
    with pytest.raises(InvalidInputError, match="not a BentoML project folder"):
        bc.code(str(tmp_path / "empty"), attach="plain-dep", context="sbx")
    monkeypatch.setattr(verbs, "bentoml_installed", lambda: False)
    with pytest.raises(InvalidInputError, match="Creating a codespace needs bentoml"):
        bc.code(str(root), context="sbx")
    monkeypatch.setattr(verbs, "bentoml_installed", lambda: True)
    (root / "service.py").write_text("x = (\n")
    with pytest.raises(InvalidInputError, match=r"service.py line 1: .*fix it"):
        bc.code(str(root), context="sbx")


def test_create_then_list(sbx_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verbs, "bentoml_installed", lambda: True)
    monkeypatch.setattr(Creation, "build", lambda self, handle: client_for("sbx")[0].get_bento("summarizer", "v3"))
    root = project(tmp_path / "My Project")
    handle = bc.code(str(root), context="sbx", ttl="2h")
    assert isinstance(handle, Codespace) and handle.state.phase is Phase.READY, handle.state
    name = handle.state.name
    assert name.startswith("my-project-")
    deployment = client_for("sbx")[0].get_deployment(name)
    assert is_dev(deployment)
    labels = {item["key"]: item["value"] for item in deployment.raw.get("labels") or []}
    assert labels[ledger.SESSION_KEY] == ledger.SESSION_ID and ledger.EXPIRES_KEY in labels
    assert any(e.name == name and e.kind == "codespace" for e in ledger.entries("sbx"))
    assert "service.py" in remote(name)
    listed = bc.code(list=True, context="sbx")
    assert name in repr(listed) and "plain" not in repr(listed)


def test_write_file_without_a_codespace_only_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    said = verbs.write_file("pkg/service.py", "x = 1\n")
    assert (tmp_path / "pkg" / "service.py").read_text() == "x = 1\n" and "nothing was synced" in repr(said)
    with pytest.raises(InvalidInputError, match="inside the project"):
        verbs.write_file("../escape.py", "")


def test_attaching_again_detaches_the_earlier_handle(sbx_context: Any, tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    dev("cs-twice")
    first = bc.code(str(root), attach="cs-twice", context="sbx")
    second = bc.code(str(root), attach="cs-twice", context="sbx")
    assert isinstance(first, Codespace) and isinstance(second, Codespace)
    assert first.state.phase is Phase.DETACHED and attached() is second
