"""The services' latency model: seeded delays, replicas between min and max, queueing, cold starts; the admin route."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from support import body, create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.sandbox.latency import ApiLatency, LatencyModel, model_for, scaling_bounds

TEXT = {"text": "One sentence. Two sentences."}


def deploy(client: httpx.Client, name: str, low: int, high: int, wanted: str = "running") -> str:
    full = body("summarizer:v3", name, scaling_max=high)
    full["services"]["Summarizer"]["scaling"]["min_replicas"] = low
    assert create(client, **full).status_code == 200
    url: str = wait_raw_status(client, name, {wanted}, timeout=10.0)["urls"][0]
    return url


async def burst(url: str, n: int) -> list[int]:
    async with httpx.AsyncClient(timeout=10.0, limits=httpx.Limits(max_connections=n)) as http:
        answers = await asyncio.gather(*(http.post(f"{url}/summarize", json=TEXT) for _ in range(n)))
    return [a.status_code for a in answers]


def test_seeded_delays_repeat() -> None:
    rule = ApiLatency(base=0.01, jitter=0.5)
    first, second = LatencyModel(seed=7), LatencyModel(seed=7)
    a = [first.delay(rule) for _ in range(20)]
    assert a == [second.delay(rule) for _ in range(20)]
    assert all(0.01 <= d < 0.51 for d in a) and len(set(a)) > 1
    first.reset()
    assert [first.delay(rule) for _ in range(20)] == a


def test_most_specific_rule_wins_and_knobs_are_checked() -> None:
    model = LatencyModel()
    model.set(base=1.0)
    model.set("sum", base=2.0)
    model.set("sum", "summarize", base=3.0)
    assert model.rule("sum", "/summarize").base == 3.0 and model.rule("sum", "/other").base == 2.0
    assert model.rule("x", "/summarize").base == 1.0
    for bad in ({"base": -1}, {"jitter": float("nan")}, {"per_replica": 1.5}, {"per_replica": True}, {"speed": 1}):
        with pytest.raises(ValueError):
            model.set(**bad)


def test_scaling_bounds() -> None:
    conf = {"services": {"S": {"scaling": {"min_replicas": 0, "max_replicas": 3}}}}
    assert scaling_bounds(conf, "S") == (0, 3) and scaling_bounds({}, "S") == (1, 1)


def test_replicas_grow_to_max_and_the_rest_queue(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "lat-grow", 1, 3)
    model = model_for(sandbox.state)
    model.set("lat-grow", "summarize", base=0.3, per_replica=2)
    assert asyncio.run(burst(url, 10)) == [200] * 10
    pool = model.snapshot("lat-grow")
    assert pool["peak_replicas"] == 3 and pool["peak_in_flight"] <= 6
    assert pool["served"] == 10 and pool["queued"] >= 4 and pool["cold_starts"] == 0


def test_unlimited_by_default_and_docs_are_not_delayed(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "lat-free", 1, 1)
    assert httpx.get(f"{url}/docs.json").status_code == 200
    assert asyncio.run(burst(url, 3)) == [200] * 3
    assert model_for(sandbox.state).snapshot("lat-free")["served"] == 0  # no rule: not even counted


def test_cold_start_once_for_a_scaled_to_zero_deployment(sandbox: Sandbox, client: httpx.Client) -> None:
    url = deploy(client, "lat-cold", 0, 2, wanted="scaled-to-zero")
    model = model_for(sandbox.state)
    model.set("lat-cold", base=0.05, cold_start=0.2, per_replica=4)
    assert asyncio.run(burst(url, 6)) == [200] * 6
    pool = model.snapshot("lat-cold")
    assert pool["cold_starts"] == 1 and pool["served"] == 6 and pool["peak_replicas"] == 2


def test_admin_route_sets_reads_and_clears(sandbox: Sandbox, client: httpx.Client) -> None:
    answer = client.post("/_sandbox/latency", json={"deployment": "a", "api": "summarize", "base": 0.1,
                                                    "per_replica": 2, "seed": 3})
    assert answer.status_code == 200
    assert answer.json()["rules"] == [{"deployment": "a", "api": "/summarize", "base": 0.1, "jitter": 0.0,
                                       "per_replica": 2, "cold_start": 0.0}] and answer.json()["seed"] == 3
    assert model_for(sandbox.state).rule("a", "/summarize").per_replica == 2
    for bad in ({"base": "slow"}, {"colour": 1}, {"seed": "x"}, {"deployment": 3}, [1]):
        refused = client.post("/_sandbox/latency", json=bad)
        assert refused.status_code == 400 and refused.json()["error"]
    assert client.delete("/_sandbox/latency").json()["rules"] == []
    client.post("/_sandbox/latency", json={"base": 0.1})
    client.post("/_sandbox/reset", json={})
    assert client.get("/_sandbox/latency").json()["rules"] == []
