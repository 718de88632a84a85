"""A loopback BentoCloud that misbehaves as told: garbled or missing Date headers, 5xx, slow answers, bodies
that echo the token, bodies dribbled a byte at a time or padded to megabytes. Plain http.server in a thread
(127.0.0.1 only); one route table per test."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.tokens import Token

TOKEN = "hostile-token-0123456789abcdef"
USER = {"name": "alice", "email": "alice@example.test", "first_name": "Alice", "last_name": ""}
ORG = {"name": "acme", "uid": "org1"}


@dataclass
class Answer:
    """What one path answers: status, body (JSON unless bytes), the Date header (None: omitted), a stall,
    seconds between the body's bytes (``dribble``) and bytes of whitespace before the JSON (``pad``)."""

    status: int = 200
    body: Any = None
    date: str | None = "now"
    stall: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    dribble: float = 0.0
    pad: int = 0


@dataclass
class Hostile:
    routes: dict[str, Answer]
    release: threading.Event
    url: str = ""
    seen: list[str] = field(default_factory=list)

    def answer(self, path: str, **kwargs: Any) -> None:
        self.routes[path] = Answer(**kwargs)


def default_routes() -> dict[str, Answer]:
    return {"/api/v1/auth/current": Answer(body=USER), "/api/v1/current_org": Answer(body=ORG),
            "/api/v1/api_tokens": Answer(body={"items": [], "start": 0, "count": 0, "total": 0})}


def _handler(state: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            state.seen.append(path)
            answer = state.routes.get(path, Answer(404, {"error": "not found"}))
            if answer.stall:
                state.release.wait(10)
            raw = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
            raw = b" " * answer.pad + raw
            self.send_response_only(answer.status)
            if answer.date is not None:
                self.send_header("Date", formatdate(usegmt=True) if answer.date == "now" else answer.date)
            for key, value in {"Content-Type": "application/json", **answer.headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the client hung up: what a doctor that gives up does
                self._write(raw, answer.dribble)

        def _write(self, raw: bytes, dribble: float) -> None:
            if not dribble:
                self.wfile.write(raw)
                return
            for i in range(len(raw)):
                if state.release.wait(dribble):
                    return
                self.wfile.write(raw[i:i + 1])
                self.wfile.flush()

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture()
def hostile() -> Iterator[Hostile]:
    """The server, with context ``hostile`` saved and current (its token: :data:`TOKEN`)."""
    state = Hostile(default_routes(), threading.Event())
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    config.save_context(config.Context("hostile", state.url, Token(TOKEN), "alice@example.test"))
    config.set_current_context("hostile")
    yield state
    state.release.set()
    server.shutdown()
    server.server_close()
