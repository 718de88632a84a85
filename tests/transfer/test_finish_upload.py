"""Issue 16, finding 3: a failed "finish upload (success)" is retried, and reported failed when it cannot be done.

A hostile loopback server takes a presigned upload, then answers ``finish_upload`` with 503s (or a 400).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import Answer, Hostile
from support import make_model

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.errors import APIError, ServerError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy

BASE = "/api/v1/model_repositories/weights"
FINISH = f"{BASE}/models/m1/finish_upload"
UNAVAILABLE = Answer(503, b'{"message": "service unavailable"}')
OK = Answer(200, b"{}")


@pytest.fixture()
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[Hostile]:
    monkeypatch.setattr(transfer, "FINISH_BACKOFF", 0.0)
    with Hostile() as server:
        server.json("GET", BASE, {"name": "weights"})
        server.json("POST", f"{BASE}/models", {"version": "m1", "transmission_strategy": None})
        server.json("PATCH", f"{BASE}/models/m1/presign_upload_url",
                    {"presigned_upload_url": f"{server.url}/storage/weights/m1?signature=abc"})
        server.json("PATCH", f"{BASE}/models/m1/start_upload", {})
        server.on("PUT", "/storage/weights/m1", Answer(200, b"", {"ETag": '"e1"'}))
        yield server


@pytest.fixture()
def client(hostile: Hostile) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(hostile.url, "hostile-token", retry=RetryPolicy(max_attempts=1)) as c:
        yield c


def test_a_passing_503_is_retried_until_the_upload_is_finished(hostile: Hostile, client: BentoCloudClient,
                                                               isolated_home: Path) -> None:
    hostile.on("PATCH", FINISH, UNAVAILABLE, UNAVAILABLE, OK)
    tag = make_model(isolated_home, "weights", "m1", size=10_000)
    assert transfer.push(client, tag, kind="model").mode == "presigned"
    assert [body["status"] for body in hostile.calls("PATCH", FINISH)] == ["success"] * 3


def test_a_finish_that_keeps_failing_is_reported_failed_in_one_line(hostile: Hostile, client: BentoCloudClient,
                                                                    isolated_home: Path) -> None:
    hostile.on("PATCH", FINISH, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, UNAVAILABLE, OK)
    tag = make_model(isolated_home, "weights", "m1", size=10_000)
    with pytest.raises(ServerError) as info:
        transfer.push(client, tag, kind="model")
    text = str(info.value)
    assert "\n" not in text and "did not confirm it" in text and "push it again" in text
    assert info.value.status == 503 and "signature" not in text
    calls = hostile.calls("PATCH", FINISH)
    assert [body["status"] for body in calls] == ["success"] * transfer.FINISH_ATTEMPTS + ["failed"]
    assert "did not confirm" in calls[-1]["reason"]
    assert not list((isolated_home / ".bentocloud-jupyter-staging").iterdir())


def test_a_refused_finish_is_not_retried(hostile: Hostile, client: BentoCloudClient, isolated_home: Path) -> None:
    hostile.on("PATCH", FINISH, Answer(400, b'{"message": "bad upload"}'), OK)
    tag = make_model(isolated_home, "weights", "m1", size=10_000)
    with pytest.raises(APIError) as info:
        transfer.push(client, tag, kind="model")
    assert "\n" not in str(info.value)
    assert [body["status"] for body in hostile.calls("PATCH", FINISH)] == ["success", "failed"]


def test_a_429_on_finish_is_retried_too(hostile: Hostile, client: BentoCloudClient, isolated_home: Path) -> None:
    slow_down = Answer(429, b'{"message": "slow down"}', {"Content-Type": "application/json", "Retry-After": "0"})
    hostile.on("PATCH", FINISH, slow_down, OK)
    tag = make_model(isolated_home, "weights", "m1", size=10_000)
    assert transfer.push(client, tag, kind="model").mode == "presigned"
    assert [body["status"] for body in hostile.calls("PATCH", FINISH)] == ["success"] * 2
