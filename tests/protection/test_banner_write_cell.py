"""The ``%%bentocloud write`` cell changes the attached codespace: the banner names its context first; with no
codespace attached it only writes a file, so no banner. The doctor says when the env key is a protected token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from protect_helpers import Shell

from bentocloud_jupyter.core.api import codespaces as _bound_first  # noqa: F401  (binds the real attached())
from bentocloud_jupyter.core.codespaces import handle as handles
from bentocloud_jupyter.core.codespaces.state import CodespaceState
from bentocloud_jupyter.core.credentials.protected import set_protected
from bentocloud_jupyter.core.credentials.resolve import resolve_context
from bentocloud_jupyter.core.doctor import creds


class _Attached:
    def __init__(self, project: Path) -> None:
        self.state = CodespaceState("cs", "sbx", project)


def _banner_lines(ran: object) -> list[str]:
    return [line for line in getattr(ran, "stdout", "").splitlines() if line.startswith("BentoCloud →")]


def test_the_write_cell_names_the_codespace_context(cell: Shell, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    fake: Any = _Attached(tmp_path)
    monkeypatch.setattr(handles, "attached", lambda: fake)
    monkeypatch.setattr("bentocloud_jupyter.ipython.code_frontend.write_cell", lambda words, text: None)
    ran = cell("%%bentocloud write service.py\nx = 1\n")
    assert _banner_lines(ran) == ["BentoCloud → context 'sbx' · at 127.0.0.1"]


def test_no_codespace_no_banner(cell: Shell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handles, "attached", lambda: None)
    monkeypatch.chdir(tmp_path)
    ran = cell("%%bentocloud write notes.py\nx = 1\n")
    assert ran.error is None, ran.error
    assert _banner_lines(ran) == [] and (tmp_path / "notes.py").read_text() == "x = 1\n"


def test_the_doctor_says_the_env_key_is_a_protected_token(cell: Shell, monkeypatch: pytest.MonkeyPatch) -> None:
    resolved = resolve_context("sbx")
    set_protected("sbx", True)
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", resolved.context.api_token.reveal())
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", resolved.context.endpoint)
    check, _ = creds.source_check(None)
    assert "protected (the token of context 'sbx')" in str(check)
