"""Fault injection, request statistics, and the uvicorn protocol that can drop connections.

Faults apply to the REST API (``/api/...``) only (the transfer knobs also to ``/_storage``, and the
network model ``storage_bandwidth``/``storage_rtt`` to every storage transfer, see :mod:`.network`); admin
routes (``/_sandbox/...``) are exempt so a test can always read stats or switch faults off. Counters
(``fail_next`` and friends) are decremented atomically, so "the next N requests" holds under concurrency.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from bentocloud_jupyter.sandbox.network import is_storage_path, shaped

_COUNTERS = ("fail_next", "rate_limit_next", "drop_next")


@dataclass
class Faults:
    """Live fault knobs; assign attributes (or POST /_sandbox/faults) while the sandbox runs.

    latency: seconds added before every API response.
    error_rate: fraction (0..1) of API requests answered with ``error_status`` and an ``x-trace-id``.
    error_status: status used by ``error_rate`` and ``fail_next`` (default 503).
    fail_next: answer the next N API requests with ``error_status`` (deterministic).
    rate_limit_next: answer the next N API requests with 429 and ``Retry-After: <retry_after>``.
    retry_after: seconds put in ``Retry-After``.
    drop_next: close the TCP connection of the next N API requests without any HTTP response.
    expire_tokens: every token answers 401 "expired" while true.
    drop_upload_after: while > 0, any upload body (proxy ``PUT .../upload`` or a presigned storage PUT)
        longer than this many bytes has its TCP connection aborted after that many bytes were received.
    presign_forbidden: every presigned storage request (PUT and GET) answers 403 ``AccessDenied``.
    storage_bandwidth: bytes per second per connection for storage transfers (presigned, multipart and
        proxy upload/download bodies, both ways); 0 means unlimited.
    storage_rtt: seconds waited before each storage response (one round trip per request).
    """

    latency: float = 0.0
    error_rate: float = 0.0
    error_status: int = 503
    fail_next: int = 0
    rate_limit_next: int = 0
    retry_after: float = 1.0
    drop_next: int = 0
    expire_tokens: bool = False
    drop_upload_after: int = 0
    presign_forbidden: bool = False
    storage_bandwidth: float = 0.0
    storage_rtt: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False, compare=False)

    def take(self, name: str) -> bool:
        """Atomically consume one unit of a ``*_next`` counter; True if there was one."""
        with self._lock:
            value = getattr(self, name)
            if value > 0:
                setattr(self, name, value - 1)
                return True
            return False

    def reset(self) -> None:
        """Every knob back to its default, in place: the running app keeps this very object."""
        defaults = Faults()
        with self._lock:
            for f in dataclasses.fields(self):
                if f.init:
                    setattr(self, f.name, getattr(defaults, f.name))

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.init}

    def update(self, values: dict[str, Any]) -> None:
        """Set knobs from JSON, checking names and types (ValueError on bad input)."""
        kinds = {f.name: f.type for f in dataclasses.fields(self) if f.init}
        unknown = sorted(set(values) - set(kinds))
        if unknown:
            raise ValueError(f"unknown fault knob(s): {', '.join(unknown)}; known: {', '.join(kinds)}")
        checked: dict[str, Any] = {}
        for name, value in values.items():
            if kinds[name] == "bool":
                if not isinstance(value, bool):
                    raise ValueError(f"{name} must be true or false")
            elif isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
            elif kinds[name] == "int" and not float(value).is_integer():
                raise ValueError(f"{name} must be an integer")
            checked[name] = int(value) if kinds[name] == "int" else value
        if not 0 <= float(checked.get("error_rate", self.error_rate)) <= 1:
            raise ValueError("error_rate must be between 0 and 1")
        with self._lock:
            for name, value in checked.items():
                setattr(self, name, value)


class Stats:
    """Request counts per ``METHOD /path/{template}`` and distinct client connections."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.clients: set[tuple[Any, ...]] = set()

    def record(self, key: str, client: tuple[Any, ...] | None) -> None:
        with self._lock:
            self.total += 1
            self.by_route[key] += 1
            if client:
                self.clients.add(tuple(client))

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self.total, "by_route": dict(sorted(self.by_route.items())),
                    "connections": len(self.clients)}


# Live transports by (server address, client address), filled by SandboxH11Protocol: the only way
# for the ASGI app to reach the socket under its request.
_TRANSPORTS: dict[tuple[Any, Any], asyncio.Transport] = {}
_TRANSPORTS_LOCK = threading.Lock()


class SandboxH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus a registry entry per connection, so a request can be dropped."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        with _TRANSPORTS_LOCK:
            _TRANSPORTS[(self.server, self.client)] = transport

    def connection_lost(self, exc: Exception | None) -> None:
        with _TRANSPORTS_LOCK:
            _TRANSPORTS.pop((self.server, self.client), None)
        super().connection_lost(exc)


def _key(scope: Scope) -> tuple[Any, Any]:
    server, client = scope.get("server"), scope.get("client")
    return (tuple(server) if server else None, tuple(client) if client else None)


async def drop_connection(scope: Scope) -> bool:
    """Abort the request's TCP connection (no response at all); False if it can't be found."""
    key = _key(scope)
    with _TRANSPORTS_LOCK:
        transport = _TRANSPORTS.get(key)
    if transport is None:
        return False
    transport.abort()
    for _ in range(20):  # let connection_lost run so uvicorn knows the client is gone
        await asyncio.sleep(0)
        with _TRANSPORTS_LOCK:
            if key not in _TRANSPORTS:
                break
    return True


async def send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
    """Minimal raw-ASGI JSON response (the middleware runs outside starlette's request objects)."""
    payload = json.dumps(body).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})


def retry_after_header(seconds: float) -> str:
    """Whole seconds print as integers (``1``); a fractional knob (handy in fast tests) stays ``0.2``."""
    return f"{seconds:g}"


class FaultMiddleware:
    """Counts every non-admin request, then applies the fault knobs to API requests."""

    def __init__(self, app: ASGIApp, get_faults: Callable[[], Faults], stats: Stats,
                 routes: Iterable[BaseRoute]) -> None:
        self.app = app
        self.get_faults = get_faults
        self.stats = stats
        self.routes = list(routes)

    def _template(self, scope: Scope) -> str:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                return str(getattr(route, "path", scope["path"]))
        return str(scope["path"])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path or path.startswith("/_sandbox"):
            await self.app(scope, receive, send)
            return
        self.stats.record(f"{scope['method']} {self._template(scope)}", scope.get("client"))
        faults = self.get_faults()
        if is_storage_path(path) and (faults.storage_bandwidth > 0 or faults.storage_rtt > 0):
            bandwidth, rtt = faults.storage_bandwidth, faults.storage_rtt

            async def inner(scope: Scope, receive: Receive, send: Send) -> None:
                await shaped(self.app, scope, receive, send, bandwidth, rtt)
            await self.faulted(inner, path, faults, scope, receive, send)
            return
        await self.faulted(self.app, path, faults, scope, receive, send)

    async def faulted(self, app: ASGIApp, path: str, faults: Faults, scope: Scope, receive: Receive,
                      send: Send) -> None:
        """The API fault knobs, then ``app`` (storage routes go straight to ``app``)."""
        if not path.startswith("/api/"):
            await app(scope, receive, send)
            return
        if faults.take("drop_next") and await drop_connection(scope):
            return
        if faults.latency > 0:
            await asyncio.sleep(faults.latency)
        if faults.take("rate_limit_next"):
            await send_json(send, 429, {"error": "rate limited (sandbox fault injection)", "code": 429},
                            {"Retry-After": retry_after_header(faults.retry_after)})
            return
        if faults.take("fail_next") or (faults.error_rate > 0 and random.random() < faults.error_rate):
            status = faults.error_status
            await send_json(send, status, {"error": f"simulated server error {status} (sandbox fault injection)",
                                           "code": status}, {"x-trace-id": secrets.token_hex(8)})
            return
        await app(scope, receive, send)
