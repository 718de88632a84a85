"""Secrets through the Python twins against the sandbox: every field, never a value, bad input sends nothing."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.org_views import SecretsView
from bentocloud_jupyter.core.results import html_of

VALUE = "hf-value-never-shown-1234"


def _writes(sandbox: Any) -> int:
    return sum(n for route, n in sandbox.stats()["by_route"].items()
               if route.split()[0] in ("POST", "PATCH", "DELETE") and "org_secrets" in route)


def _shown(*results: Any) -> str:
    return "\n".join(repr(r) + html_of(r) for r in results)


def test_create_list_apply_delete_never_show_values(sbx_context: Any, tmp_path: Path,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    mounted = tmp_path / "app.json"
    mounted.write_text('{"pw": "file-value-never-shown"}')
    made = bc.create_secret("hf-api", [f"HF_TOKEN={VALUE}", ("OTHER", "other-value-never-shown")], stage="all",
                            description="Hugging Face")
    cfg = bc.create_secret("cfg-api", [f"app.json=@{mounted}"], type="file", path="/etc/app", cluster="aws-us-west-2")
    assert "'hf-api' created in cluster 'gcp-us-central-1'" in repr(made) and "HF_TOKEN, OTHER" in repr(made)
    assert "mounted at /etc/app" in repr(cfg) and "aws-us-west-2" in repr(cfg)
    stored = sbx_context.state.secrets
    assert stored["hf-api"].content["items"][0]["value"] == VALUE and stored["hf-api"].content["stage"] == "all"
    assert stored["cfg-api"].content["items"][0]["value"] == '{"pw": "file-value-never-shown"}'
    listing = bc.secrets()
    assert isinstance(listing, SecretsView) and {"hf-api", "cfg-api", "openai"} <= {s.name for s in listing.secrets}
    west = bc.secrets(cluster="aws-us-west-2")
    assert [s.name for s in west.secrets] == ["cfg-api"]
    as_json = bc.secrets(search="hf-api", output="json")
    assert '"HF_TOKEN"' in as_json.text and '"stage": "all"' in as_json.text
    applied = bc.apply_secret("hf-api", ["HF_TOKEN=rotated-value-never-shown"])
    assert "applied" in repr(applied) and applied.secret.keys == ("HF_TOKEN",) and applied.secret.stage == "all"
    assert stored["hf-api"].content["items"][0]["value"] == "rotated-value-never-shown"
    again = bc.apply_secret("cfg-api", [f"app.json=@{mounted}"])  # apply keeps type, path and cluster
    assert (again.secret.mount_as, again.secret.path, again.secret.cluster) == ("file", "/etc/app", "aws-us-west-2")
    fresh = bc.apply_secret("new-api", ["A=apply-created-value"])
    assert "created" in repr(fresh) and "new-api" in stored
    assert "deleted from cluster 'aws-us-west-2'" in repr(bc.delete_secret("cfg-api"))
    shown = _shown(made, cfg, listing, west, as_json, applied, again, fresh) + caplog.text
    for value in (VALUE, "other-value-never-shown", "file-value-never-shown", "rotated-value-never-shown"):
        assert value not in shown
    for name in ("hf-api", "new-api"):
        bc.delete_secret(name)


def test_dotenv_file_feeds_keys(sbx_context: Any, tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("# keys\nexport A=one-value\nB='two # not a comment'\nC=\"three\\nlines\"  # note\n\n")
    before = _writes(sbx_context)
    made = bc.create_secret("from-env", ["D=four-value"], from_file=[str(dotenv)])
    assert _writes(sbx_context) == before + 1
    assert made.secret.keys == ("D", "A", "B", "C")
    items = {i["key"]: i["value"] for i in sbx_context.state.secrets["from-env"].content["items"]}
    assert items == {"A": "one-value", "B": "two # not a comment", "C": "three\nlines", "D": "four-value"}
    bc.delete_secret("from-env")


@pytest.mark.parametrize(("call", "words"), [
    (lambda p: bc.create_secret("x", ["HF_TOKEN"]), "no value"),
    (lambda p: bc.create_secret("x", [f"K=@{p / 'missing'}"]), "no such file"),
    (lambda p: bc.create_secret("x", ["K=v"], from_file=[str(p / "missing.env")]), "no such file"),
    (lambda p: bc.create_secret("x", ["K=v"], from_file=[str(p / "bad.env")]), "line 2: not a KEY=VALUE"),
    (lambda p: bc.create_secret("x", ["BAD-KEY=v"]), "not an environment variable name"),
    (lambda p: bc.create_secret("x", ["K=v", "K=w"]), "given twice"),
    (lambda p: bc.create_secret("x", []), "at least one"),
    (lambda p: bc.create_secret("x", ["K=v"], stage="sometimes"), "--stage"),
    (lambda p: bc.create_secret("x", ["K=v"], path="/etc"), "--type file"),
    (lambda p: bc.create_secret("x", ["K=v"], cluster="mars-1"), "No cluster 'mars-1'"),
    (lambda p: bc.apply_secret("x", [f"K=@{p / 'missing'}"]), "no such file"),
])
def test_bad_input_is_one_line_and_sends_nothing(sbx_context: Any, tmp_path: Path, call: Any, words: str) -> None:
    (tmp_path / "bad.env").write_text("A=1\nthis is not dotenv\n")
    before = _writes(sbx_context)
    with pytest.raises(InvalidInputError) as caught:
        call(tmp_path)
    assert words in str(caught.value) and "\n" not in str(caught.value)
    assert _writes(sbx_context) == before and "x" not in sbx_context.state.secrets


def test_unknown_secret_to_delete_names_the_listing(sbx_context: Any) -> None:
    with pytest.raises(NotFoundError, match=r"No secret 'ghost'.*secrets"):
        bc.delete_secret("ghost")
    with pytest.raises(NotFoundError, match=r"No secret 'openai' in cluster 'aws-us-west-2'"):
        bc.delete_secret("openai", cluster="aws-us-west-2")
    assert "openai" in sbx_context.state.secrets


def test_deploy_checks_the_secret_lives_in_the_target_cluster(sbx_context: Any) -> None:
    bc.create_secret("west-key", ["OPENAI_API_KEY=sk-west-never-shown"], cluster="aws-us-west-2")
    before = sbx_context.stats()["by_route"].get("POST /api/v2/deployments", 0)
    with pytest.raises(NotFoundError, match=r"No secret 'west-key' in cluster 'gcp-us-central-1'.*own cluster"):
        bc.deploy("llm-chat:v1", name="chat-east", secrets=["west-key"])
    with pytest.raises(NotFoundError, match=r"No secret 'nope'"):
        bc.deploy("llm-chat:v1", name="chat-east", secrets=["nope"], cluster="aws-us-west-2")
    assert sbx_context.stats()["by_route"].get("POST /api/v2/deployments", 0) == before
    made = bc.deploy("llm-chat:v1", name="chat-west", secrets=["west-key"], cluster="aws-us-west-2")
    assert made.deployment.cluster == "aws-us-west-2"
    assert sbx_context.stats()["by_route"]["POST /api/v2/deployments"] == before + 1
    assert bc.deploy("llm-chat:v1", name="chat-default", secrets=["openai"]).deployment.name == "chat-default"
    bc.delete("chat-west", cluster="aws-us-west-2")
    bc.delete("chat-default")
    bc.delete_secret("west-key")
