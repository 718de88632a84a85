"""Every JSON/text answer read through the REST choke point is bounded in size and in total time.

A hostile loopback server (http.server in a thread) sends a huge body, dribbles its body or its headers a
byte at a time (each byte well inside httpx's per-read timeout); a normal large listing still reads, and a
streaming download (no deadline set) is never cut off by the total bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from bentocloud_jupyter.core.errors import ProtocolError, RequestTimeout
from bentocloud_jupyter.core.rest import bounded
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.http import (
    MAX_ANSWER_BYTES,
    Call,
    RetryPolicy,
    asend_bounded,
    bounded_transport,
    parse_body,
    send_bounded,
    transport_error,
)

TIMEOUT = 0.3
DRIBBLE = 0.05
BIG_LISTING = {"items": [{"name": f"deployment-{i}", "status": "running", "pad": "x" * 200} for i in range(10_000)]}


class Hostile(BaseHTTPRequestHandler):
    """Answers by path: /huge, /huge-error, /dribble-body, /dribble-headers, /big."""

    protocol_version = "HTTP/1.1"
    stop: threading.Event

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        with contextlib.suppress(OSError):  # the client hung up: that is the point
            getattr(self, "answer_" + self.path.strip("/").replace("-", "_"))()

    def answer_huge(self, status: int = 200) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(64 * 2**20))
        self.end_headers()
        self.wfile.write(b'{"items": [')
        chunk = b'{"name": "x"},' * 4096
        while not self.stop.is_set():
            self.wfile.write(chunk)

    def answer_huge_error(self) -> None:
        self.answer_huge(500)

    def answer_dribble_body(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.dribble(b" " * 100000)

    def answer_dribble_short(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "14")
        self.end_headers()
        self.dribble(b'"' + b"x" * 12 + b'"')

    def answer_dribble_headers(self) -> None:
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        self.dribble(b"X-Slow: " + b"a" * 100000)

    def answer_big(self) -> None:
        body = json.dumps(BIG_LISTING).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def dribble(self, data: bytes) -> None:
        for i in range(len(data)):
            if self.stop.wait(DRIBBLE):
                return
            self.wfile.write(data[i:i + 1])
            self.wfile.flush()


@pytest.fixture()
def hostile(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(bounded, "DEADLINE_GRACE", 0.2)
    stop = threading.Event()
    handler = type("Handler", (Hostile,), {"stop": stop})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    stop.set()
    server.shutdown()
    server.server_close()


def listing(path: str) -> Call[Any]:
    return Call("GET", path, lambda payload: payload, what="the listing")


def fetch(url: str, path: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=TIMEOUT, transport=bounded_transport(), trust_env=False) as http:
        return send_bounded(http, http.build_request("GET", path), TIMEOUT, label=f"GET {path}", endpoint=url)


def timed_out(url: str, path: str) -> RequestTimeout:
    """The one error a client makes of the deadline (as of any timeout), and that it came in bounded time."""
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout) as caught:
        fetch(url, path)
    assert time.monotonic() - started < 10 * (TIMEOUT + 0.2)
    error = transport_error(caught.value, listing(path), url, TIMEOUT)
    assert isinstance(error, RequestTimeout)
    return error


def test_huge_json_body_is_one_protocol_error_nothing_parsed(hostile: str) -> None:
    with pytest.raises(ProtocolError, match="sent too much") as caught:
        fetch(hostile, "/huge")
    assert f"{MAX_ANSWER_BYTES // 2**20} MiB" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_huge_error_body_is_cut_off_too(hostile: str) -> None:
    with pytest.raises(ProtocolError, match="sent too much"):
        fetch(hostile, "/huge-error")


def test_body_dribbled_ends_at_the_deadline(hostile: str) -> None:
    error = timed_out(hostile, "/dribble-body")
    assert error.hint is not None and error.hint.verb == "configure"


def test_headers_dribbled_end_at_the_deadline(hostile: str) -> None:
    timed_out(hostile, "/dribble-headers")


def test_async_headers_dribbled_end_at_the_deadline(hostile: str) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(base_url=hostile, timeout=TIMEOUT, trust_env=False) as http:
            await asend_bounded(http, http.build_request("GET", "/dribble-headers"), TIMEOUT,
                                label="GET /dribble-headers", endpoint=hostile)

    with pytest.raises(httpx.ReadTimeout):
        asyncio.run(go())


def test_async_huge_body_is_one_protocol_error(hostile: str) -> None:
    async def go() -> None:
        async with httpx.AsyncClient(base_url=hostile, timeout=TIMEOUT, trust_env=False) as http:
            await asend_bounded(http, http.build_request("GET", "/huge"), TIMEOUT, label="GET /huge",
                                endpoint=hostile, limit=2**20)

    with pytest.raises(ProtocolError, match="larger than 1 MiB"):
        asyncio.run(go())


def test_a_normal_big_listing_still_reads(hostile: str) -> None:
    response = fetch(hostile, "/big")
    assert response.status_code == 200 and len(response.content) > 2 * 2**20
    assert parse_body(listing("/big"), response, hostile) == BIG_LISTING


def test_a_stream_without_deadline_is_not_cut_off(hostile: str) -> None:
    """Downloads stream through the same transport with no deadline set: httpx's per-read timeout only."""
    with httpx.Client(base_url=hostile, timeout=TIMEOUT, transport=bounded_transport(), trust_env=False) as http:
        started, got = time.monotonic(), b""
        with http.stream("GET", "/dribble-body") as response:
            for chunk in response.iter_raw():
                got += chunk
                if time.monotonic() - started > TIMEOUT + 0.4:
                    break
    assert got.strip() == b"" and len(got) > 0


def test_without_a_deadline_only_the_size_is_bounded(hostile: str) -> None:
    """Calls into deployments (a slow or streaming API) keep httpx's per-read timeout, with no total deadline."""
    with httpx.Client(base_url=hostile, timeout=TIMEOUT, transport=bounded_transport(), trust_env=False) as http:
        started = time.monotonic()
        response = send_bounded(http, http.build_request("GET", "/dribble-short"), None, label="the call",
                                endpoint=hostile)
        assert time.monotonic() - started > TIMEOUT + 0.2 and response.json() == "x" * 12
        with pytest.raises(ProtocolError, match=r"^Deployment 'd' sent too much: .* larger than 1 MiB; ask for less"):
            send_bounded(http, http.build_request("GET", "/huge"), None, label="the call", endpoint=hostile,
                         limit=2**20, sender="Deployment 'd'")


def test_parse_body_refuses_an_answer_read_whole_past_the_bound() -> None:
    response = httpx.Response(200, content=b" " * (MAX_ANSWER_BYTES + 1))
    with pytest.raises(ProtocolError, match="sent too much"):
        parse_body(listing("/x"), response, "http://127.0.0.1:1")


# ------------------------------------------- through the REST clients (once client.py sends via send_bounded)

WIRED = "send_bounded" in inspect.getsource(BentoCloudClient.send)
needs_wiring = pytest.mark.skipif(not WIRED, reason="core/rest/client.py does not send through send_bounded yet")


@needs_wiring
@pytest.mark.parametrize(("path", "error"), [("/huge", ProtocolError), ("/dribble-body", RequestTimeout),
                                             ("/dribble-headers", RequestTimeout)])
def test_the_blocking_client_is_bounded(hostile: str, path: str, error: type[Exception]) -> None:
    client = BentoCloudClient(hostile, "token-xyz", timeout=TIMEOUT, retry=RetryPolicy(max_attempts=1))
    with client, pytest.raises(error) as caught:
        client.send(listing(path))
    assert "token-xyz" not in str(caught.value) and "\n" not in str(caught.value)


@needs_wiring
def test_the_blocking_client_reads_a_big_listing(hostile: str) -> None:
    with BentoCloudClient(hostile, "token-xyz", timeout=5) as client:
        assert client.send(listing("/big")) == BIG_LISTING


@needs_wiring
@pytest.mark.parametrize(("path", "error"), [("/huge", ProtocolError), ("/dribble-headers", RequestTimeout)])
def test_the_async_client_is_bounded(hostile: str, path: str, error: type[Exception]) -> None:
    async def go() -> None:
        async with AsyncBentoCloudClient(hostile, "token-xyz", timeout=TIMEOUT,
                                         retry=RetryPolicy(max_attempts=1)) as client:
            await client.send(listing(path))

    with pytest.raises(error):
        asyncio.run(go())
