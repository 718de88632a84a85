"""Websocket pod lists and log tails, driven with the ``websockets`` client library."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from support import create, make_sandbox_fixture, raw_client, wait_raw_status
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from bentocloud_jupyter.sandbox import Sandbox, ws

SELECTOR = "yatai.ai/bento-repository={},yatai.ai/bento={}"


slow = make_sandbox_fixture(scope="function", speed=5)  # the image build lasts 0.4 s, long enough to watch


@pytest.fixture
def slow_client(slow: Sandbox) -> Iterator[httpx.Client]:
    with raw_client(slow) as c:
        yield c


def open_ws(sb: Sandbox, path: str, token: str | None = None, **query: str) -> ClientConnection:
    url = sb.url.replace("http://", "ws://") + path + ("?" + urlencode(query) if query else "")
    return connect(url, additional_headers={"X-YATAI-API-TOKEN": token or sb.token, "X-Bentoml-Version": "1.4.40"},
                   open_timeout=5)


def recv(conn: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(conn.recv(timeout=timeout))
    assert set(data) == {"type", "message", "payload"}
    return data


def tail_request(container: str, follow: bool = True, tail_lines: int = 50) -> str:
    return json.dumps({"type": "data", "payload": {"id": "3f1c", "container_name": container, "follow": follow,
                                                   "tail_lines": tail_lines}})


def read_until_eof(conn: ClientConnection, batches: list[int] | None = None) -> tuple[list[str], int]:
    """All decoded log text until EOF, and how many server heartbeats came along."""
    lines, beats = [], 0
    while True:
        msg = recv(conn)
        if msg["type"] == "heartbeat":
            beats += 1
            assert msg["payload"] is None and msg["message"] is None
            continue
        assert msg["type"] == "success", msg
        if msg["message"] == "EOF":
            return lines, beats
        assert msg["payload"]["type"] == "append"
        if batches is not None:
            batches.append(len(msg["payload"]["items"]))
        lines += [base64.b64decode(item).decode() for item in msg["payload"]["items"]]


def builder_pod(sb: Sandbox, bento: str, version: str) -> dict[str, Any] | None:
    with open_ws(sb, "/ws/v1/clusters/gcp-us-central-1/pods", organization_name="sandbox", namespace="yatai",
                 selector=SELECTOR.format(bento, version)) as conn:
        msg = recv(conn)
    assert msg["type"] == "success" and msg["message"] == ""
    found = [p for p in msg["payload"] if p["labels"].get("yatai.ai/is-bento-image-builder") == "true"]
    return found[0] if found else None


def wait_builder(sb: Sandbox, bento: str, version: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while (pod := builder_pod(sb, bento, version)) is None:
        assert time.monotonic() < deadline, "no image builder pod appeared"
        time.sleep(0.02)
    return pod


def test_image_builder_pod_and_build_log_until_eof(slow: Sandbox, slow_client: httpx.Client,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "HEARTBEAT", 0.25)  # every 50 ms at speed 5
    assert builder_pod(slow, "summarizer", "v3") is None
    create(slow_client, name="build-me", bento="summarizer:v3")
    pod = wait_builder(slow, "summarizer", "v3")
    assert pod["namespace"] == "yatai" and pod["status"] == {"phase": "Running", "ready": True}
    assert pod["labels"]["yatai.ai/bento-repository"] == "summarizer"
    with open_ws(slow, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod["name"],
                 timestamps="false") as conn:
        conn.send(tail_request("builder"))
        conn.send(json.dumps({"type": "heartbeat"}))  # bentoml's heartbeat thread
        batches: list[int] = []
        lines, beats = read_until_eof(conn, batches)
    text = "".join(lines)
    assert all(line.endswith("\n") for line in lines) and len(lines) >= 30
    assert "Step 1/12 : FROM python:3.11-slim" in text and "Collecting transformers==4.46.3" in text
    assert "Successfully built" in text and beats >= 1
    assert len(batches) >= 5  # paced over the build phase, not dumped at once
    assert wait_raw_status(slow_client, "build-me", {"running"})["status"] == "running"
    finished = builder_pod(slow, "summarizer", "v3")  # a finished builder stays listed, so its log stays readable
    assert finished is not None and finished["status"] == {"phase": "Succeeded", "ready": False}


def test_failing_build_log_ends_with_an_error(slow: Sandbox, slow_client: httpx.Client) -> None:
    create(slow_client, name="doomed", bento="fail-demo:v1")
    pod = wait_builder(slow, "fail-demo", "v1")
    with open_ws(slow, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod["name"],
                 timestamps="true") as conn:
        conn.send(tail_request("builder"))
        lines, _ = read_until_eof(conn)
    assert "ERROR: No matching distribution found for fail-demo-internal-sdk==9.9.9" in "".join(lines)
    assert lines[-1].split(" ", 1)[1].startswith("Image build of fail-demo:v1 failed")  # timestamps=true
    failed = builder_pod(slow, "fail-demo", "v1")
    assert failed is not None and failed["status"]["phase"] == "Failed"


def test_deployment_pods_and_api_server_log_follow(sandbox: Sandbox, client: httpx.Client,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ws, "HEARTBEAT", 2.5)  # every 50 ms at speed 50
    create(client, name="served", bento="summarizer:v3",
           services={"Summarizer": {"scaling": {"min_replicas": 2, "max_replicas": 3}}})
    wait_raw_status(client, "served", {"running"})
    with open_ws(sandbox, "/ws/v2/deployments/served/pods", organization_name="sandbox",
                 cluster="gcp-us-central-1") as conn:
        msg = recv(conn)
    pods = msg["payload"]
    assert msg["type"] == "success" and len(pods) == 2
    assert {p["runner_name"] for p in pods} == {"Summarizer"}
    assert all(p["labels"]["yatai.ai/bento-function-component-type"] == "api-server" and p["status"]["ready"]
               and p["status"]["phase"] == "Running" and p["pod_status"]["status"] == "Running" for p in pods)
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pods[0]["name"],
                 timestamps="false") as conn:
        conn.send(tail_request("main"))
        first = recv(conn)
        assert "Starting production HTTP BentoServer" in base64.b64decode(first["payload"]["items"][0]).decode()
        assert httpx.post(f"{sandbox.url}/_svc/served/summarize", json={"text": "Hi. There."}).status_code == 200
        seen, beats = "", 0
        while "path=/summarize" not in seen or beats < 2:
            msg = recv(conn)
            beats += msg["type"] == "heartbeat"
            if msg["type"] == "success":
                assert msg["message"] != "EOF"  # follow: never ends on its own while the pod runs
                seen += "".join(base64.b64decode(i).decode() for i in msg["payload"]["items"])
        assert "(status=200," in seen
        client.post("/api/v2/deployments/served/terminate", params={"cluster": ""})
        while (msg := recv(conn))["type"] != "success" or msg["message"] != "EOF":
            pass  # the pod went away: the stream ends


def test_tail_without_follow_and_tail_lines(sandbox: Sandbox, client: httpx.Client) -> None:
    create(client, name="short", bento="iris_classifier:v1")
    wait_raw_status(client, "short", {"running"})
    with open_ws(sandbox, "/ws/v2/deployments/short/pods", cluster="gcp-us-central-1") as conn:
        pod = recv(conn)["payload"][0]["name"]
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod) as conn:
        conn.send(tail_request("main", follow=False, tail_lines=1))
        lines, _ = read_until_eof(conn)
    assert len(lines) == 1 and "ready" in lines[0]


def test_websocket_errors(sandbox: Sandbox, client: httpx.Client) -> None:
    with open_ws(sandbox, "/ws/v2/deployments/nope/pods", token="sbx_wrong", cluster="") as conn:
        msg = recv(conn)
        assert msg["type"] == "error" and "invalid API token" in msg["message"]
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    with open_ws(sandbox, "/ws/v2/deployments/nope/pods", cluster="") as conn:
        assert recv(conn) == {"type": "error", "message": "deployment 'nope': record not found", "payload": None}
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name="ghost") as conn:
        msg = recv(conn)
        assert msg["type"] == "error" and "ghost" in msg["message"]
    create(client, name="wrong-container", bento="iris_classifier:v1")
    wait_raw_status(client, "wrong-container", {"running"})
    with open_ws(sandbox, "/ws/v2/deployments/wrong-container/pods", cluster="") as conn:
        pod = recv(conn)["payload"][0]["name"]
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod) as conn:
        conn.send(json.dumps({"type": "nonsense"}))
        assert recv(conn)["type"] == "error"
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod) as conn:
        conn.send(tail_request("builder"))
        assert "not valid" in recv(conn)["message"]
