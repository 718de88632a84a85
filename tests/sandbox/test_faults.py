"""Fault knobs, the admin routes and request statistics."""

from __future__ import annotations

import time

import httpx
import pytest

from bentocloud_jupyter.sandbox import Faults, Sandbox


def test_fail_next_is_deterministic(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.fail_next = 2
    first, second = client.get("/api/v1/auth/current"), client.get("/api/v1/current_org")
    assert first.status_code == second.status_code == 503
    assert first.headers["x-trace-id"] and first.json()["code"] == 503
    assert client.get("/api/v1/auth/current").status_code == 200
    assert sandbox.faults.fail_next == 0


def test_error_status_and_rate(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.error_status = 502
    sandbox.faults.error_rate = 1.0
    assert all(client.get("/api/v1/clusters").status_code == 502 for _ in range(3))
    sandbox.faults.error_rate = 0.0
    assert client.get("/api/v1/clusters").status_code == 200


def test_rate_limit_with_retry_after(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.rate_limit_next = 1
    sandbox.faults.retry_after = 3
    limited = client.get("/api/v2/deployments")
    assert limited.status_code == 429 and limited.headers["retry-after"] == "3"
    assert client.get("/api/v2/deployments").status_code == 200


def test_latency_is_added(sandbox: Sandbox, client: httpx.Client) -> None:
    client.get("/api/v1/auth/current")
    sandbox.faults.latency = 0.3
    started = time.monotonic()
    assert client.get("/api/v1/auth/current").status_code == 200
    assert time.monotonic() - started >= 0.25
    started = time.monotonic()
    assert client.get("/_sandbox/stats").status_code == 200  # admin routes are exempt
    assert time.monotonic() - started < 0.25


def test_drop_next_closes_the_connection_without_a_response(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.drop_next = 1
    with pytest.raises(httpx.TransportError):
        client.get("/api/v1/auth/current")
    assert client.get("/api/v1/auth/current").status_code == 200
    assert sandbox.faults.drop_next == 0


def test_expired_tokens(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.expire_tokens = True
    resp = client.get("/api/v1/auth/current")
    assert resp.status_code == 401 and "expired" in resp.json()["error"]
    sandbox.faults.expire_tokens = False
    assert client.get("/api/v1/auth/current").status_code == 200
    sandbox.expire_token(sandbox.token)
    resp = client.get("/api/v2/deployments")
    assert resp.status_code == 401 and "expired" in resp.json()["error"]
    assert sandbox.token not in resp.text


def test_faults_given_at_start() -> None:
    with Sandbox(faults=Faults(fail_next=1, error_status=500)) as sb:
        headers = {"X-YATAI-API-TOKEN": sb.token}
        assert httpx.get(sb.url + "/api/v1/auth/current", headers=headers).status_code == 500
        assert httpx.get(sb.url + "/api/v1/auth/current", headers=headers).status_code == 200


def test_reset_puts_every_knob_back_in_place(sandbox: Sandbox, client: httpx.Client) -> None:
    knobs = sandbox.faults
    knobs.update({"fail_next": 3, "latency": 0.5, "expire_tokens": True, "presign_forbidden": True})
    knobs.reset()
    assert sandbox.faults is knobs and knobs.to_dict() == Faults().to_dict()
    assert client.get("/api/v1/auth/current").status_code == 200


def test_admin_faults_route(sandbox: Sandbox, client: httpx.Client) -> None:
    admin = httpx.Client(base_url=sandbox.url)  # no token needed
    assert admin.get("/_sandbox/faults").json() == Faults().to_dict()
    set_ = admin.post("/_sandbox/faults", json={"fail_next": 1, "latency": 0.01})
    assert set_.status_code == 200 and set_.json()["fail_next"] == 1
    assert sandbox.faults.fail_next == 1 and sandbox.faults.latency == 0.01
    assert admin.get("/_sandbox/faults").status_code == 200  # exempt: does not consume fail_next
    assert client.get("/api/v1/auth/current").status_code == 503
    for bad in ({"nope": 1}, {"fail_next": -1}, {"expire_tokens": "yes"}, {"error_rate": 2}, {"fail_next": 1.5}):
        assert admin.post("/_sandbox/faults", json=bad).status_code == 400, bad
    admin.post("/_sandbox/faults", json={"error_rate": 1.0})
    assert admin.get("/_sandbox/stats").status_code == 200
    reset = admin.post("/_sandbox/reset")
    assert reset.status_code == 200 and sandbox.faults.error_rate == 0.0
    assert client.get("/api/v1/auth/current").status_code == 200


def test_reset_state(sandbox: Sandbox, client: httpx.Client) -> None:
    client.post("/api/v2/deployments", json={"bento": "summarizer:v1", "name": "gone-soon"})
    assert sandbox.state.deployments
    httpx.post(sandbox.url + "/_sandbox/reset", json={"state": True})
    assert not sandbox.state.deployments
    assert client.get("/api/v1/auth/current").status_code == 200


def test_stats_count_routes_and_connections(sandbox: Sandbox) -> None:
    sandbox.reset_stats()
    headers = {"X-YATAI-API-TOKEN": sandbox.token}
    with httpx.Client(base_url=sandbox.url, headers=headers) as shared:
        for name in ("a", "b", "c"):
            shared.get(f"/api/v2/deployments/{name}")
        shared.get("/api/v2/deployments")
    for _ in range(2):
        with httpx.Client(base_url=sandbox.url, headers=headers) as fresh:
            fresh.get("/api/v1/auth/current")
    stats = sandbox.stats()
    assert stats["total"] == 6
    assert stats["by_route"] == {"GET /api/v2/deployments/{name}": 3, "GET /api/v2/deployments": 1,
                                 "GET /api/v1/auth/current": 2}
    assert stats["connections"] == 3
    assert httpx.get(sandbox.url + "/_sandbox/stats").json() == stats  # admin calls are not counted
    sandbox.reset_stats()
    assert sandbox.stats() == {"total": 0, "by_route": {}, "connections": 0}
