"""Secrets with every field bentoml reads and writes, API tokens with expiry and scopes (403 on writes)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import sandbox_shapes as shapes
from support import FakeClock, create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox

FIVE = ["api", "read_organization", "write_organization", "read_cluster", "write_cluster"]


def secret_body(name: str, kind: str = "env", **content: Any) -> dict[str, Any]:
    items = content.pop("items", [{"key": "HF_TOKEN", "sub_path": None, "value": "hf-very-secret"}])
    return {"name": name, "description": None,
            "content": {"type": kind, "path": None, "stage": "runtime", "items": items, **content}}


def test_secret_fields_round_trip_without_values(sandbox: Sandbox, client: httpx.Client) -> None:
    made = client.post("/api/v1/org_secrets", params={"cluster": "aws-us-west-2"}, json=secret_body(
        "cfg", "mountfile", path="/etc/app", stage="all",
        items=[{"key": "app.json", "sub_path": "conf/app.json", "value": "{\"pw\": \"file-very-secret\"}"}]))
    assert made.status_code == 200, made.text
    shapes.secret(made.json())
    content = made.json()["content"]
    assert content == {"type": "mountfile", "path": "/etc/app", "stage": "all",
                       "items": [{"key": "app.json", "sub_path": "conf/app.json", "value": None}]}
    assert made.json()["cluster"]["name"] == "aws-us-west-2"
    assert client.post("/api/v1/org_secrets", json=secret_body("hf")).status_code == 200
    answers = [client.get("/api/v1/org_secrets", params={"count": 10, "all": "true"}),
               client.get("/api/v1/org_secrets/cfg"), client.get("/api/v1/org_secrets/hf"), made]
    for answer in answers:
        assert "very-secret" not in answer.text
    assert sandbox.state.secrets["cfg"].content["items"][0]["value"] == "{\"pw\": \"file-very-secret\"}"
    assert sandbox.state.secrets["hf"].content["items"][0]["value"] == "hf-very-secret"


def test_secret_list_search_cluster_get_update_delete(sandbox: Sandbox, client: httpx.Client) -> None:
    client.post("/api/v1/org_secrets", json=secret_body("hf-one"))
    client.post("/api/v1/org_secrets", params={"cluster": "aws-us-west-2"}, json=secret_body("hf-two"))
    found = client.get("/api/v1/org_secrets", params={"search": "HF-", "q": "", "all": "true"}).json()
    assert [s["name"] for s in shapes.list_envelope(found)] == ["hf-two", "hf-one"]
    west = client.get("/api/v1/org_secrets", params={"cluster": "aws-us-west-2"}).json()
    assert [s["name"] for s in west["items"]] == ["hf-two"]
    assert client.get("/api/v1/org_secrets/hf-two", params={"cluster": "aws-us-west-2"}).status_code == 200
    elsewhere = client.get("/api/v1/org_secrets/hf-two", params={"cluster": "gcp-us-central-1"})
    assert elsewhere.status_code == 404 and "record not found" in elsewhere.json()["error"]
    patch = {"description": "rotated", "content": {"type": "env", "path": None, "stage": "build",
                                                   "items": [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}]}}
    updated = client.patch("/api/v1/org_secrets/hf-two", params={"cluster": "aws-us-west-2"}, json=patch).json()
    assert [i["key"] for i in updated["content"]["items"]] == ["A", "B"] and updated["description"] == "rotated"
    assert updated["content"]["stage"] == "build" and updated["cluster"]["name"] == "aws-us-west-2"
    assert updated["updated_at"] >= updated["created_at"]
    assert client.delete("/api/v1/org_secrets/hf-two", params={"cluster": "gcp-us-central-1"}).status_code == 404
    assert client.delete("/api/v1/org_secrets/hf-two").json()["name"] == "hf-two"
    assert "hf-two" not in sandbox.state.secrets
    assert client.patch("/api/v1/org_secrets/hf-two", json=patch).status_code == 404


@pytest.mark.parametrize(("content", "words"), [
    ({"type": "env", "items": []}, "non-empty"),
    ({"type": "env", "items": [{"key": "BAD-KEY", "value": "x"}]}, "environment variable name"),
    ({"type": "env", "items": [{"key": "A", "value": None}]}, "'value' must be a string"),
    ({"type": "env", "items": [{"key": "A", "value": "1"}, {"key": "A", "value": "2"}]}, "unique"),
    ({"type": "env", "stage": "sometimes", "items": [{"key": "A", "value": "1"}]}, "content.stage"),
    ({"type": "mountfile", "path": 3, "items": [{"key": "a", "value": "1"}]}, "content.path"),
    ({"type": "file", "items": [{"key": "a", "value": "1"}]}, "content.type"),
])
def test_bad_secret_content_is_400(client: httpx.Client, content: dict[str, Any], words: str) -> None:
    resp = client.post("/api/v1/org_secrets", json={"name": "bad", "content": content})
    assert resp.status_code == 400 and words in resp.json()["error"] and resp.json()["code"] == 400


def test_secret_conflicts_and_unknown_cluster(client: httpx.Client) -> None:
    assert client.post("/api/v1/org_secrets", json=secret_body("openai")).status_code == 409
    unknown = client.post("/api/v1/org_secrets", params={"cluster": "mars-1"}, json=secret_body("x"))
    assert unknown.status_code == 404 and "mars-1" in unknown.json()["error"]


def test_deployments_see_only_secrets_of_their_cluster(client: httpx.Client) -> None:
    client.post("/api/v1/org_secrets", params={"cluster": "aws-us-west-2"},
                json=secret_body("west-key", items=[{"key": "OPENAI_API_KEY", "value": "sk-x"}]))
    wrong = create(client, name="chat-east", bento="llm-chat:v1", secrets=["west-key"])
    assert wrong.status_code == 404 and "west-key" in wrong.json()["error"]
    right = create(client, name="chat-west", bento="llm-chat:v1", secrets=["west-key"], cluster="aws-us-west-2")
    assert right.status_code == 200, right.text


def iso_in(clock: FakeClock, seconds: float) -> str:
    return datetime.fromtimestamp(clock() + seconds, tz=timezone.utc).isoformat()


def test_token_value_only_in_the_create_answer(sandbox: Sandbox, client: httpx.Client, clock: FakeClock) -> None:
    made = client.post("/api/v1/api_tokens", json={"name": "ci", "description": "for CI",
                                                   "scopes": ["read_cluster", "write_cluster"],
                                                   "expired_at": iso_in(clock, 3600)})
    assert made.status_code == 200, made.text
    body = made.json()
    shapes.api_token(body)
    assert body["token"].startswith("sbx_") and body["scopes"] == ["read_cluster", "write_cluster"]
    assert body["description"] == "for CI" and body["is_expired"] is False and body["last_used_at"] is None
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": body["token"]}) as other:
        assert other.get("/api/v1/auth/current").status_code == 200
    one = client.get(f"/api/v1/api_tokens/{body['uid']}")
    listing = client.get("/api/v1/api_tokens", params={"search": "c", "start": 0, "count": 100})
    for answer in (one, listing):
        assert body["token"] not in answer.text and sandbox.token not in answer.text
    assert one.json()["last_used_at"] is not None and one.json()["expired_at"] is not None
    assert [t["name"] for t in listing.json()["items"]] == ["ci"]
    assert client.delete(f"/api/v1/api_tokens/{body['uid']}").json()["token"] is None
    assert client.get(f"/api/v1/api_tokens/{body['uid']}").status_code == 404


def test_the_sandbox_token_keeps_all_scopes(client: httpx.Client) -> None:
    (mine,) = client.get("/api/v1/api_tokens").json()["items"]
    assert mine["scopes"] == FIVE
    default = client.post("/api/v1/api_tokens", json={"name": "all", "scopes": None}).json()
    assert default["scopes"] == FIVE and default["expired_at"] is None


@pytest.mark.parametrize(("body", "words"), [
    ({"name": ""}, "name is required"),
    ({"name": "x", "scopes": ["admin"]}, "unknown scope"),
    ({"name": "x", "scopes": []}, "at least one scope"),
    ({"name": "x", "expired_at": "next tuesday"}, "not a valid timestamp"),
    ({"name": "x", "expired_at": "2001-01-01 00:00:00.000000"}, "in the past"),
])
def test_bad_token_requests_are_400(client: httpx.Client, body: dict[str, Any], words: str) -> None:
    resp = client.post("/api/v1/api_tokens", json=body)
    assert resp.status_code == 400 and words in resp.json()["error"]


def test_naive_expiry_is_local_time(client: httpx.Client) -> None:
    local = (datetime.now() + timedelta(days=30)).strftime("%Y-%m-%d %H:%M:%S.%f")  # what bentoml's CLI sends
    made = client.post("/api/v1/api_tokens", json={"name": "cli", "expired_at": local}).json()
    sent = datetime.strptime(local, "%Y-%m-%d %H:%M:%S.%f").astimezone(timezone.utc)
    assert datetime.fromisoformat(made["expired_at"].replace("Z", "+00:00")) == sent


def test_an_expired_token_gets_401(sandbox: Sandbox, client: httpx.Client, clock: FakeClock) -> None:
    made = client.post("/api/v1/api_tokens", json={"name": "short", "expired_at": iso_in(clock, 60)}).json()
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": made["token"]}) as other:
        assert other.get("/api/v2/deployments").status_code == 200
        clock.advance(61)
        resp = other.get("/api/v2/deployments")
        assert resp.status_code == 401 and "expired" in resp.json()["error"] and resp.json()["code"] == 401
    assert client.get(f"/api/v1/api_tokens/{made['uid']}").json()["is_expired"] is True
    helper = sandbox.issue_token("helper", expires_in=5)
    clock.advance(6)
    assert httpx.get(sandbox.url + "/api/v1/auth/current", headers={"X-YATAI-API-TOKEN": helper}).status_code == 401


def writes(client: httpx.Client) -> list[httpx.Response]:
    """One of each kind of write, as bentoml sends them."""
    secret = secret_body("blocked")
    return [create(client, name="blocked"), client.put("/api/v2/deployments/keep", json={"bento": "summarizer:v1"}),
            client.put("/api/v2/deployments/keep/void_update"), client.post("/api/v2/deployments/keep/terminate"),
            client.delete("/api/v2/deployments/keep"), client.post("/api/v1/org_secrets", json=secret),
            client.patch("/api/v1/org_secrets/openai", json={"content": secret["content"]}),
            client.delete("/api/v1/org_secrets/openai"), client.post("/api/v1/api_tokens", json={"name": "t"}),
            client.post("/api/v1/bento_repositories", json={"name": "nope", "description": ""})]


def test_a_token_without_write_scope_gets_403_on_writes(sandbox: Sandbox, client: httpx.Client) -> None:
    assert create(client, name="keep").status_code == 200
    token = sandbox.issue_token("reader", scopes=["api", "read_organization", "read_cluster"])
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": token}) as reader:
        for resp in writes(reader):
            assert resp.status_code == 403, (resp.request.method, resp.request.url.path, resp.text)
            assert resp.json()["code"] == 403 and "write_organization" in resp.json()["error"]
            assert token not in resp.text
        assert reader.get("/api/v2/deployments/keep").status_code == 200
        assert reader.get("/api/v1/org_secrets").status_code == 200
        uid = reader.get("/api/v1/api_tokens").json()["items"][0]["uid"]
        assert reader.delete(f"/api/v1/api_tokens/{uid}").status_code == 403
    assert "blocked" not in sandbox.state.deployments and "openai" in sandbox.state.secrets
    assert sandbox.state.get_deployment("keep").latest.bento_version == "v1"


def test_one_write_scope_is_enough(sandbox: Sandbox) -> None:
    token = sandbox.issue_token("cluster-writer", scopes=["write_cluster"])
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": token}) as writer:
        assert create(writer, name="by-cluster-writer").status_code == 200
        assert writer.post("/api/v2/deployments/by-cluster-writer/terminate").status_code == 200


def test_start_a_terminated_deployment_as_bentoml_does(sandbox: Sandbox, client: httpx.Client) -> None:
    """bentoml has no start route: ``deployment start`` is an update with the current config."""
    created = create(client, name="restart").json()
    wait_raw_status(client, "restart", {"running"})
    client.post("/api/v2/deployments/restart/terminate")
    wait_raw_status(client, "restart", {"terminated"})
    config = created["latest_revision"]["targets"][0]["config"]
    again = client.put("/api/v2/deployments/restart", params={"cluster": "gcp-us-central-1"},
                       json={**config, "bento": "summarizer:v1"})
    assert again.status_code == 200 and again.json()["status"] == "deploying"
    wait_raw_status(client, "restart", {"running"})
    seen = [s for s, _ in sandbox.history("restart")]
    assert seen[-5:] == ["terminated", "deploying", "image-building", "deploying", "running"]
