"""Every read route answers 200 with the full shapes the reference requires, and auth behaves."""

from __future__ import annotations

import httpx
import pytest
import sandbox_shapes as shapes

from bentocloud_jupyter.sandbox import Sandbox


def test_current_user_and_org(client: httpx.Client) -> None:
    user = client.get("/api/v1/auth/current")
    assert user.status_code == 200
    assert user.json() == {"name": "sandbox-user", "email": "you@sandbox.local", "first_name": "Sandbox",
                           "last_name": "User"}
    org = client.get("/api/v1/current_org").json()
    shapes.organization(org)
    assert org["name"] == "sandbox"


@pytest.mark.parametrize("headers", [{}, {"X-YATAI-API-TOKEN": "nope"}, {"X-YATAI-API-TOKEN": ""}])
def test_bad_token_is_401_with_json_message(sandbox: Sandbox, headers: dict[str, str]) -> None:
    resp = httpx.get(sandbox.url + "/api/v1/auth/current", headers=headers)
    assert resp.status_code == 401
    body = resp.json()
    assert body["code"] == 401 and "token" in body["error"].lower()


def test_unknown_route_is_404_json(client: httpx.Client) -> None:
    resp = client.get("/api/v1/nothing-here")
    assert resp.status_code == 404
    assert "record not found" in resp.json()["error"]


def test_clusters(client: httpx.Client) -> None:
    items = shapes.list_envelope(client.get("/api/v1/clusters").json())
    for c in items:
        shapes.cluster(c)
    assert {c["name"]: c["is_first"] for c in items} == {"gcp-us-central-1": True, "aws-us-west-2": False}
    full = client.get("/api/v1/clusters/aws-us-west-2")
    assert full.status_code == 200
    shapes.cluster_full(full.json())
    missing = client.get("/api/v1/clusters/mars-1")
    assert missing.status_code == 404 and "record not found" in missing.json()["error"]


def test_instance_types_are_a_bare_array(client: httpx.Client) -> None:
    data = client.get("/api/v1/instance_types", params={"cluster": ""}).json()
    assert isinstance(data, list)
    for it in data:
        shapes.instance_type(it)
    assert [i["name"] for i in data] == ["cpu.1", "cpu.2", "cpu.4", "gpu.t4.1", "gpu.l4.1"]
    gpu = next(i for i in data if i["name"] == "gpu.t4.1")
    assert gpu["config"]["gpu_config"]["type"] and gpu["config"]["resources"]["requests"]["gpu"] == "1"
    assert client.get("/api/v1/instance_types", params={"cluster": "aws-us-west-2"}).status_code == 200
    assert client.get("/api/v1/instance_types", params={"cluster": "nowhere"}).status_code == 404


def test_bento_repositories_and_versions(client: httpx.Client) -> None:
    repos = shapes.list_envelope(client.get("/api/v1/bento_repositories").json())
    assert {r["name"] for r in repos} == {"summarizer", "iris_classifier", "llm-chat", "fail-demo"}
    repo = client.get("/api/v1/bento_repositories/summarizer").json()
    shapes.repository(repo, "repo", "latest_bento")
    assert repo["latest_bento"]["version"] == "v3"
    newest = client.get("/api/v1/bento_repositories/summarizer/bentos", params={"count": 1}).json()
    assert [b["version"] for b in shapes.list_envelope(newest)] == ["v3"]
    every = client.get("/api/v1/bento_repositories/summarizer/bentos").json()
    assert [b["version"] for b in every["items"]] == ["v3", "v2", "v1"]
    one = client.get("/api/v1/bento_repositories/summarizer/bentos/v2").json()
    shapes.bento(one)
    manifest = one["manifest"]
    assert manifest["entry_service"] == "Summarizer" and manifest["spec"] == 2 and manifest["apis"] == {}
    assert manifest["services"][0]["name"] == "Summarizer"
    assert manifest["envs"] == [{"name": "LOG_LEVEL", "value": "info", "stage": "all"}]
    assert client.get("/api/v1/bento_repositories/summarizer/bentos/v9").status_code == 404
    assert client.get("/api/v1/bento_repositories/nope").status_code == 404


def test_seeded_bento_details(client: httpx.Client) -> None:
    llm = client.get("/api/v1/bento_repositories/llm-chat/bentos/v1").json()["manifest"]
    assert llm["entry_service"] == "LLMChat"
    assert llm["envs"] == [{"name": "OPENAI_API_KEY", "value": "", "stage": "runtime"}]
    iris = client.get("/api/v1/bento_repositories/iris_classifier/bentos/v1").json()["manifest"]
    assert iris["entry_service"] == "IrisClassifier" and iris["models"] == ["iris_clf:v1"]
    assert iris["services"][0]["models"][0]["module"] == "bentoml.sklearn"
    fail = client.get("/api/v1/bento_repositories/fail-demo/bentos/v1").json()["manifest"]
    assert fail["entry_service"] == "FailDemo"


def test_global_bento_and_model_lists(client: httpx.Client) -> None:
    bentos = shapes.list_envelope(client.get("/api/v1/bentos").json())
    assert len(bentos) == 6
    for b in bentos:
        shapes.bento(b, with_repository=True)
    created = [b["created_at"] for b in bentos]
    assert created == sorted(created, reverse=True)
    models = shapes.list_envelope(client.get("/api/v1/models").json())
    for m in models:
        shapes.model(m, with_repository=True)
    assert {f"{m['repository']['name']}:{m['version']}": m["manifest"]["module"] for m in models} == {
        "iris_clf:v1": "bentoml.sklearn", "summarizer-model:v1": "bentoml.transformers"}


def test_model_routes(client: httpx.Client) -> None:
    repo = client.get("/api/v1/model_repositories/iris_clf").json()
    shapes.repository(repo, "repo", "latest_model")
    latest = client.get("/api/v1/model_repositories/iris_clf/models", params={"start": 0, "count": 10}).json()
    assert shapes.list_envelope(latest)[0]["version"] == "v1"
    shapes.model(client.get("/api/v1/model_repositories/summarizer-model/models/v1").json())
    assert client.get("/api/v1/model_repositories/iris_clf/models/v7").status_code == 404


def test_push_records_can_be_created(client: httpx.Client) -> None:
    repo = client.post("/api/v1/bento_repositories", json={"name": "echo", "description": ""})
    assert repo.status_code == 200 and repo.json()["latest_bento"] is None
    assert client.post("/api/v1/bento_repositories", json={"name": "echo", "description": ""}).status_code == 409
    manifest = {"service": "service:Echo", "bentoml_version": "1.4.38", "size_bytes": 10, "entry_service": "Echo",
                "services": [{"name": "Echo", "service": "", "models": [], "dependencies": [], "config": {}}]}
    made = client.post("/api/v1/bento_repositories/echo/bentos",
                       json={"description": "", "version": "abc", "manifest": manifest,
                             "build_at": "2026-11-28 05:24:50.765432", "labels": []})
    assert made.status_code == 200
    shapes.bento(made.json())
    assert made.json()["upload_status"] == "pending"
    assert client.get("/api/v1/bento_repositories/echo").json()["latest_bento"]["version"] == "abc"
    assert client.post("/api/v1/model_repositories", json={"name": "m", "description": ""}).status_code == 200


def test_secrets_crud_and_paging(client: httpx.Client) -> None:
    listing = client.get("/api/v1/org_secrets", params={"count": 10, "q": "", "search": "", "start": 0,
                                                        "all": "true"}).json()
    items = shapes.list_envelope(listing)
    assert [s["name"] for s in items] == ["openai"]
    shapes.secret(items[0])
    assert items[0]["content"]["type"] == "env"
    assert items[0]["content"]["items"][0]["key"] == "OPENAI_API_KEY"
    for i in range(12):
        body = {"name": f"s{i:02d}", "description": None,
                "content": {"type": "env", "path": None, "stage": "runtime",
                            "items": [{"key": f"K{i}", "sub_path": None, "value": "v"}]}}
        assert client.post("/api/v1/org_secrets", json=body).status_code == 200
    assert client.post("/api/v1/org_secrets", json=body).status_code == 409
    page = client.get("/api/v1/org_secrets", params={"count": 5, "start": 10}).json()
    assert page["total"] == 13 and len(page["items"]) == 3 and page["start"] == 10 and page["count"] == 5
    assert client.get("/api/v1/org_secrets", params={"search": "s0"}).json()["total"] == 10
    shapes.secret(client.get("/api/v1/org_secrets/s01").json())
    deleted = client.delete("/api/v1/org_secrets/s01")
    assert deleted.status_code == 200 and deleted.json()["name"] == "s01"
    assert client.get("/api/v1/org_secrets/s01").status_code == 404
    bad = client.post("/api/v1/org_secrets", json={"name": "x", "content": {"type": "weird", "items": []}})
    assert bad.status_code == 400


def test_api_tokens_never_list_token_values(sandbox: Sandbox, client: httpx.Client) -> None:
    listing = client.get("/api/v1/api_tokens", params={"start": 0, "count": 100})
    items = shapes.list_envelope(listing.json())
    assert [t["name"] for t in items] == ["sandbox"]
    shapes.api_token(items[0])
    assert sandbox.token not in listing.text
    made = client.post("/api/v1/api_tokens", json={"name": "ci", "description": None, "scopes": ["api"],
                                                   "expired_at": "2099-01-01 00:00:00.000000"}).json()
    assert made["token"].startswith("sbx_")
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": made["token"]}) as other:
        assert other.get("/api/v1/auth/current").status_code == 200
    again = client.get("/api/v1/api_tokens")
    assert made["token"] not in again.text and again.json()["total"] == 2
    assert client.get(f"/api/v1/api_tokens/{made['uid']}").json()["name"] == "ci"
    assert client.delete(f"/api/v1/api_tokens/{made['uid']}").status_code == 200
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": made["token"]}) as other:
        assert other.get("/api/v1/auth/current").status_code == 401


def test_bad_paging_values(client: httpx.Client) -> None:
    assert client.get("/api/v1/org_secrets", params={"count": "ten"}).status_code == 400
    assert client.get("/api/v2/deployments", params={"start": "-1"}).status_code == 400
