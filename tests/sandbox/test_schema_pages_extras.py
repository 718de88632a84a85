"""``/schema.json`` of deployed services, the dashboard page bentoml links to, and no nulls in int fields."""

from __future__ import annotations

import httpx
from support import FakeClock, create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox


def deploy(client: httpx.Client, name: str, bento: str, **body: object) -> str:
    assert create(client, name=name, bento=bento, **body).status_code == 200
    url: str = wait_raw_status(client, name, {"running"})["urls"][0]
    return url


def test_schema_json_in_bentomls_shape(client: httpx.Client) -> None:
    url = deploy(client, "iris", "iris_classifier:v1")
    schema = httpx.get(f"{url}/schema.json").json()
    assert (schema["name"], schema["type"]) == ("IrisClassifier", "service")
    (route,) = schema["routes"]
    assert (route["name"], route["route"], route["is_task"]) == ("classify", "/classify", False)
    assert route["input"]["properties"]["input_data"]["type"] == "array"
    assert route["input"]["required"] == ["input_data"]
    assert route["output"] == {"title": "Output", "type": "array", "items": {"type": "integer"}}
    assert schema["paths"] == {"/classify": {"mounted": False}}
    assert httpx.post(f"{url}/schema.json").status_code == 405


def test_schema_json_keeps_access_rules(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "private", "summarizer:v3", access_authorization=True)
    denied = httpx.get(f"{url}/schema.json")
    assert denied.status_code == 401 and denied.headers["www-authenticate"] == "Bearer"
    ok = httpx.get(f"{url}/schema.json", headers={"Authorization": f"Bearer {sandbox.token}"})
    assert ok.status_code == 200 and ok.json()["routes"][0]["name"] == "summarize"


def test_schema_json_needs_a_running_deployment(client: httpx.Client, clock: FakeClock) -> None:
    create(client, name="early", bento="summarizer:v3")  # the fake clock stands still: never running
    early = httpx.get(f"{client.base_url}/_svc/early/schema.json")
    assert early.status_code == 503 and "not running" in early.json()["error"]
    assert httpx.get(f"{client.base_url}/_svc/ghost/schema.json").status_code == 404


def test_schema_json_of_an_uploaded_bento(client: httpx.Client) -> None:
    schema = {"name": "Echo", "type": "service", "routes": [
        {"name": "echo", "route": "/echo", "input": {"type": "object", "properties": {"text": {"type": "string"}}},
         "output": {"type": "string"}}, {"route": "/nameless"}]}
    client.post("/api/v1/bento_repositories", json={"name": "echo", "description": ""})
    manifest = {"service": "service:Echo", "bentoml_version": "1.4.40", "size_bytes": 1, "entry_service": "Echo",
                "schema": schema, "envs": [], "services": [], "models": [], "spec": 2}
    client.post("/api/v1/bento_repositories/echo/bentos", json={"version": "v1", "manifest": manifest,
                                                                 "description": "", "labels": []})
    client.patch("/api/v1/bento_repositories/echo/bentos/v1/finish_upload", json={"status": "success", "reason": ""})
    url = deploy(client, "echo", "echo:v1")
    served = httpx.get(f"{url}/schema.json").json()
    assert served["name"] == "Echo" and [r["name"] for r in served["routes"]] == ["echo"]
    assert served["routes"][0]["output"] == {"type": "string"}


def test_dashboard_page(sandbox: Sandbox, client: httpx.Client) -> None:
    deploy(client, "sum", "summarizer:v2", access_authorization=True)
    page = httpx.get(f"{sandbox.url}/deployments/sum")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for words in ("Deployment sum", '<b id="status">running</b>', "gcp-us-central-1", "summarizer:v2",
                  f'href="{sandbox.url}/_svc/sum"', "Access authorization</th><td>on"):
        assert words in page.text
    assert sandbox.token not in page.text
    assert httpx.get(f"{sandbox.url}/codespaces/sum").status_code == 200
    west = create(client, name="west", cluster="aws-us-west-2")
    assert west.status_code == 200
    there = httpx.get(f"{sandbox.url}/deployments/west", params={"cluster": "aws-us-west-2", "namespace": "yatai"})
    assert there.status_code == 200 and "aws-us-west-2" in there.text
    assert httpx.get(f"{sandbox.url}/deployments/west", params={"cluster": "gcp-us-central-1"}).status_code == 404


def test_dashboard_page_escapes(sandbox: Sandbox) -> None:
    missing = httpx.get(f"{sandbox.url}/deployments/<img src=x onerror=alert(1)>")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "<img" not in missing.text and "&lt;img src=x onerror=alert(1)&gt;" in missing.text


def overrides_body(timeout: object) -> dict[str, object]:
    extras = {"bento_function_overrides": None,
              "bento_request_overrides": {"imageBuildTimeout": timeout, "imageBuilderExtraPodMetadata": None,
                                          "imageBuilderExtraPodSpec": {"nodeSelector": {"pool": "build"}},
                                          "imageBuilderExtraContainerEnv": None,
                                          "imageBuilderContainerResources": None,
                                          "dockerConfigJsonSecretName": None, "downloaderContainerEnvFrom": None}}
    return {"Summarizer": {"instance_type": "cpu.2", "scaling": {"min_replicas": 1, "max_replicas": 1,
                                                                 "policy": None}, "envs": None,
                           "deployment_strategy": None, "extras": extras, "cold_start_timeout": None,
                           "config_overrides": {}}}


def test_no_nulls_echoed_into_overrides(client: httpx.Client) -> None:
    made = create(client, name="ovr", services=overrides_body(None))
    assert made.status_code == 200, made.text
    extras = made.json()["latest_revision"]["targets"][0]["config"]["services"]["Summarizer"]["extras"]
    assert extras == {"bento_request_overrides": {"imageBuilderExtraPodSpec": {"nodeSelector": {"pool": "build"}}}}
    listed = client.get("/api/v2/deployments").json()["items"][0]
    assert "null" not in str(listed["latest_revision"]["targets"][0]["config"]["services"]["Summarizer"]["extras"])
    kept = create(client, name="ovr-timeout", services=overrides_body(1800)).json()
    services = kept["latest_revision"]["targets"][0]["config"]["services"]
    assert services["Summarizer"]["extras"]["bento_request_overrides"]["imageBuildTimeout"] == 1800


def test_non_integer_timeouts_are_400(client: httpx.Client) -> None:
    bad = create(client, name="ovr-bad", services=overrides_body("30m"))
    assert bad.status_code == 400 and "imageBuildTimeout must be an integer" in bad.json()["error"]
    services = overrides_body(None)
    services["Summarizer"]["cold_start_timeout"] = "soon"  # type: ignore[index]
    cold = create(client, name="cold-bad", services=services)
    assert cold.status_code == 400 and "cold_start_timeout" in cold.json()["error"]


def test_canary_service_extras_lose_nulls(client: httpx.Client) -> None:
    canary = {"route_type": "header", "route_by": "x-canary", "versions": {
        "beta": {"bento": "summarizer:v2", "weight": 10, "envs": None, "secrets": None,
                 "services": {"Summarizer": {"extras": {"bento_request_overrides": {"imageBuildTimeout": None}}}}}}}
    made = create(client, name="canary", canary=canary).json()
    echoed = made["latest_revision"]["targets"][0]["config"]["canary"]
    assert echoed["versions"]["beta"]["services"]["Summarizer"]["extras"] == {"bento_request_overrides": {}}
    assert echoed["route_by"] == "x-canary" and echoed["versions"]["beta"]["weight"] == 10
