"""A bare bento built with the real bentoml, and our whole create path on it (the compat venv has bentoml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bentocloud_jupyter.core.artifacts.build import build_bento

SERVICE = ("import bentoml\n\n@bentoml.service\nclass Hello:\n    @bentoml.api\n"
           "    def hello(self, name: str = 'x') -> str:\n        return name\n")


def test_a_bare_build_gives_a_tag_or_one_line(tmp_path: Path) -> None:
    pytest.importorskip("bentoml")
    (tmp_path / "service.py").write_text(SERVICE)
    (tmp_path / "bentofile.yaml").write_text('service: "service:Hello"\npython:\n  lock_packages: false\n')
    assert build_bento(str(tmp_path), echo=lambda line: None, bare=True).startswith("hello:")


def test_create_with_a_real_bare_build_against_the_sandbox(sbx_context: Any, tmp_path: Path) -> None:
    """The whole create path with bentoml installed: bare build, push, dev deployment, first sync."""
    pytest.importorskip("bentoml")
    import bentocloud_jupyter as bc
    from bentocloud_jupyter.core.codespaces.state import Phase
    from bentocloud_jupyter.core.rest.session import client_for

    (tmp_path / "service.py").write_text(SERVICE)
    (tmp_path / "bentofile.yaml").write_text('service: "service:Hello"\npython:\n  lock_packages: false\n')
    handle = bc.code(str(tmp_path), context="sbx")
    assert handle.state.phase is Phase.READY, handle.state
    files = {f.path for f in client_for("sbx")[0].list_files(handle.state.name)}
    assert {"service.py", "bentofile.yaml", "requirements.txt", ".project_ready"} <= files
