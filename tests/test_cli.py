"""`python -m bentocloud_jupyter demo` runs the whole loop on a sandbox from a plain script."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bentocloud_jupyter.__main__ import main


def test_demo_in_process(capsys: pytest.CaptureFixture[str], isolated_home: Path) -> None:
    assert main(["demo", "--speed", "50"]) == 0
    out = capsys.readouterr().out
    for fragment in ("Sandbox running", "running at http://127.0.0.1", "New revision", "terminated",
                     "Deleted deployment 'summarizer'", "Sandbox stopped"):
        assert fragment in out
    assert "sbx_" not in out  # the sandbox token never shows
    assert not isolated_home.exists()  # the demo used a throw-away credentials folder


def test_contexts_command_masks_tokens(tmp_path: Path) -> None:
    env = {**os.environ, "BENTOML_HOME": str(tmp_path)}
    (tmp_path / ".yatai.yaml").write_text(
        "contexts:\n- api_token: secret-token-value-9876\n  email: a@b.c\n  endpoint: https://x.example\n"
        "  name: a\ncurrent_context_name: a\n")
    out = subprocess.run([sys.executable, "-m", "bentocloud_jupyter", "contexts"], capture_output=True, text=True,
                         env=env, check=True).stdout
    assert "****9876" in out and "secret-token-value" not in out
