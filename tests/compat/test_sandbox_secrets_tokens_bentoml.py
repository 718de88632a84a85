"""bentoml's own ``secret`` and ``api-token`` CLI and SDK against the sandbox: every field, scopes, expiry.

Run in the compat venv: ``.venv-compat/bin/python -m pytest tests/compat/test_sandbox_secrets_tokens_bentoml.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from support import make_sandbox_fixture

os.environ["BENTOML_DO_NOT_TRACK"] = "True"
os.environ.pop("BENTO_CLOUD_API_KEY", None)

bentoml = pytest.importorskip("bentoml")

from bentoml._internal.cloud import BentoCloudClient  # noqa: E402
from bentoml.exceptions import BentoMLException  # noqa: E402

from bentocloud_jupyter.sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.compat
ROOT = Path(__file__).resolve().parents[2]

sandbox = make_sandbox_fixture(scope="function")


def cli(sandbox: Sandbox, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=token or sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True", COLUMNS="200")
    return subprocess.run([sys.executable, "-m", "bentoml", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def ok(run: subprocess.CompletedProcess[str]) -> str:
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


def test_cli_secret_create_list_apply_delete(sandbox: Sandbox, tmp_path: Path) -> None:
    mounted = tmp_path / "app.json"
    mounted.write_text('{"password": "file-cli-secret"}')
    ok(cli(sandbox, "secret", "create", "hf", "HF_TOKEN=hf-cli-secret", "--stage", "all", "-d", "Hugging Face"))
    ok(cli(sandbox, "secret", "create", "cfg", f"app.json=@{mounted}", "--type", "file", "--path", "/etc/app",
           "--cluster", "aws-us-west-2"))
    listed = ok(cli(sandbox, "secret", "list", "-o", "json"))
    assert "cli-secret" not in listed
    rows = {s["name"]: s for s in json.loads(listed)}
    assert set(rows) == {"hf", "cfg", "openai"}
    assert rows["hf"]["content"]["type"] == "env" and rows["hf"]["content"]["stage"] == "all"
    assert rows["hf"]["description"] == "Hugging Face" and rows["hf"]["created_by"] == "sandbox-user"
    assert rows["cfg"]["content"]["type"] == "mountfile" and rows["cfg"]["content"]["path"] == "/etc/app"
    assert [i["key"] for i in rows["cfg"]["content"]["items"]] == ["app.json"]
    assert rows["cfg"]["cluster"]["name"] == "aws-us-west-2" and rows["hf"]["cluster"]["name"] == "gcp-us-central-1"
    assert sandbox.state.secrets["cfg"].content["items"][0]["value"] == '{"password": "file-cli-secret"}'
    ok(cli(sandbox, "secret", "apply", "hf", "HF_TOKEN=rotated", "OTHER=1", "--stage", "runtime"))
    cloud = BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)
    again = cloud.secret.get("hf")
    assert [i.key for i in again.content.items] == ["HF_TOKEN", "OTHER"] and again.content.stage == "runtime"
    assert [s.name for s in cloud.secret.list(search="c")] == ["cfg"]
    ok(cli(sandbox, "secret", "delete", "hf"))
    missing = cli(sandbox, "secret", "delete", "hf")
    assert missing.returncode != 0 and "Secret not found" in missing.stdout + missing.stderr


def test_sdk_deployments_use_secrets_of_their_cluster(sandbox: Sandbox) -> None:
    cloud = BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)
    cloud.secret.create(name="west-openai", type="env", cluster="aws-us-west-2", stage="runtime",
                        key_vals=[("OPENAI_API_KEY", "sk-west")])
    made = bentoml.deployment.create(name="chat-west", bento="llm-chat:v1", cluster="aws-us-west-2",
                                     secrets=["west-openai"], _cloud_client=cloud)
    assert made.cluster == "aws-us-west-2"
    with pytest.raises(BentoMLException):
        bentoml.deployment.create(name="chat-east", bento="llm-chat:v1", secrets=["west-openai"],
                                  _cloud_client=cloud)


def test_cli_api_token_create_list_get_delete(sandbox: Sandbox) -> None:
    created = ok(cli(sandbox, "api-token", "create", "reader", "--scope", "read_organization", "--scope",
                     "read_cluster", "--expires", "30d", "-d", "read only", "-o", "json"))
    made = json.loads(created[created.index("{"):])
    value, uid = made["token"], made["uid"]
    assert value.startswith("sbx_") and made["scopes"] == ["read_organization", "read_cluster"]
    expires = datetime.fromisoformat(made["expired_at"]).astimezone().replace(tzinfo=None)
    assert abs(expires - (datetime.now() + timedelta(days=30))) < timedelta(minutes=5)
    listed = ok(cli(sandbox, "api-token", "list", "-o", "json"))
    assert value not in listed and sandbox.token not in listed
    rows = {t["name"]: t for t in json.loads(listed)}
    assert set(rows) == {"reader", "sandbox"} and rows["reader"].get("token") is None
    assert rows["sandbox"]["scopes"] == ["api", "read_organization", "write_organization", "read_cluster",
                                         "write_cluster"]
    got = json.loads(ok(cli(sandbox, "api-token", "get", uid, "-o", "json")))
    assert got["name"] == "reader" and got["description"] == "read only" and got.get("is_expired", False) is False
    assert value not in json.dumps(got)
    ok(cli(sandbox, "api-token", "delete", uid))
    cloud = BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)
    assert [t.name for t in cloud.api_token.list()] == ["sandbox"] and cloud.api_token.get(uid) is None
    gone = BentoCloudClient(api_key=value, endpoint=sandbox.url)
    with pytest.raises(BentoMLException, match="401"):
        gone.secret.list()


def test_a_read_only_token_cannot_write(sandbox: Sandbox) -> None:
    reader = sandbox.issue_token("reader", scopes=["read_organization"])
    cloud = BentoCloudClient(api_key=reader, endpoint=sandbox.url)
    assert [s.name for s in cloud.secret.list()] == ["openai"]
    with pytest.raises(BentoMLException, match="403"):
        bentoml.deployment.create(name="nope", bento="summarizer:v1", _cloud_client=cloud)
    with pytest.raises(BentoMLException, match="403"):
        cloud.api_token.create(name="escalate", scopes=["write_organization"])
    refused = cli(sandbox, "secret", "create", "x", "A=1", token=reader)
    assert refused.returncode != 0 and "403" in refused.stdout + refused.stderr
    assert reader not in refused.stdout + refused.stderr
    assert "nope" not in sandbox.state.deployments and "x" not in sandbox.state.secrets
    writer = BentoCloudClient(api_key=sandbox.issue_token("writer", scopes=["write_cluster"]), endpoint=sandbox.url)
    assert bentoml.deployment.create(name="yes", bento="summarizer:v1", _cloud_client=writer).name == "yes"


def test_an_expired_token_gets_401(sandbox: Sandbox) -> None:
    cloud = BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)
    made = cloud.api_token.create(name="hour", expired_at=datetime.now() + timedelta(hours=1))
    assert made.token and made.expired_at is not None
    user = BentoCloudClient(api_key=made.token, endpoint=sandbox.url)
    assert user.secret.list()
    real = sandbox.state.clock
    sandbox.state.clock = lambda: real() + 2 * 3600
    try:
        with pytest.raises(BentoMLException, match="401"):
            user.secret.list()
        (hour,) = [t for t in cloud.api_token.list() if t.name == "hour"]
        assert hour.is_expired is True and hour.last_used_at is not None
    finally:
        sandbox.state.clock = real
    assert time.time() < made.expired_at.timestamp()
