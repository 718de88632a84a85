"""A scripted, hostile BentoCloud on 127.0.0.1: it answers exactly what a test tells it, names included.

The sandbox validates names and keeps its records honest; a hostile server does neither. Each route is
``(method, path)`` (the path unquoted, without its query) and answers with a list of scripted answers,
taken in order (the last one repeats). Every request is recorded.
"""

from __future__ import annotations

import io
import json
import tarfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml


@dataclass
class Answer:
    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})
    stream: Callable[[Any], None] | None = None  # writes the body itself (e.g. stalls midway)


@dataclass
class Seen:
    method: str
    path: str
    body: Any


class Hostile:
    """The server; ``url`` is its address. Use as a context manager, or call :meth:`close`."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Answer]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.hostile = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.routes[(method, path)] = list(answers)

    def json(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.on(method, path, Answer(status, json.dumps(body).encode()))

    def answer(self, method: str, path: str) -> Answer:
        with self.lock:
            answers = self.routes.get((method, path))
            if not answers:
                return Answer(404, json.dumps({"error": f"no route {method} {path}"}).encode())
            return answers.pop(0) if len(answers) > 1 else answers[0]

    def calls(self, method: str, path: str) -> list[Any]:
        """The bodies of every request seen on one route."""
        return [s.body for s in self.seen if (s.method, s.path) == (method, path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Hostile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_any(self) -> None:
        hostile: Hostile = self.server.hostile  # type: ignore[attr-defined]
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = len(raw)
        path = unquote(urlsplit(self.path).path)
        with hostile.lock:
            hostile.seen.append(Seen(self.command, path, body))
        answer = hostile.answer(self.command, path)
        self.send_response(answer.status)
        for key, value in answer.headers.items():
            self.send_header(key, value)
        if answer.stream is None:
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)
        else:
            self.end_headers()
            answer.stream(self.wfile)

    do_GET = do_PUT = do_PATCH = do_POST = handle_any


def tar_of(files: dict[str, bytes]) -> bytes:
    """An uncompressed tar as bentoml uploads them (members ``./<name>``)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"./{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def item_archive(kind: str, name: str, version: str, **extra: Any) -> bytes:
    """A minimal bento or model archive whose metadata names ``name:version``."""
    info = {"name": name, "version": version, "creation_time": "2026-01-01T00:00:00+00:00", **extra}
    return tar_of({f"{kind}.yaml": yaml.safe_dump(info).encode(), "payload.bin": b"\x00" * 1024})


def serve_item(hostile: Hostile, kind: str, name: str, version: str, archive: bytes | None = None,
               manifest: dict[str, Any] | None = None, latest: str | None = None) -> None:
    """Script ``kind name:version`` for a proxy pull (the latest version listed as ``latest`` or ``version``)."""
    base = f"/api/v1/{kind}_repositories/{name}/{kind}s"
    record = {"name": version, "version": version, "transmission_strategy": "proxy", "upload_status": "success",
              "manifest": manifest or {}}
    hostile.json("GET", base, {"items": [{**record, "version": latest or version}], "total": 1, "start": 0,
                               "count": 1})
    hostile.json("GET", f"{base}/{version}", record)
    hostile.on("GET", f"{base}/{version}/download",
               Answer(200, archive if archive is not None else item_archive(kind, name, version),
                      {"Content-Type": "application/x-tar"}))


def walk(root: Any) -> Iterator[str]:
    """Every path under ``root`` (a Path), relative, sorted: to compare what exists before and after."""
    yield from sorted(str(p.relative_to(root)) for p in root.rglob("*"))
