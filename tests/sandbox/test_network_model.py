"""The storage network model (bandwidth and round trip per response), Range on downloads, byte counts."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from transfer_helpers import act, pull, push

from bentocloud_jupyter.sandbox import Faults, Sandbox, network
from bentocloud_jupyter.sandbox.storage import concatenate


def test_knobs_are_settable_by_attribute_and_by_post(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.faults.storage_rtt = 0.01
    answer = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"storage_bandwidth": 50_000_000})
    assert answer.status_code == 200
    assert answer.json()["storage_bandwidth"] == 50_000_000 and answer.json()["storage_rtt"] == 0.01
    bad = httpx.post(f"{sandbox.url}/_sandbox/faults", json={"storage_bandwidth": -1})
    assert bad.status_code == 400
    sandbox.faults.reset()
    assert sandbox.faults.storage_bandwidth == 0 and sandbox.faults.storage_rtt == 0


def test_faults_update_checks_the_new_knobs() -> None:
    faults = Faults()
    with pytest.raises(ValueError):
        faults.update({"storage_rtt": "slow"})
    faults.update({"storage_rtt": 0.05, "storage_bandwidth": 1e6})
    assert faults.to_dict()["storage_rtt"] == 0.05


def test_pacer_waits_bytes_over_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(network, "clock", lambda: now[0])
    monkeypatch.setattr(network, "pause", fake_sleep)
    pacer = network.Pacer(1000.0)

    async def run() -> None:
        for _ in range(4):
            await pacer.pace(500)

    asyncio.run(run())
    assert sum(slept) == pytest.approx(2.0)  # 2000 bytes at 1000 B/s
    unlimited = network.Pacer(0)
    slept.clear()
    asyncio.run(unlimited.pace(10**9))
    assert slept == []


def test_shaped_app_waits_one_rtt_per_response_and_paces_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(network, "pause", fake_sleep)
    monkeypatch.setattr(network, "clock", lambda: 0.0)  # time stands still: every byte waits

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"x" * 300})

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"y" * 100, "more_body": False}

    async def send(message: Any) -> None:
        pass

    asyncio.run(network.shaped(app, {"type": "http"}, receive, send, bandwidth=100.0, rtt=0.05))
    assert slept == [pytest.approx(1.0), 0.05, pytest.approx(3.0)]


def test_storage_paths() -> None:
    assert network.is_storage_path("/_storage/models/m/v/archive.tar")
    assert network.is_storage_path("/api/v1/model_repositories/m/models/v/upload")
    assert network.is_storage_path("/api/v1/bento_repositories/b/bentos/v/download")
    assert not network.is_storage_path("/api/v2/deployments")


@pytest.mark.parametrize("mode", ["proxy", "presigned", "multipart"])
def test_transfers_work_under_the_network_model(mode: str, sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = mode
    sandbox.faults.storage_bandwidth = 200_000_000
    sandbox.faults.storage_rtt = 0.001
    data = os.urandom(200_003)
    before = sandbox.blobs.received
    assert push(client, "model", "shaped", "v1", data, part_size=70_000) == mode
    assert pull(client, "model", "shaped", "v1") == data
    assert sandbox.blobs.received - before == len(data)


def test_presigned_get_honours_range(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = "presigned"
    data = os.urandom(100_000)
    push(client, "model", "ranged", "v1", data)
    url = act(client, "model", "ranged", "v1", "presign_download_url").json()["presigned_download_url"]
    whole = httpx.get(url)
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    part = httpx.get(url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == data[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(data)}"
    tail = httpx.get(url, headers={"Range": "bytes=99990-"})
    assert tail.status_code == 206 and tail.content == data[99990:]
    assert httpx.get(url, headers={"Range": "bytes=200000-"}).status_code == 416


@pytest.mark.parametrize("kernel_copy", [True, False])
def test_parts_are_joined_in_order_with_or_without_copy_file_range(kernel_copy: bool, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    if not kernel_copy:
        def refuse(*args: object) -> int:
            raise OSError("not supported")
        monkeypatch.setattr(os, "copy_file_range", refuse, raising=False)
    chunks = [os.urandom(n) for n in (10, 70_000, 1, 0, 5000)]
    paths = []
    for index, chunk in enumerate(chunks):
        paths.append(tmp_path / f"part{index}")
        paths[-1].write_bytes(chunk)
    assert concatenate(paths, tmp_path / "archive.tar") == sum(map(len, chunks))
    assert (tmp_path / "archive.tar").read_bytes() == b"".join(chunks)
