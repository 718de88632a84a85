"""Deployments v2: lifecycle, revisions, failure rules, validation, listing."""

from __future__ import annotations

import httpx
import pytest
import sandbox_shapes as shapes
from support import FakeClock, create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox


def statuses(sandbox: Sandbox, name: str) -> list[str]:
    return [s for s, _ in sandbox.history(name)]


def test_create_runs_through_the_lifecycle(sandbox: Sandbox, client: httpx.Client, clock: FakeClock) -> None:
    resp = create(client, name="sum", bento="summarizer:v1")  # the clock stands still until advanced below
    assert resp.status_code == 200
    body = resp.json()
    shapes.deployment(body)
    assert body["status"] == "deploying"
    assert body["cluster"]["name"] == "gcp-us-central-1"
    assert body["urls"] == [f"{sandbox.url}/_svc/sum"]
    target = body["latest_revision"]["targets"][0]
    assert target["bento"]["repository"]["name"] == "summarizer" and target["bento"]["version"] == "v1"
    assert target["config"]["services"]["Summarizer"]["scaling"] == {"min_replicas": 1, "max_replicas": 1,
                                                                    "policy": None}
    assert httpx.get(body["urls"][0] + "/readyz").status_code == 503
    for _ in range(8):  # through every phase (3.5 s at speed 1, i.e. 70 ms at speed 50), observing each
        clock.advance(0.5 / 50)
        client.get("/api/v2/deployments/sum")
    running = wait_raw_status(client, "sum", {"running"})
    shapes.deployment(running)
    assert statuses(sandbox, "sum") == ["deploying", "image-building", "deploying", "running"]
    assert running["updated_at"] > running["created_at"]
    assert httpx.get(running["urls"][0] + "/readyz").status_code == 200
    assert httpx.get(f"{sandbox.url}/_svc/ghost/readyz").status_code == 404


def test_timings_scale_with_speed(sandbox: Sandbox, client: httpx.Client, clock: FakeClock) -> None:
    create(client, name="timed")
    seen = []
    elapsed = 0.0
    for at in (0.25, 0.75, 2.4, 2.6, 3.4, 3.6):  # seconds at speed 1; the sandbox runs at 50
        clock.advance((at - elapsed) / 50)
        elapsed = at
        seen.append(client.get("/api/v2/deployments/timed").json()["status"])
    assert seen == ["deploying", "image-building", "image-building", "deploying", "deploying", "running"]


def test_update_makes_a_new_revision(sandbox: Sandbox, client: httpx.Client) -> None:
    first = create(client, name="upd", bento="summarizer:v1").json()
    wait_raw_status(client, "upd", {"running"})
    body = {"access_authorization": True, "envs": [{"name": "LOG_LEVEL", "value": "debug"}], "labels": None,
            "secrets": [], "canary": None, "bento": "summarizer:v2",
            "services": {"Summarizer": {"instance_type": "cpu.2",
                                        "scaling": {"min_replicas": 1, "max_replicas": 3, "policy": None},
                                        "envs": None, "deployment_strategy": "Recreate", "extras": None,
                                        "cold_start_timeout": None, "config_overrides": {}}}}
    resp = client.put("/api/v2/deployments/upd", params={"cluster": "gcp-us-central-1"}, json=body)
    assert resp.status_code == 200
    updated = resp.json()
    shapes.deployment(updated)
    rev = updated["latest_revision"]
    assert rev["uid"] != first["latest_revision"]["uid"] and rev["name"] != first["latest_revision"]["name"]
    config = rev["targets"][0]["config"]
    assert config["access_authorization"] is True and config["envs"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    assert config["services"]["Summarizer"]["instance_type"] == "cpu.2"
    assert config["services"]["Summarizer"]["scaling"]["max_replicas"] == 3
    assert rev["targets"][0]["bento"]["version"] == "v2"
    assert updated["status"] == "deploying"
    wait_raw_status(client, "upd", {"running"})
    revisions = client.get(f"{sandbox.url}/_sandbox/deployments/upd").json()["revisions"]
    assert [r["status"] for r in revisions] == ["inactive", "active"]
    assert statuses(sandbox, "upd").count("running") == 2


def test_void_update_rerolls_same_config(client: httpx.Client) -> None:
    first = create(client, name="void").json()
    again = client.put("/api/v2/deployments/void/void_update", params={"cluster": ""})
    assert again.status_code == 200
    shapes.deployment(again.json())
    assert again.json()["latest_revision"]["uid"] != first["latest_revision"]["uid"]
    assert again.json()["latest_revision"]["targets"][0]["config"] == first["latest_revision"]["targets"][0]["config"]


def test_terminate_restart_and_delete(sandbox: Sandbox, client: httpx.Client) -> None:
    create(client, name="term")
    wait_raw_status(client, "term", {"running"})
    stopped = client.post("/api/v2/deployments/term/terminate", params={"cluster": ""})
    assert stopped.status_code == 200 and stopped.json()["status"] == "terminating"
    shapes.deployment(stopped.json())
    wait_raw_status(client, "term", {"terminated"})
    assert client.post("/api/v2/deployments/term/terminate").json()["status"] == "terminated"
    client.put("/api/v2/deployments/term/void_update")
    wait_raw_status(client, "term", {"running"})
    assert statuses(sandbox, "term")[-3:] == ["image-building", "deploying", "running"]
    gone = client.delete("/api/v2/deployments/term", params={"cluster": ""})
    assert gone.status_code == 200
    shapes.deployment(gone.json())
    assert gone.json()["deleted_at"] is not None
    for call in (client.get, client.delete):
        resp = call("/api/v2/deployments/term")
        assert resp.status_code == 404 and "record not found" in resp.json()["error"]
    assert client.post("/api/v2/deployments/term/terminate").status_code == 404


@pytest.mark.parametrize(("name", "bento", "final"), [
    ("bad-image", "fail-demo:v1", "image-build-failed"),
    ("crash-test", "summarizer:v3", "failed"),
    ("unhealthy-one", "summarizer", "unhealthy"),
])
def test_failure_rules(client: httpx.Client, name: str, bento: str, final: str) -> None:
    create(client, name=name, bento=bento)
    data = wait_raw_status(client, name, {final, "running"})
    assert data["status"] == final


def test_scale_to_zero_and_wake(sandbox: Sandbox, client: httpx.Client, clock: FakeClock) -> None:
    services = {"Summarizer": {"scaling": {"min_replicas": 0, "max_replicas": 2, "policy": None}}}
    create(client, name="idle", services=services)
    clock.advance(3.6 / 50)
    assert client.get("/api/v2/deployments/idle").json()["status"] == "running"
    clock.advance(5.1 / 50)
    asleep = client.get("/api/v2/deployments/idle").json()
    assert asleep["status"] == "scaled-to-zero"
    assert httpx.get(asleep["urls"][0] + "/readyz").status_code == 200
    assert client.get("/api/v2/deployments/idle").json()["status"] == "running"
    clock.advance(4.9 / 50)
    assert client.get("/api/v2/deployments/idle").json()["status"] == "running"
    clock.advance(0.2 / 50)
    assert client.get("/api/v2/deployments/idle").json()["status"] == "scaled-to-zero"


def test_generated_name_and_latest_bento(client: httpx.Client) -> None:
    made = create(client, bento="iris_classifier", name=None).json()
    assert made["name"].startswith("iris-classifier-") and len(made["name"]) == len("iris-classifier-") + 6
    assert made["latest_revision"]["targets"][0]["bento"]["version"] == "v1"
    latest = create(client, bento="summarizer", name="latest").json()
    assert latest["latest_revision"]["targets"][0]["bento"]["version"] == "v3"


def test_required_envs_secrets_and_services(client: httpx.Client) -> None:
    missing = create(client, name="chat", bento="llm-chat:v1")
    assert missing.status_code == 400 and "OPENAI_API_KEY" in missing.json()["error"]
    with_env = create(client, name="chat-env", bento="llm-chat:v1", envs=[{"name": "OPENAI_API_KEY", "value": "x"}])
    assert with_env.status_code == 200
    with_secret = create(client, name="chat-secret", bento="llm-chat:v1", secrets=["openai"])
    assert with_secret.status_code == 200
    assert with_secret.json()["latest_revision"]["targets"][0]["config"]["secrets"] == ["openai"]
    no_secret = create(client, name="chat-nosecret", bento="llm-chat:v1", secrets=["nope"])
    assert no_secret.status_code == 404 and "nope" in no_secret.json()["error"]
    wrong_service = create(client, name="wrong-svc", services={"Other": {}})
    assert wrong_service.status_code == 400


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"bento": "nothing:v1"}, 404, "nothing:v1"),
    ({"bento": "summarizer:v42"}, 404, "summarizer:v42"),
    ({"cluster": "mars-1"}, 404, "mars-1"),
    ({"name": "Bad_Name"}, 400, "Bad_Name"),
    ({"name": "-dash"}, 400, "name"),
    ({"services": {"Summarizer": {"instance_type": "tpu.9"}}}, 400, "tpu.9"),
    ({"services": {"Summarizer": {"scaling": {"min_replicas": 3, "max_replicas": 2}}}}, 400, "min_replicas"),
    ({"services": {"Summarizer": {"scaling": {"min_replicas": None, "max_replicas": 0}}}}, 400, "max_replicas"),
    ({"services": {"Summarizer": {"scaling": {"min_replicas": -1, "max_replicas": 2}}}}, 400, "min_replicas"),
    ({"bento": None}, 400, "bento"),
])
def test_create_validation(client: httpx.Client, body: dict[str, object], status: int, needle: str) -> None:
    body.setdefault("name", "valid-name")
    resp = create(client, **body)
    assert resp.status_code == status, resp.text
    assert needle in resp.json()["error"]
    if status == 404:
        assert "record not found" in resp.json()["error"]


def test_duplicate_name_is_409_and_bad_json_400(client: httpx.Client) -> None:
    assert create(client, name="dup").status_code == 200
    assert create(client, name="dup", cluster="aws-us-west-2").status_code == 409
    raw = client.post("/api/v2/deployments", content=b"{not json", headers={"content-type": "application/json"})
    assert raw.status_code == 400


def test_update_validation(client: httpx.Client) -> None:
    assert client.put("/api/v2/deployments/ghost", json={"bento": "summarizer:v1"}).status_code == 404
    create(client, name="keep")
    assert client.put("/api/v2/deployments/keep", json={"bento": "nope:v1"}).status_code == 404
    assert client.put("/api/v2/deployments/keep", params={"cluster": "aws-us-west-2"},
                      json={"bento": "summarizer:v1"}).status_code == 404
    assert client.put("/api/v2/deployments/keep", json={
        "bento": "summarizer:v1", "services": {"Summarizer": {"instance_type": "huge"}}}).status_code == 400


def test_null_min_replicas_is_legal(client: httpx.Client) -> None:
    resp = create(client, name="only-max", services={"Summarizer": {"scaling": {"min_replicas": None,
                                                                                "max_replicas": 2}}})
    assert resp.status_code == 200


def test_list_filters_paging_and_order(client: httpx.Client) -> None:
    for i in range(25):
        create(client, name=f"d{i:02d}", labels=[{"key": "team", "value": "a" if i % 2 else "b"}])
    create(client, name="west", cluster="aws-us-west-2")
    create(client, name="devbox", dev=True)
    default = client.get("/api/v2/deployments", params={"cluster": "", "all": "", "count": "", "q": "",
                                                       "search": "", "start": ""}).json()
    items = shapes.list_envelope(default)
    assert default["total"] == 26 and len(items) == 20
    for item in items:
        shapes.deployment(item)
    assert items[0]["name"] == "devbox" and items[1]["name"] == "d24"
    everything = client.get("/api/v2/deployments", params={"all": "true", "count": 100}).json()
    assert everything["total"] == 27
    assert [d["name"] for d in client.get("/api/v2/deployments", params={"cluster": "aws-us-west-2"}).json()[
        "items"]] == ["west"]
    second = client.get("/api/v2/deployments", params={"start": 20, "count": 20}).json()
    assert len(second["items"]) == 6 and second["start"] == 20
    assert client.get("/api/v2/deployments", params={"search": "d1"}).json()["total"] == 10
    labelled = client.get("/api/v2/deployments", params={"all": "true", "q": "label:team=a", "count": 50}).json()
    assert labelled["total"] == 12
    assert client.get("/api/v2/deployments", params={"all": "true", "q": "is:dev"}).json()["items"][0][
        "name"] == "devbox"
    assert client.get("/api/v2/deployments", params={"cluster": "nowhere"}).status_code == 404


def test_updated_at_moves_with_status(client: httpx.Client, clock: FakeClock) -> None:
    created = create(client, name="stamp").json()
    clock.advance(0.5 / 50)
    building = client.get("/api/v2/deployments/stamp").json()
    assert building["updated_at"] > created["updated_at"]
    clock.advance(0.2 / 50)
    assert client.get("/api/v2/deployments/stamp").json()["updated_at"] == building["updated_at"]
