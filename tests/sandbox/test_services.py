"""The fake deployed services at ``/_svc/{name}``: OpenAPI, deterministic APIs, access authorization."""

from __future__ import annotations

import httpx
import pytest
from support import FakeClock, create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox


def deploy(client: httpx.Client, name: str, bento: str, **body: object) -> str:
    assert create(client, name=name, bento=bento, **body).status_code == 200
    data = wait_raw_status(client, name, {"running"})
    url: str = data["urls"][0]
    return url


def test_summarizer_docs_and_api(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "sum", "summarizer:v3")
    assert url == f"{sandbox.url}/_svc/sum"
    doc = httpx.get(f"{url}/docs.json").json()
    assert doc["openapi"].startswith("3.") and doc["info"]["title"] == "Summarizer"
    post = doc["paths"]["/summarize"]["post"]
    schema = post["requestBody"]["content"]["application/json"]["schema"]
    assert schema["properties"] == {"text": {"title": "Text", "type": "string"}} and schema["required"] == ["text"]
    assert post["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["summary"]["type"] == (
        "string")
    text = "The sandbox emulates BentoCloud. It runs locally! Nothing leaves the machine."
    resp = httpx.post(f"{url}/summarize", json={"text": text})
    assert resp.status_code == 200 and resp.json() == {"summary": "The sandbox emulates BentoCloud."}
    long = httpx.post(f"{url}/summarize", json={"text": "word " * 100}).json()["summary"]
    assert len(long) == 120 and long.endswith("...")
    assert httpx.get(f"{url}/readyz").text == "ok" and httpx.get(f"{url}/livez").status_code == 200


def test_iris_and_chat_are_deterministic(client: httpx.Client) -> None:
    iris = deploy(client, "iris", "iris_classifier:v1")
    rows = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]
    assert httpx.post(f"{iris}/classify", json={"input_data": rows}).json() == [0, 1, 2]
    doc = httpx.get(f"{iris}/docs.json").json()
    rows_schema = doc["paths"]["/classify"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert rows_schema["properties"]["input_data"]["items"]["minItems"] == 4
    chat = deploy(client, "chat", "llm-chat:v1", secrets=["openai"])
    first = httpx.post(f"{chat}/chat", json={"prompt": "Hello?"}).json()
    assert first == httpx.post(f"{chat}/chat", json={"prompt": "Hello?"}).json() and "Hello?" in first["reply"]


@pytest.mark.parametrize(("body", "words"), [
    ({"input_data": [[1, 2, 3]]}, "expected 4 to 4 items"),
    ({"input_data": [["a", 1, 2, 3]]}, "expected a number"),
    ({}, "field required"),
    ([1], "expected a JSON object"),
])
def test_bad_bodies_are_400(client: httpx.Client, body: object, words: str) -> None:
    iris = deploy(client, "bad-iris", "iris_classifier:v1")
    resp = httpx.post(f"{iris}/classify", json=body)
    assert resp.status_code == 400 and words in resp.json()["error"]


def test_routing_errors(client: httpx.Client) -> None:
    url = deploy(client, "routes", "summarizer:v1")
    assert httpx.post(f"{url}/summarize", content=b"{not json").status_code == 400
    assert httpx.get(f"{url}/summarize").status_code == 405
    assert httpx.post(f"{url}/nothing", json={}).status_code == 404
    assert httpx.get(f"{client.base_url}/_svc/ghost/docs.json").status_code == 404


def test_access_authorization(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "private", "summarizer:v3", access_authorization=True)
    body = {"text": "Secret. Stuff."}
    denied = httpx.post(f"{url}/summarize", json=body)
    assert denied.status_code == 401 and "Authorization: Bearer" in denied.json()["error"]
    assert denied.headers["www-authenticate"] == "Bearer"
    assert httpx.post(f"{url}/summarize", json=body, headers={"Authorization": "Bearer sbx_nope"}).status_code == 401
    assert httpx.get(f"{url}/docs.json").status_code == 401
    ok = httpx.post(f"{url}/summarize", json=body, headers={"Authorization": f"Bearer {sandbox.token}"})
    assert ok.status_code == 200 and ok.json() == {"summary": "Secret."}
    assert httpx.get(f"{url}/readyz").status_code == 200  # probes stay open
    public = deploy(client, "public", "summarizer:v3")
    assert httpx.post(f"{public}/summarize", json=body).status_code == 200


def test_not_running_is_503(client: httpx.Client, clock: FakeClock) -> None:  # frozen: it stays deploying
    create(client, name="early", bento="summarizer:v3")
    resp = httpx.post(f"{client.base_url}/_svc/early/summarize", json={"text": "x"})
    assert resp.status_code == 503 and "not running" in resp.json()["error"]


def test_seeded_manifest_schema(client: httpx.Client) -> None:
    manifest = client.get("/api/v1/bento_repositories/iris_classifier/bentos/v1").json()["manifest"]
    route = manifest["schema"]["routes"][0]
    assert manifest["schema"]["name"] == "IrisClassifier" and manifest["schema"]["type"] == "service"
    assert (route["name"], route["route"], route["output"]["items"]) == ("classify", "/classify", {"type": "integer"})
    assert manifest["apis"] == {}  # spec-2 bentos keep apis empty, like bentoml's own client sends


def test_uploaded_bento_lists_its_routes_but_is_not_run(client: httpx.Client) -> None:
    schema = {"name": "Echo", "type": "service", "routes": [
        {"name": "echo", "route": "/echo", "input": {"type": "object", "properties": {"text": {"type": "string"}}},
         "output": {"type": "string"}}]}
    client.post("/api/v1/bento_repositories", json={"name": "echo", "description": ""})
    manifest = {"service": "service:Echo", "bentoml_version": "1.4.40", "size_bytes": 1, "entry_service": "Echo",
                "schema": schema, "envs": [], "services": [], "models": [], "spec": 2}
    client.post("/api/v1/bento_repositories/echo/bentos", json={"version": "v1", "manifest": manifest,
                                                                 "description": "", "labels": []})
    client.patch("/api/v1/bento_repositories/echo/bentos/v1/finish_upload",
                 json={"status": "success", "reason": "bento for development"})
    url = deploy(client, "echo", "echo:v1")
    assert "/echo" in httpx.get(f"{url}/docs.json").json()["paths"]
    assert httpx.post(f"{url}/echo", json={"text": "hi"}).status_code == 501
