"""Answers read within bounds: at most :data:`MAX_ANSWER_BYTES`, and within the timeout in all.

Why: httpx reads a whole answer into memory and its timeout is per read, so a hostile (or broken) server could
send gigabytes of JSON, or dribble a byte of its headers or body just inside every read timeout, and hold a verb
for ever. :func:`send_bounded` / :func:`asend_bounded` stream the answer and stop past either bound.

Headers are cut off without a thread: :func:`bounded_transport` gives the connection pool a network backend
whose every socket read waits at most until the deadline of the request in flight (a context variable set by
:func:`send_bounded`, so streaming downloads, which set none, keep httpx's per-read timeout). The async twin
needs no such backend: :func:`anyio.fail_after` cancels the whole exchange at the deadline.
"""

from __future__ import annotations

import contextvars
import ssl
import time
import typing
from typing import Any

import anyio
import httpcore
import httpx

from bentocloud_jupyter.core.errors import ProtocolError

__all__ = ["DEADLINE_GRACE", "MAX_ANSWER_BYTES", "DeadlineBackend", "asend_bounded", "bounded_transport",
           "send_bounded", "too_large"]

MAX_ANSWER_BYTES = 32 * 2**20
"""Bytes of one JSON or text answer at most (BentoCloud's largest listings are a few MiB); downloads are not
read through here and are never capped."""
DEADLINE_GRACE = 1.0
"""Seconds past the configured timeout before a whole exchange (headers and body) is given up."""

deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("bentocloud_deadline", default=None)
"""The monotonic time by which the request in flight in this thread (or task) must be done; None: no bound."""

_STRIPPED = (b"content-encoding", b"content-length", b"transfer-encoding")


def too_large(label: str, endpoint: str, limit: int, sender: str | None = None) -> ProtocolError:
    """The one error of an answer past ``limit`` bytes: nothing of it is parsed. ``sender`` names who sent it
    (BentoCloud at the endpoint unless told); only BentoCloud's answers are asked about being BentoCloud."""
    size = f"{limit // 2**20} MiB" if limit >= 2**20 else f"{limit} bytes"
    advice = "is this a BentoCloud endpoint?" if sender is None else "ask for less, or call it with bentoml."
    return ProtocolError(f"{sender or f'BentoCloud at {endpoint}'} sent too much: an answer to {label} larger "
                         f"than {size}; {advice}", endpoint=endpoint)


def remaining(request: httpx.Request) -> float:
    """Seconds left before this thread's deadline; raises :class:`httpx.ReadTimeout` once it has passed."""
    end = deadline.get()
    left = float("inf") if end is None else end - time.monotonic()
    if left <= 0:
        raise httpx.ReadTimeout("no whole answer within the timeout", request=request)
    return left


def _answer(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read answer with the same status and headers, as sent (bytes: any charset), decoded: no encoding
    headers left."""
    headers = [(k, v) for k, v in response.headers.raw if k.lower() not in _STRIPPED]
    return httpx.Response(response.status_code, headers=headers, content=body, request=response.request)


def send_bounded(http: httpx.Client, request: httpx.Request, timeout: float | None, *, label: str,
                 endpoint: str, limit: int | None = None, sender: str | None = None) -> httpx.Response:
    """Send ``request`` and read its answer, at most ``limit`` bytes (default :data:`MAX_ANSWER_BYTES`) within
    ``timeout`` + :data:`DEADLINE_GRACE` seconds in all (None: httpx's per-read timeout only).

    Raises:
        ProtocolError: the answer is too large. httpx.ReadTimeout: the deadline passed (map it as any timeout).
        httpx.HTTPError: as :meth:`httpx.Client.send`.
    """
    cap = MAX_ANSWER_BYTES if limit is None else limit
    token = deadline.set(None if timeout is None else time.monotonic() + timeout + DEADLINE_GRACE)
    try:
        response = http.send(request, stream=True)
        try:
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > cap:
                    raise too_large(label, endpoint, cap, sender)
                remaining(request)
                chunks.append(chunk)
        finally:
            response.close()
        return _answer(response, b"".join(chunks))
    finally:
        deadline.reset(token)


async def asend_bounded(http: httpx.AsyncClient, request: httpx.Request, timeout: float | None, *, label: str,
                        endpoint: str, limit: int | None = None, sender: str | None = None) -> httpx.Response:
    """The async twin of :func:`send_bounded`: the whole exchange is cancelled at the deadline."""
    cap = MAX_ANSWER_BYTES if limit is None else limit
    try:
        with anyio.fail_after(None if timeout is None else timeout + DEADLINE_GRACE):
            response = await http.send(request, stream=True)
            try:
                chunks, size = [], 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > cap:
                        raise too_large(label, endpoint, cap, sender)
                    chunks.append(chunk)
            finally:
                await response.aclose()
    except TimeoutError:
        raise httpx.ReadTimeout("no whole answer within the timeout", request=request) from None
    return _answer(response, b"".join(chunks))


# ------------------------------------------------------------------ headers: every read ends by the deadline


def _clamp(timeout: float | None, late: type[httpcore.TimeoutException] = httpcore.ReadTimeout) -> float | None:
    """The timeout shortened to this thread's deadline; raises ``late`` once the deadline has passed (a
    :class:`httpcore.ConnectTimeout` before anything was sent, so that the call may be retried)."""
    end = deadline.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise late("no whole answer within the timeout")
    return left if timeout is None else min(timeout, left)


class DeadlineStream(httpcore.NetworkStream):
    """A socket whose reads and writes wait no later than the deadline of the request in flight."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _clamp(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _clamp(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self.inner.start_tls(ssl_context, server_hostname,
                                                   _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class DeadlineBackend(httpcore.NetworkBackend):
    """The default socket backend, its streams wrapped in :class:`DeadlineStream`."""

    def __init__(self, inner: httpcore.NetworkBackend | None = None) -> None:
        self.inner = inner or httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: typing.Iterable[Any] | None = None) -> httpcore.NetworkStream:
        wait = _clamp(timeout, httpcore.ConnectTimeout)
        return DeadlineStream(self.inner.connect_tcp(host, port, wait, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: typing.Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return DeadlineStream(self.inner.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout),
                                                             socket_options))

    def sleep(self, seconds: float) -> None:
        self.inner.sleep(seconds)


def bounded_transport(**options: Any) -> httpx.HTTPTransport:
    """httpx's own transport (``options`` as for :class:`httpx.HTTPTransport`), its pool on a
    :class:`DeadlineBackend`, so headers dribbled a byte at a time end at the deadline too.

    httpx does not take a network backend, so the pool's is replaced; should a later httpx build its pool
    otherwise, the transport is left as it is (the body is still bounded by :func:`send_bounded`).
    """
    transport = httpx.HTTPTransport(**options)
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if isinstance(pool, httpcore.ConnectionPool) and isinstance(backend, httpcore.NetworkBackend):
        pool._network_backend = DeadlineBackend(backend)
    return transport
