"""A protected context survives the real ``bentoml cloud login`` (which rewrites ``.yatai.yaml``).

``bentoml`` drops every key of ``.yatai.yaml`` it does not know, so the protection lives in a file of
our own (``$BENTOML_HOME/.bentocloud-jupyter/protected.yaml``). Checked end to end: protect ``prod``,
run ``bentoml cloud login`` into another context and into ``prod`` itself, against the sandbox on
127.0.0.1, and the changes in ``prod`` still ask for the name to be typed back.

Run in the compat venv: ``.venv-compat/bin/python -m pytest tests/compat/test_protected_compat.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import make_sandbox_fixture

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.credentials.protected import is_protected, protected_path
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="module")


def _bentoml_login(sandbox: Sandbox, context: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("bentoml")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bentoml"]
    env = dict(os.environ, BENTOML_DO_NOT_TRACK="True")  # BENTOML_HOME: this test's (tests/conftest.py)
    for name in ("BENTO_CLOUD_API_KEY", "BENTO_CLOUD_API_ENDPOINT", "BENTOML_CLOUD_CONTEXT"):
        env.pop(name, None)
    return subprocess.run([*command, "cloud", "login", "--context", context, "--endpoint", sandbox.url,
                           "--api-token", sandbox.token], env=env, capture_output=True, text=True, timeout=90)


@pytest.mark.parametrize("into", ["staging", "prod"])
def test_protected_context_survives_bentoml_cloud_login(sandbox: Sandbox, into: str) -> None:
    auth.login(sandbox.url, sandbox.token, "prod")
    config.set_current_context("prod")
    bc.protect("prod")
    before = protected_path().read_bytes()
    path = config.credentials_path()
    path.write_text(path.read_text(encoding="utf-8") + "protected_contexts: [prod]\n", encoding="utf-8")
    run = _bentoml_login(sandbox, into)
    assert run.returncode == 0, run.stderr[-800:]
    cfg = config.load_config()
    assert cfg.find(into) is not None and cfg.find("prod") is not None  # bentoml did rewrite the file
    assert "protected" not in path.read_text(encoding="utf-8")  # what bentoml does to a flag kept in its file
    assert protected_path().read_bytes() == before and is_protected("prod")
    assert "prod (protected)" in repr(bc.contexts())
    bc.apply_secret("compat-guarded", [("KEY", "compat-value")], context="prod")
    sandbox.reset_stats()
    with pytest.raises(ConfirmationNeeded):
        bc.delete_secret("compat-guarded", context="prod")
    assert sandbox.stats()["total"] == 0 and "compat-guarded" in sandbox.state.secrets
    assert "deleted" in str(bc.delete_secret("compat-guarded", context="prod", confirm="compat-guarded"))
