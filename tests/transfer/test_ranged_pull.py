"""Ranged, parallel pulls: slices put together byte for byte, one stream without Range, lying hosts refused."""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from support import make_model, tree

from bentocloud_jupyter.core.artifacts import ranged, transfer
from bentocloud_jupyter.core.artifacts.progress import ProgressBoard
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.errors import ProtocolError, TransportError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.sandbox import Sandbox

DATA = os.urandom(50_001)


class RangeHost(BaseHTTPRequestHandler):
    """Serves DATA; ``mode`` decides how honest its ranges are."""

    mode = "honest"
    ranges: list[str] = []

    def do_GET(self) -> None:
        wanted = self.headers.get("Range", "")
        type(self).ranges.append(wanted)
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", wanted)
        if self.mode == "ignore" or match is None:
            self.answer(200, DATA, {})
            return
        start, end = int(match[1]), min(int(match[2]), len(DATA) - 1)
        body, claimed = DATA[start:end + 1], f"bytes {start}-{end}/{len(DATA)}"
        if self.mode == "wrong":
            claimed = f"bytes 0-{len(body) - 1}/{len(DATA)}"
        if self.mode == "resized" and start > 0:
            claimed = f"bytes {start}-{end}/{10**15}"
        self.answer(206, body, {"Content-Range": claimed}, cut=self.mode == "short" and start > 0)

    def answer(self, status: int, body: bytes, headers: dict[str, str], cut: bool = False) -> None:
        self.send_response(status)
        for key, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body[: len(body) // 2] if cut else body)
        if cut:
            self.close_connection = True

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def host() -> Iterator[str]:
    RangeHost.mode, RangeHost.ranges = "honest", []
    server = ThreadingHTTPServer(("127.0.0.1", 0), RangeHost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/archive.tar?signature=x"
    server.shutdown()
    server.server_close()


@pytest.fixture()
def client() -> Iterator[BentoCloudClient]:
    with BentoCloudClient("http://127.0.0.1:9", "t", retry=RetryPolicy(max_attempts=1)) as c:
        yield c


def test_slices_add_up_to_the_file(host: str, client: BentoCloudClient, tmp_path: Path) -> None:
    board = ProgressBoard()
    size = ranged.ranged_download(client, host, tmp_path / "a.tar", "model m:v", board, streams=3, range_size=7000)
    assert size == len(DATA) and (tmp_path / "a.tar").read_bytes() == DATA
    assert len(RangeHost.ranges) == 8 and RangeHost.ranges[0] == "bytes=0-6999"
    [item] = board.snapshot()
    assert item.total == len(DATA) and item.done == len(DATA)


def test_a_host_without_ranges_is_read_as_one_stream(host: str, client: BentoCloudClient, tmp_path: Path) -> None:
    RangeHost.mode = "ignore"
    assert ranged.ranged_download(client, host, tmp_path / "a.tar", "x", ProgressBoard(), range_size=7000) == len(DATA)
    assert (tmp_path / "a.tar").read_bytes() == DATA and len(RangeHost.ranges) == 1


def test_another_range_than_asked_is_refused(host: str, client: BentoCloudClient, tmp_path: Path) -> None:
    RangeHost.mode = "wrong"
    with pytest.raises(ProtocolError, match="another byte range"):
        ranged.ranged_download(client, host, tmp_path / "a.tar", "x", ProgressBoard(), range_size=7000)


def test_a_slice_announcing_another_size_is_refused(host: str, client: BentoCloudClient, tmp_path: Path) -> None:
    RangeHost.mode = "resized"
    with pytest.raises(ProtocolError, match="another size"):
        ranged.ranged_download(client, host, tmp_path / "a.tar", "x", ProgressBoard(), range_size=7000)


def test_a_cut_slice_is_retried_alone_then_fails(host: str, client: BentoCloudClient, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    RangeHost.mode = "short"
    monkeypatch.setattr(ranged, "SLICE_BACKOFF", 0.0)
    with pytest.raises(TransportError):
        ranged.ranged_download(client, host, tmp_path / "a.tar", "x", ProgressBoard(), streams=1, range_size=30_000)
    assert RangeHost.ranges.count("bytes=30000-50000") == ranged.SLICE_ATTEMPTS


@pytest.mark.parametrize("mode", ["presigned", "multipart"])
def test_pull_from_the_sandbox_is_ranged(mode: str, sandbox: Sandbox, isolated_home: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.faults.reset()
    sandbox.transfer_mode = mode
    sandbox.faults.storage_bandwidth = 500_000_000
    monkeypatch.setattr(ranged, "RANGE_SIZE", 64 * 1024)
    model = make_model(isolated_home, f"ranged_{mode}", "m1", size=400_000)
    store = LocalStore(isolated_home)
    before = tree(store.models / f"ranged_{mode}" / "m1")
    try:
        with BentoCloudClient(sandbox.url, sandbox.token) as c:
            transfer.push(c, model, kind="model", store=store, part_size=128 * 1024)
            shutil.rmtree(store.models)
            sandbox.reset_stats()
            pulled = transfer.pull(c, model, kind="model", store=store)
    finally:
        sandbox.faults.reset()
        sandbox.transfer_mode = "proxy"
    assert tree(pulled.path) == before
    gets = sum(n for route, n in sandbox.stats()["by_route"].items() if route.startswith("GET /_storage"))
    assert gets >= 6  # ~400 KB archive in 64 KiB slices
    assert not list(store.staging.glob("*/archive.tar"))
