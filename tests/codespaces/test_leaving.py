"""Leaving (``%unload_ext``): a codespace this kernel attached to keeps running, which one line says with the
command that terminates it, and its live sync stops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from bentocloud_jupyter.core.codespaces import handle as handles
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.guardrails import ledger  # noqa: F401  (imported: this kernel used the core)


class _Attached:
    def __init__(self, project: Path, phase: Phase = Phase.READY) -> None:
        self.state = CodespaceState("my-space", "ctx", project, phase=phase)


def test_unload_says_the_attached_codespace_keeps_running_and_stops_its_sync(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    fake: Any = _Attached(tmp_path)
    detached: list[bool] = []
    monkeypatch.setattr(handles, "all_attached", lambda: [fake])
    monkeypatch.setattr(handles, "detach_all", lambda: detached.append(True) or [])
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    capsys.readouterr()
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    out = capsys.readouterr().out
    assert "Codespace 'my-space' keeps running on BentoCloud; `%bentocloud terminate my-space` stops it." in out
    assert detached == [True]


def test_a_terminated_codespace_is_not_said_to_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    fake: Any = _Attached(tmp_path, Phase.TERMINATED)
    monkeypatch.setattr(handles, "all_attached", lambda: [fake])
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    capsys.readouterr()
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    assert "my-space" not in capsys.readouterr().out
