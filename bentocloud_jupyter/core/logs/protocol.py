"""Build and pod logs over BentoCloud's websockets: where they are, pod lookups, and log tails.

Websockets live at the endpoint's host and port with **no path prefix** (``ws://`` for an http
endpoint, ``wss://`` for https) and are authenticated by the same ``X-YATAI-API-TOKEN`` header as REST.
Every failure ends in one error of :mod:`.errors`; a connection that closes before ``EOF`` ends the
stream quietly, as ``bentoml`` does. What the messages mean lives in :mod:`.wire` and the pods'
data in :mod:`.pods` (both re-exported here); this module only opens sockets and moves messages:

* :func:`tail_logs` (async generator of lines) and :func:`read_logs` (blocking, ``follow=False``,
  usable inside a running kernel loop: it uses ``websockets.sync``), two drivers of one :class:`.LogTail`;
* :func:`image_builder_pod` / :func:`deployment_pods` and their blocking ``*_sync`` twins, drivers of
  one lookup each.

Following logs live (the bounded buffer and the follower task) is :mod:`.follow`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode, urlsplit

from bentocloud_jupyter.core import logguard
from bentocloud_jupyter.core.credentials.config import Context, ResolvedContext
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    BentoCloudError,
    ConnectError,
    InsecureEndpointError,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
    RequestTimeout,
    TransportError,
)
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.logs.pods import (
    BUILD_STATUSES,
    BUILDER_LABEL,
    LogSource,
    Pod,
    PodPlace,
    needs_builder,
    pick_builder,
    pick_sources,
)
from bentocloud_jupyter.core.logs.wire import (
    HEARTBEAT,
    HEARTBEAT_INTERVAL,
    MAX_LINE,
    MAX_PARTIAL,
    LineDecoder,
    LogTail,
    QuietClock,
    clip_line,
    log_chunks,
    parse_pods,
)
from bentocloud_jupyter.core.rest.errors_map import Refusal, Wording, api_error, server_message
from bentocloud_jupyter.core.rest.http import USER_AGENT, is_loopback
from bentocloud_jupyter.core.tokens import Token, redact, sendable_token

__all__ = ["BUILDER_LABEL", "BUILD_STATUSES", "DEFAULT_TAIL", "MAX_LINE", "MAX_LINES", "MAX_PARTIAL", "LineDecoder",
           "LogSource", "Pod", "PodPlace", "WsEndpoint", "clip_line", "deployment_pods", "deployment_pods_sync",
           "image_builder_pod", "image_builder_pod_sync", "log_chunks", "needs_builder", "parse_pods",
           "pick_sources", "read_logs", "tail_logs", "ws_base"]

T = TypeVar("T")
DEFAULT_TAIL = 50
OPEN_TIMEOUT = 10.0
MAX_LINES = 500          # lines a follower keeps


# ------------------------------------------------------------------------------------------ addresses


def ws_base(endpoint: str, *, allow_insecure: bool = False) -> str:
    """``ws(s)://host:port`` of a BentoCloud endpoint: scheme mapped, path prefix dropped (as BentoCloud wants).

    Raises:
        InvalidInputError: not an http(s) URL.
        InsecureEndpointError: ``ws://`` to a host that is not this machine, without ``allow_insecure``.
    """
    parts = urlsplit((endpoint or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{endpoint!r} is not a BentoCloud URL; give one like https://cloud.bentoml.com")
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise InsecureEndpointError(f"Refusing to send your token over plain ws:// to {parts.hostname}: use an https "
                                    "endpoint", hint=Hint("login", {"insecure": True},
                                                          why="if you really trust this network"))
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True)
class WsEndpoint:
    """Where websockets go and the token they carry (masked in reprs)."""

    base: str
    token: Token | None = field(default=None, repr=False)

    @classmethod
    def for_context(cls, context: Context | ResolvedContext) -> WsEndpoint:
        """The websocket side of a context (honours the ``insecure`` choice recorded at login)."""
        from bentocloud_jupyter.core.rest.session import INSECURE_KEY

        ctx = context.context if isinstance(context, ResolvedContext) else context
        return cls(ws_base(ctx.endpoint, allow_insecure=bool(ctx.extra.get(INSECURE_KEY))), ctx.api_token)

    def url(self, path: str, params: Mapping[str, str]) -> str:
        return f"{self.base}{path}?{urlencode(params)}"

    def headers(self) -> dict[str, str]:
        """The header, built where it is sent; a token no header can carry is refused (InvalidInputError)."""
        return {"X-YATAI-API-TOKEN": sendable_token(self.token).reveal()} if self.token else {}


# ---------------------------------------------------------------------------------------- connections


_WS_WORDING: Wording = {
    AuthenticationError: "The API token was rejected by {where} when opening {what} ({status}{said})",
    NotFoundError: "{where} has no websocket for {what} (404{said}).",
    APIError: "{where} refused the websocket for {what} ({status}{said}).",
}


def _options(connect: Callable[..., Any]) -> dict[str, Any]:
    logguard.install()  # websockets logs every header it sends at DEBUG: scrubbed before any socket opens
    options: dict[str, Any] = {"open_timeout": OPEN_TIMEOUT, "close_timeout": 1.0, "max_size": 4 * 1024 * 1024,
                               "user_agent_header": USER_AGENT}
    if "proxy" in inspect.signature(connect).parameters:  # websockets >= 15 reads proxies from env: not ours
        options["proxy"] = None
    return options


def _open_error(exc: BaseException, ws: WsEndpoint, what: str) -> BentoCloudError:
    """Map a failed websocket opening to one error of the tree (never the URL's query or a token)."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    if isinstance(exc, BentoCloudError):  # ours already (a token no header can carry)
        return exc
    where, detail = ws.base, redact(str(exc)) or type(exc).__name__
    if isinstance(exc, InvalidStatus):
        body = bytes(exc.response.body or b"").decode("utf-8", errors="replace")
        refusal = Refusal(exc.response.status_code, server_message(body))
        return api_error(refusal, _WS_WORDING, endpoint=where, where=where, what=what)
    if isinstance(exc, InvalidURI):
        return InvalidInputError(f"Cannot build a websocket URL for {what} from {where}.")
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return RequestTimeout(f"{where} did not open the websocket for {what} within {OPEN_TIMEOUT:g} s; check "
                              "your network and try again.", endpoint=where, before_send=True)
    if isinstance(exc, InvalidHandshake):
        return ProtocolError(f"{where} did not accept a websocket for {what} ({detail}); is this a BentoCloud "
                             "endpoint?", endpoint=where)
    return ConnectError(f"Cannot connect to {where} for {what} ({detail}); check the URL, your network and that "
                        "the service is up.", endpoint=where, before_send=True)


def _no_answer(exc: BaseException, ws: WsEndpoint, what: str) -> TransportError:
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return RequestTimeout(f"{ws.base} sent nothing for {what} within {OPEN_TIMEOUT:g} s.", endpoint=ws.base)
    return ConnectError(f"{ws.base} closed the websocket for {what} without an answer; try again.",
                        endpoint=ws.base)


async def _open(ws: WsEndpoint, address: tuple[str, dict[str, str]], what: str) -> Any:
    from websockets.asyncio.client import connect

    try:
        return await connect(ws.url(*address), additional_headers=ws.headers(), **_options(connect))
    except Exception as exc:  # websockets raises many kinds; each maps to one of ours
        raise _open_error(exc, ws, what) from None


def _open_sync(ws: WsEndpoint, address: tuple[str, dict[str, str]], what: str) -> Any:
    from websockets.sync.client import connect

    try:
        return connect(ws.url(*address), additional_headers=ws.headers(), **_options(connect))
    except Exception as exc:
        raise _open_error(exc, ws, what) from None


# ------------------------------------------------------------------------- lookups: one core, two drivers


@dataclass(frozen=True)
class _Lookup(Generic[T]):
    """A one-message websocket question as plain code: where to ask, what it is for, how to read the answer."""

    address: tuple[str, dict[str, str]]
    what: str
    read: Callable[[str | bytes, str], T]


def _pods_lookup(place: PodPlace) -> _Lookup[list[Pod]]:
    return _Lookup(place.deployment_pods(), f"the pods of {place.deployment!r}", parse_pods)


def _builder_lookup(place: PodPlace) -> _Lookup[Pod | None]:
    return _Lookup(place.bento_pods(), f"the image builder of {place.repository}:{place.version}",
                   lambda raw, where: pick_builder(parse_pods(raw, where), place.deployment))


async def _ask(ws: WsEndpoint, lookup: _Lookup[T]) -> T:
    from websockets.exceptions import ConnectionClosed

    conn = await _open(ws, lookup.address, lookup.what)
    try:
        raw = await asyncio.wait_for(conn.recv(), OPEN_TIMEOUT)
    except (ConnectionClosed, asyncio.TimeoutError) as exc:
        raise _no_answer(exc, ws, lookup.what) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()
    return lookup.read(raw, f"{ws.base} ({lookup.what})")


def _ask_sync(ws: WsEndpoint, lookup: _Lookup[T]) -> T:
    from websockets.exceptions import ConnectionClosed

    with _open_sync(ws, lookup.address, lookup.what) as conn:
        try:
            raw = conn.recv(timeout=OPEN_TIMEOUT)
        except (ConnectionClosed, TimeoutError) as exc:
            raise _no_answer(exc, ws, lookup.what) from None
    return lookup.read(raw, f"{ws.base} ({lookup.what})")


async def deployment_pods(ws: WsEndpoint, place: PodPlace) -> list[Pod]:
    """The pods of a deployment (one websocket message).

    Raises:
        AuthenticationError, NotFoundError, APIError, ConnectError, RequestTimeout: opening or asking failed.
        ProtocolError: not a pod list.
    """
    return await _ask(ws, _pods_lookup(place))


async def image_builder_pod(ws: WsEndpoint, place: PodPlace) -> Pod | None:
    """The pod building the image of the deployment's bento, or None (yet). Raises: as :func:`deployment_pods`."""
    return await _ask(ws, _builder_lookup(place))


def deployment_pods_sync(ws: WsEndpoint, place: PodPlace) -> list[Pod]:
    """Blocking twin of :func:`deployment_pods`."""
    return _ask_sync(ws, _pods_lookup(place))


def image_builder_pod_sync(ws: WsEndpoint, place: PodPlace) -> Pod | None:
    """Blocking twin of :func:`image_builder_pod`."""
    return _ask_sync(ws, _builder_lookup(place))


# ----------------------------------------------------------------------------- tails: one core, two drivers


async def _heartbeats(conn: Any, interval: float) -> None:
    while True:
        with contextlib.suppress(Exception):  # as bentoml: a failed heartbeat is not an error
            await conn.send(HEARTBEAT)
        await asyncio.sleep(interval)


async def tail_logs(ws: WsEndpoint, place: PodPlace, pod: str, *, namespace: str = "", container: str = "main",
                    follow: bool = True, tail_lines: int = DEFAULT_TAIL,
                    heartbeat: float = HEARTBEAT_INTERVAL) -> AsyncGenerator[str, None]:
    """Lines of one container's log as they come, until ``EOF`` (or a close, which ends quietly).

    Heartbeats go out at once and every ``heartbeat`` seconds from a task cancelled when the stream ends.
    Use with ``contextlib.aclosing`` when you may stop early.

    Raises:
        AuthenticationError, NotFoundError, ConnectError, RequestTimeout: opening failed.
        APIError: the server sent an error message. ProtocolError: a malformed message.
    """
    from websockets.exceptions import ConnectionClosed

    what = f"the log of pod {pod!r}"
    tail = LogTail(f"{ws.base} ({what})", container, follow, tail_lines)
    conn = await _open(ws, place.tail(pod, namespace), what)
    beats: asyncio.Task[None] | None = None
    try:
        with contextlib.suppress(ConnectionClosed):
            await conn.send(tail.request)
        beats = asyncio.ensure_future(_heartbeats(conn, heartbeat))
        while True:
            try:
                lines = tail.take(await conn.recv())
            except ConnectionClosed:
                break
            if lines is None:
                break
            for line in lines:
                yield line
        for line in tail.finish():
            yield line
    finally:
        if beats is not None:
            beats.cancel()
        with contextlib.suppress(Exception):
            await conn.close()


def read_logs(ws: WsEndpoint, place: PodPlace, pod: str, *, namespace: str = "", container: str = "main",
              tail_lines: int = DEFAULT_TAIL, timeout: float = 15.0, idle: float = 3.0) -> list[str]:
    """The last ``tail_lines`` lines of one container (``follow=False``), blocking; safe in a running loop.

    Ends at ``EOF``, at a close, after ``idle`` quiet seconds, or at ``timeout`` (a server that never says EOF).

    Raises:
        as :func:`tail_logs`.
    """
    from websockets.exceptions import ConnectionClosed

    what = f"the log of pod {pod!r}"
    tail = LogTail(f"{ws.base} ({what})", container, False, tail_lines)
    kept: deque[str] = deque(maxlen=max(1, min(tail_lines, 10 * MAX_LINES)))
    with _open_sync(ws, place.tail(pod, namespace), what) as conn:
        with contextlib.suppress(ConnectionClosed):
            conn.send(tail.request)
        clock = QuietClock(time.monotonic(), timeout, idle)
        while True:
            now = time.monotonic()
            if clock.beat_due(now):
                with contextlib.suppress(Exception):
                    conn.send(HEARTBEAT)
            if (wait := clock.wait(now)) is None:
                break
            try:
                lines = tail.take(conn.recv(timeout=wait))
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
            if lines is None:
                break
            clock.heard(time.monotonic())
            kept.extend(lines)
        kept.extend(tail.finish())
    return list(kept)
