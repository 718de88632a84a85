"""The tail protocol against a scripted websocket server on 127.0.0.1: what we send (request, heartbeats,
header, URL), how we read (chunks split anywhere, EOF, early close) and how failures map to one error."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from websockets.sync.server import Server, ServerConnection, serve

from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    NotFoundError,
    ServerError,
)
from bentocloud_jupyter.core.logs import protocol as logs
from bentocloud_jupyter.core.tokens import Token

TOKEN = "fake-ws-token-0123456789"
PLACE = logs.PodPlace("dep", "c1", "acme", "yatai", "summarizer", "v3")
Script = Callable[[ServerConnection], None]


class FakeServer:
    """Plays ``script`` for each connection; records requests and every message clients send."""

    def __init__(self, script: Script, reject: int | None = None) -> None:
        self.script, self.reject = script, reject
        self.paths: list[str] = []
        self.tokens: list[str | None] = []
        self.received: list[tuple[float, Any]] = []
        self.server: Server | None = None

    def _process(self, conn: ServerConnection, request: Any) -> Any:
        self.paths.append(request.path)
        self.tokens.append(request.headers.get("X-YATAI-API-TOKEN"))
        if self.reject is not None:
            return conn.respond(self.reject, json.dumps({"error": f"refused with {self.reject}"}))
        return None

    def _handle(self, conn: ServerConnection) -> None:
        closed = threading.Event()
        threading.Thread(target=self._record, args=(conn, closed), daemon=True).start()
        conn.client_gone = closed  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            self.script(conn)

    def _record(self, conn: ServerConnection, closed: threading.Event) -> None:
        with contextlib.suppress(Exception):
            while True:
                self.received.append((time.monotonic(), json.loads(conn.recv())))
        closed.set()

    def __enter__(self) -> FakeServer:
        self.server = serve(self._handle, "127.0.0.1", 0, process_request=self._process)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self.server is not None
        self.server.shutdown()

    @property
    def ws(self) -> logs.WsEndpoint:
        assert self.server is not None
        port = self.server.socket.getsockname()[1]
        return logs.WsEndpoint.for_context(_context(f"http://127.0.0.1:{port}/a/path/prefix"))

    def heartbeats(self) -> list[float]:
        return [at for at, message in self.received if message == {"type": "heartbeat"}]


def _context(endpoint: str) -> Any:
    from bentocloud_jupyter.core.credentials.config import Context

    return Context("fake", endpoint, Token(TOKEN))


def _linger(conn: ServerConnection, seconds: float) -> None:
    """Keep the socket open up to ``seconds``, or until the client closes it."""
    conn.client_gone.wait(seconds)  # type: ignore[attr-defined]


def _chunks(*parts: bytes) -> str:
    return json.dumps({"type": "success", "message": None,
                       "payload": {"items": [base64.b64encode(p).decode() for p in parts], "type": "append"}})


EOF_MESSAGE = json.dumps({"type": "success", "message": "EOF", "payload": None})
HEARTBEAT = json.dumps({"type": "heartbeat", "message": None, "payload": None})


def _collect(ws: logs.WsEndpoint, **options: Any) -> list[str]:
    async def main() -> list[str]:
        return [line async for line in logs.tail_logs(ws, PLACE, "dep-pod", **options)]

    return asyncio.run(main())


def test_chunks_split_anywhere_heartbeats_and_eof() -> None:
    text = "héllo wörld\r\nsecond line\nthird".encode()

    def script(conn: ServerConnection) -> None:
        conn.send(HEARTBEAT)
        conn.send(_chunks(text[:2], text[2:8]))  # "é" split across two chunks
        conn.send(json.dumps({"type": "success", "message": None, "payload": None}))
        conn.send(_chunks(text[8:20]))
        time.sleep(0.35)
        conn.send(_chunks(text[20:]))
        conn.send(EOF_MESSAGE)
        conn.send(_chunks(b"after EOF: never read\n"))
        _linger(conn, 0.5)

    with FakeServer(script) as server:
        lines = _collect(server.ws, container="builder", tail_lines=7, heartbeat=0.1)
        ended = time.monotonic()
        time.sleep(0.3)
    assert lines == ["héllo wörld", "second line", "third"]
    assert server.paths == ["/ws/v1/clusters/c1/tail?namespace=yatai&pod_name=dep-pod&timestamps=false"]
    assert server.tokens == [TOKEN]
    first = server.received[0][1]
    assert first["type"] == "data" and uuid.UUID(first["payload"].pop("id")).version == 4
    assert first["payload"] == {"container_name": "builder", "follow": True, "tail_lines": 7}
    beats = server.heartbeats()
    assert len(beats) >= 3 and beats[0] - server.received[0][0] < 0.1  # at once, then every 0.1 s
    assert all(at <= ended + 0.05 for at in beats)  # the heartbeat task was cancelled at EOF


def test_a_close_before_eof_ends_quietly() -> None:
    def script(conn: ServerConnection) -> None:
        time.sleep(0.1)  # (the recorder thread reads what the client sends)
        conn.send(_chunks(b"one\ntwo\npartial"))
        conn.close()

    with FakeServer(script) as server:
        assert _collect(server.ws) == ["one", "two", "partial"]


@pytest.mark.parametrize(("message", "error", "fragment"), [
    ("pod 'dep-pod' not found in cluster 'c1'", APIError, "pod 'dep-pod' not found"),
    ("invalid API token: log in again", AuthenticationError, "%bentocloud login"),
])
def test_an_error_message_raises_one_line(message: str, error: type[Exception], fragment: str) -> None:
    def script(conn: ServerConnection) -> None:
        conn.send(_chunks(b"kept\n"))
        conn.send(json.dumps({"type": "error", "message": message, "payload": None}))
        _linger(conn, 1)

    with FakeServer(script) as server, pytest.raises(error) as caught:
        _collect(server.ws)
    text = str(caught.value)
    assert fragment in text and "\n" not in text and TOKEN not in text


@pytest.mark.parametrize(("status", "error", "fragment"), [
    (401, AuthenticationError, "rejected"), (403, AuthenticationError, "rejected"),
    (404, NotFoundError, "no websocket"), (502, ServerError, "502"), (418, APIError, "418")])
def test_a_refused_handshake_maps_to_one_error(status: int, error: type[Exception], fragment: str) -> None:
    with FakeServer(lambda conn: None, reject=status) as server:
        with pytest.raises(error) as caught:
            _collect(server.ws)
        with pytest.raises(error):
            logs.read_logs(server.ws, PLACE, "dep-pod")
    text = str(caught.value)
    assert fragment in text and f"refused with {status}" in text and TOKEN not in text and "?" not in text
    assert getattr(caught.value, "status", None) == status


def test_nobody_listening_is_a_connect_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ws = logs.WsEndpoint.for_context(_context(f"http://127.0.0.1:{port}"))
    with pytest.raises(ConnectError, match=r"Cannot connect to ws://127\.0\.0\.1"):
        _collect(ws)
    with pytest.raises(ConnectError):
        logs.deployment_pods_sync(ws, PLACE)


def test_read_logs_without_eof_stops_when_quiet() -> None:
    def script(conn: ServerConnection) -> None:
        conn.send(_chunks(b"a\nb\nc\nd\n"))
        _linger(conn, 3)

    with FakeServer(script) as server:
        started = time.monotonic()
        assert logs.read_logs(server.ws, PLACE, "dep-pod", tail_lines=3, idle=0.3) == ["b", "c", "d"]
        assert time.monotonic() - started < 2
    request = server.received[0][1]["payload"]
    assert request["follow"] is False and request["tail_lines"] == 3 and request["container_name"] == "main"
    assert server.heartbeats()  # one at once, as for a follow


def test_pod_lookups_read_one_message() -> None:
    pods = [{"name": "builder-1", "namespace": "yatai", "labels": {logs.BUILDER_LABEL: "true"}},
            {"name": "replica-1", "namespace": "yatai", "labels": {}}]

    def script(conn: ServerConnection) -> None:
        conn.send(json.dumps({"type": "success", "message": "", "payload": pods}))
        _linger(conn, 1)

    with FakeServer(script) as server:
        assert [p.name for p in logs.deployment_pods_sync(server.ws, PLACE)] == ["builder-1", "replica-1"]
        builder = asyncio.run(logs.image_builder_pod(server.ws, PLACE))
        assert builder is not None and builder.name == "builder-1"
    assert server.paths[0].startswith("/ws/v2/deployments/dep/pods?organization_name=acme&cluster=c1")
    assert server.paths[1].startswith("/ws/v1/clusters/c1/pods?")
