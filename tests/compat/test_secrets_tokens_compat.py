"""Secrets and API tokens both ways with the real ``bentoml`` CLI: made by ``bentoml``, shown by our magics;
made by our magics, listed by ``bentoml secret list`` / ``bentoml api-token list``.

Run in the compat venv: ``.venv-compat/bin/python -m pytest tests/compat/test_secrets_tokens_compat.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import make_sandbox_fixture

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.sandbox import Sandbox

pytestmark = pytest.mark.compat
ROOT = Path(__file__).resolve().parents[2]
VALUE = "compat-value-never-shown"

sandbox = make_sandbox_fixture(scope="function")


def cli(sandbox: Sandbox, *args: str) -> str:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True", COLUMNS="200")
    run = subprocess.run([sys.executable, "-m", "bentoml", *args], env=env, capture_output=True, text=True,
                         timeout=120, cwd=ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


@pytest.fixture()
def magic(sandbox: Sandbox) -> Iterator[InteractiveShell]:
    auth.login(sandbox.url, sandbox.token, "sbx")
    config.set_current_context("sbx")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    yield shell
    shell.run_line_magic("unload_ext", "bentocloud_jupyter")


def shown(shell: InteractiveShell, line: str) -> str:
    result = shell.run_line_magic("bentocloud", line)
    return repr(result) + str(getattr(result, "_repr_html_", lambda: "")())


def test_bentoml_secrets_shown_by_our_magic(sandbox: Sandbox, magic: InteractiveShell, tmp_path: Path) -> None:
    mounted = tmp_path / "app.json"
    mounted.write_text(VALUE)
    cli(sandbox, "secret", "create", "hf", f"HF_TOKEN={VALUE}", "--stage", "all", "-d", "Hugging Face")
    cli(sandbox, "secret", "create", "cfg", f"app.json=@{mounted}", "--type", "file", "--path", "/etc/app",
        "--cluster", "aws-us-west-2")
    listing = shown(magic, "secrets")
    assert VALUE not in listing
    rows = {s["name"]: s for s in json.loads(magic.run_line_magic("bentocloud", "secret list -o json").text)}
    assert rows["hf"]["type"] == "env" and rows["hf"]["stage"] == "all" and rows["hf"]["keys"] == [{"key": "HF_TOKEN"}]
    assert rows["hf"]["cluster"] == "gcp-us-central-1" and rows["hf"]["description"] == "Hugging Face"
    assert (rows["cfg"]["type"], rows["cfg"]["path"], rows["cfg"]["cluster"]) == ("file", "/etc/app", "aws-us-west-2")
    assert "deleted" in shown(magic, "secret delete cfg")
    assert "cfg" not in cli(sandbox, "secret", "list")


def test_our_secrets_listed_by_bentoml(sandbox: Sandbox, magic: InteractiveShell, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text(f"A={VALUE}\nB='{VALUE}-b'\n")
    shown(magic, f"secret create ours --from-file {dotenv} --stage build --cluster aws-us-west-2 -d mine")
    shown(magic, f"secret create files app.json=@{dotenv} --type file")
    listed = cli(sandbox, "secret", "list", "-o", "json")
    assert VALUE not in listed
    rows = {s["name"]: s for s in json.loads(listed)}
    assert [i["key"] for i in rows["ours"]["content"]["items"]] == ["A", "B"]
    assert rows["ours"]["content"]["stage"] == "build" and rows["ours"]["cluster"]["name"] == "aws-us-west-2"
    assert rows["ours"]["description"] == "mine"
    assert rows["files"]["content"]["type"] == "mountfile" and rows["files"]["content"]["path"] == "$BENTOML_HOME"
    assert sandbox.state.secrets["ours"].content["items"][1]["value"] == f"{VALUE}-b"
    shown(magic, f"secret apply ours A=@{dotenv}")  # bentoml sees the new keys; cluster and stage kept
    again = {s["name"]: s for s in json.loads(cli(sandbox, "secret", "list", "-o", "json"))}["ours"]
    assert [i["key"] for i in again["content"]["items"]] == ["A"] and again["content"]["stage"] == "build"
    assert again["cluster"]["name"] == "aws-us-west-2"


def test_bentoml_token_shown_by_our_magic(sandbox: Sandbox, magic: InteractiveShell) -> None:
    created = cli(sandbox, "api-token", "create", "reader", "--scope", "read_organization", "--scope",
                  "read_cluster", "--expires", "30d", "-d", "read only", "-o", "json")
    made = json.loads(created[created.index("{"):])
    listing = shown(magic, "api-tokens")
    assert made["token"] not in listing and sandbox.token not in listing
    assert "reader" in listing and "read_organization, read_cluster" in listing
    one = shown(magic, f"api-token get {made['uid']}")
    assert "read only" in one and made["token"] not in one
    assert "deleted" in shown(magic, "api-token delete reader")
    assert "reader" not in cli(sandbox, "api-token", "list")


def test_our_token_listed_by_bentoml(sandbox: Sandbox, magic: InteractiveShell, tmp_path: Path) -> None:
    target = tmp_path / "token.txt"
    shown(magic, f"api-token create ci -s write_cluster -s read_cluster --expires 1w -d 'for CI' "
                 f"--output-file {target}")
    value = target.read_text().strip()
    listed = cli(sandbox, "api-token", "list", "-o", "json")
    assert value not in listed
    row = {t["name"]: t for t in json.loads(listed)}["ci"]
    assert row["scopes"] == ["write_cluster", "read_cluster"] and row["description"] == "for CI"
    assert row["expired_at"] is not None and not row.get("is_expired", False)
    shown(magic, "api-token create saved --save-as from-magic")
    assert "saved" in cli(sandbox, "api-token", "list")
    env = dict(os.environ, BENTOML_DO_NOT_TRACK="True", COLUMNS="200")
    env.pop("BENTO_CLOUD_API_KEY", None)
    env.pop("BENTO_CLOUD_API_ENDPOINT", None)
    used = subprocess.run([sys.executable, "-m", "bentoml", "cloud", "current-context"], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert used.returncode == 0 and "sbx" in used.stdout  # --save-as does not switch bentoml's context
    assert config.get_context("from-magic").endpoint == sandbox.url
