"""A dependency change does what ``bentoml code`` does: new packages reach the generated requirements.txt, a
changed setup script rebuilds the bento and updates the codespace; terminate from the handle."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from test_codespace_sandbox import dev, project, remote

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.codespaces.handle import Codespace, attached
from bentocloud_jupyter.core.codespaces.state import Phase
from bentocloud_jupyter.core.rest.session import client_for


def test_new_packages_update_requirements_and_setup_changes_rebuild(sbx_context: Any, tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    dev("cs-deps")
    handle = bc.code(str(root), attach="cs-deps", context="sbx")
    assert isinstance(handle, Codespace)
    rebuilds: list[str] = []
    handle.rebuild = lambda: rebuilds.append(handle.state.name)
    before = remote("cs-deps")["requirements.txt"]
    (root / "bentofile.yaml").write_text("service: service:Svc\npython:\n  packages: [httpx, numpy]\n")
    handle.sync()
    after = remote("cs-deps")["requirements.txt"]
    assert after != before and rebuilds == []
    (root / "bentofile.yaml").write_text("service: service:Svc\npython:\n  packages: [httpx, numpy]\n"
                                         "docker:\n  system_packages: [ffmpeg]\n")
    handle.sync()
    wanted = hashlib.md5(b"apt-get update && apt-get install -y ffmpeg || exit 1\n").hexdigest()
    assert rebuilds == ["cs-deps"] and remote("cs-deps")["setup.sh"] == wanted
    assert handle.state.phase is Phase.READY


def test_terminate_from_the_handle(sbx_context: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = project(tmp_path / "proj")
    dev("cs-end")
    handle = bc.code(str(root), attach="cs-end", context="sbx")
    assert isinstance(handle, Codespace)
    said = handle.terminate()
    assert "terminated" in repr(said) and handle.state.phase is Phase.TERMINATED and attached() is None
    status = client_for("sbx")[0].get_deployment("cs-end").status
    assert status in ("terminating", "terminated")
    handle.sync()  # a pass after terminate changes nothing
    assert handle.state.phase is Phase.TERMINATED


def test_run_keeps_syncing_a_script_until_detached(sbx_context: Any, tmp_path: Path) -> None:
    """``Codespace.run()`` (a plain script's live sync) syncs a change, and ends when detached."""
    import threading
    import time

    root = project(tmp_path / "proj")
    dev("cs-run")
    handle = bc.code(str(root), attach="cs-run", context="sbx")
    assert isinstance(handle, Codespace)
    synced = handle.state.files_synced

    def edit_then_detach() -> None:
        time.sleep(0.5)
        (root / "more.py").write_text("Z = 3\n")
        deadline = time.monotonic() + 15
        while handle.state.files_synced == synced and time.monotonic() < deadline:
            time.sleep(0.05)
        handle.detach()

    worker = threading.Thread(target=edit_then_detach)
    worker.start()
    state = handle.run()
    worker.join()
    assert state.phase is Phase.DETACHED and "more.py" in remote("cs-run")
