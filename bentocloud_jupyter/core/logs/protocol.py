"""Build and pod logs over BentoCloud's websockets: pod lookups, log tails, and a bounded follower.

Websockets live at the endpoint's host and port with **no path prefix** (``ws://`` for an http
endpoint, ``wss://`` for https) and are authenticated by the same ``X-YATAI-API-TOKEN`` header as REST.
A pods lookup answers one JSON message; a log tail streams base64 chunks of UTF-8 text until ``EOF``
and expects a heartbeat every 5 s. Every failure ends in one error of :mod:`.errors`; a connection
that closes before ``EOF`` ends the stream quietly, as ``bentoml`` does.

* :func:`tail_logs` (async generator of lines) and :func:`read_logs` (blocking, ``follow=False``,
  usable inside a running kernel loop: it uses ``websockets.sync``);
* :func:`image_builder_pod` / :func:`deployment_pods` and their blocking ``*_sync`` twins;
* :class:`LogFollower`: an asyncio task on the running loop that keeps the last ``max_lines`` lines
  (each cut at :data:`MAX_LINE` characters) in a :class:`LogBuffer` and tells its listeners at most
  every ``flush_interval`` seconds. Memory is bounded whatever the server sends.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import codecs
import contextlib
import inspect
import json
import re
import time
import uuid
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from bentocloud_jupyter._version import __version__
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
    ServerError,
)
from bentocloud_jupyter.core.rest.http import LOGIN_HINT, _server_message, is_loopback
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token, redact

__all__ = ["DEFAULT_TAIL", "LineDecoder", "LogSource", "Pod", "PodPlace", "WsEndpoint", "deployment_pods",
           "deployment_pods_sync", "image_builder_pod", "image_builder_pod_sync", "pick_sources", "read_logs",
           "tail_logs", "ws_base"]

DEFAULT_TAIL = 50
HEARTBEAT_INTERVAL = 5.0
OPEN_TIMEOUT = 10.0
MAX_LINES = 500          # lines a follower keeps
MAX_LINE = 2000          # characters kept of one line
MAX_PARTIAL = 64 * 1024  # a "line" without newline longer than this is emitted as it is
BUILDER_LABEL = "yatai.ai/is-bento-image-builder"
BUILD_STATUSES = frozenset({"image-building", "image-build-failed"})


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
        raise InsecureEndpointError(f"Refusing to send your token over plain ws:// to {parts.hostname}: use an "
                                    "https endpoint, or log in with --insecure if you really trust this network.")
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True)
class WsEndpoint:
    """Where websockets go and the token they carry (masked in reprs)."""

    base: str
    token: Token | None = field(default=None, repr=False)

    @classmethod
    def for_context(cls, context: Context | ResolvedContext) -> WsEndpoint:
        """The websocket side of a context (honours the context's recorded ``--insecure`` choice)."""
        from bentocloud_jupyter.core.rest.session import INSECURE_KEY

        ctx = context.context if isinstance(context, ResolvedContext) else context
        return cls(ws_base(ctx.endpoint, allow_insecure=bool(ctx.extra.get(INSECURE_KEY))), ctx.api_token)

    def url(self, path: str, params: Mapping[str, str]) -> str:
        return f"{self.base}{path}?{urlencode(params)}"

    def headers(self) -> dict[str, str]:
        return {"X-YATAI-API-TOKEN": self.token.reveal()} if self.token else {}


@dataclass(frozen=True)
class PodPlace:
    """Where a deployment's pods live, read from its JSON: cluster, organisation, namespace, first bento."""

    deployment: str
    cluster: str
    organization: str
    namespace: str
    repository: str
    version: str

    @classmethod
    def of(cls, deployment: Deployment) -> PodPlace:
        """The place of ``deployment``'s pods (its JSON must be a full or list item, as ``raw``).

        Raises:
            NotFoundError: the deployment has no revision with a bento yet.
        """
        raw = deployment.raw
        cluster: Mapping[str, Any] = raw["cluster"] if isinstance(raw.get("cluster"), Mapping) else {}
        targets = [t for t in ((raw.get("latest_revision") or {}).get("targets") or []) if t]
        bento = (targets[0].get("bento") if targets else None) or {}
        repository = (bento.get("repository") or {}).get("name") or ""
        version = bento.get("version") or bento.get("name") or ""
        if not repository or not version:
            raise NotFoundError(f"Deployment {deployment.name!r} has no bento revision yet, so no pods to read "
                                "logs from.")
        return cls(deployment.name, str(cluster.get("name") or deployment.cluster),
                   str(cluster.get("organization_name") or ""), str(raw.get("kube_namespace") or ""),
                   str(repository), str(version))

    def bento_pods(self) -> tuple[str, dict[str, str]]:
        return (f"/ws/v1/clusters/{quote(self.cluster, safe='')}/pods",
                {"organization_name": self.organization, "namespace": self.namespace,
                 "selector": f"yatai.ai/bento-repository={self.repository},yatai.ai/bento={self.version}"})

    def deployment_pods(self) -> tuple[str, dict[str, str]]:
        return (f"/ws/v2/deployments/{quote(self.deployment, safe='')}/pods",
                {"organization_name": self.organization, "cluster": self.cluster})

    def tail(self, pod: str, namespace: str = "") -> tuple[str, dict[str, str]]:
        return (f"/ws/v1/clusters/{quote(self.cluster, safe='')}/tail",
                {"namespace": namespace or self.namespace, "pod_name": pod, "timestamps": "false"})


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str = ""
    runner_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    phase: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Pod:
        return cls(str(raw["name"]), str(raw.get("namespace") or ""), str(raw.get("runner_name") or ""),
                   {str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                   str((raw.get("status") or {}).get("phase") or ""), raw)

    @property
    def is_image_builder(self) -> bool:
        return self.labels.get(BUILDER_LABEL) == "true"


@dataclass(frozen=True)
class LogSource:
    """One container's log: the image builder's ``builder`` or a replica's ``main``."""

    pod: Pod
    container: str

    @property
    def label(self) -> str:
        return f"{self.pod.name} ({self.container})"


def needs_builder(deployment: Deployment, pods: Sequence[Pod]) -> bool:
    return deployment.status in BUILD_STATUSES or not [p for p in pods if not p.is_image_builder]


def pick_sources(deployment: Deployment, pods: Sequence[Pod], builder: Pod | None) -> list[LogSource]:
    """Replicas' ``main`` containers, led by the image builder's ``builder`` while the image builds, after a
    failed build, or when no replica runs."""
    builder = builder or next((p for p in pods if p.is_image_builder), None)
    sources = [LogSource(p, "main") for p in pods if not p.is_image_builder]
    if builder is not None and needs_builder(deployment, pods):
        sources.insert(0, LogSource(builder, "builder"))
    return sources


# ------------------------------------------------------------------------------------------- messages


_AUTH_WORDS = re.compile(r"token|unauthori[sz]ed|authenticat|forbidden|permission denied", re.IGNORECASE)


def _load(raw: str | bytes, where: str) -> Mapping[str, Any]:
    try:
        message = json.loads(raw)
    except ValueError:
        message = None
    if not isinstance(message, Mapping):
        raise ProtocolError(f"{where} sent a websocket message that is not a JSON object; is this a BentoCloud "
                            "endpoint?")
    if message.get("type") == "error":
        said = " ".join(str(message.get("message") or "no reason given").split())[:300]
        if _AUTH_WORDS.search(said):  # sockets are accepted first, so a refused token arrives as a message
            raise AuthenticationError(f"{where} rejected the API token: {said}; {LOGIN_HINT}.", server_message=said)
        raise APIError(f"{where} reported an error: {said}", server_message=said)
    return message


def parse_pods(raw: str | bytes, where: str) -> list[Pod]:
    """The pods of a lookup's single message.

    Raises:
        APIError: the server answered ``type: error``. ProtocolError: not the expected shape.
    """
    payload = _load(raw, where).get("payload")
    try:
        return [Pod.from_api(item) for item in payload or [] if item]
    except (KeyError, TypeError, AttributeError):
        raise ProtocolError(f"{where} sent a pod list of an unexpected shape.") from None


def log_chunks(raw: str | bytes, where: str) -> list[bytes] | None:
    """The decoded chunks of one tail message: None at ``EOF``, nothing for heartbeats and empty payloads.

    Raises:
        APIError: ``type: error``. ProtocolError: not JSON, or a chunk that is not base64.
    """
    message = _load(raw, where)
    if message.get("type") == "success" and message.get("message") == "EOF":
        return None
    payload = message.get("payload")
    if message.get("type") == "heartbeat" or not isinstance(payload, Mapping):
        return []
    try:
        return [base64.b64decode(item, validate=True) for item in payload.get("items") or []]
    except (binascii.Error, TypeError, ValueError):
        raise ProtocolError(f"{where} sent a log chunk that is not base64.") from None


class LineDecoder:
    """Bytes in, whole lines out: a UTF-8 character or a line may be split across chunks."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        *lines, self._partial = (self._partial + self._decoder.decode(data)).split("\n")
        if len(self._partial) > MAX_PARTIAL:
            lines.append(self._partial)
            self._partial = ""
        return [clip_line(line) for line in lines]

    def flush(self) -> list[str]:
        rest, self._partial = self._partial + self._decoder.decode(b"", final=True), ""
        return [clip_line(rest)] if rest else []


def clip_line(line: str) -> str:
    line = line.rstrip("\r")
    return line if len(line) <= MAX_LINE else line[:MAX_LINE] + " […]"


def _request(container: str, follow: bool, tail_lines: int) -> str:
    return json.dumps({"type": "data", "payload": {"id": str(uuid.uuid4()), "container_name": container,
                                                   "follow": follow, "tail_lines": tail_lines}})


_HEARTBEAT = json.dumps({"type": "heartbeat"})


# ---------------------------------------------------------------------------------------- connections


def _options(connect: Callable[..., Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"open_timeout": OPEN_TIMEOUT, "close_timeout": 1.0, "max_size": 4 * 1024 * 1024,
                               "user_agent_header": f"bentocloud-jupyter/{__version__}"}
    if "proxy" in inspect.signature(connect).parameters:  # websockets >= 15 reads proxies from env: not ours
        options["proxy"] = None
    return options


def _open_error(exc: BaseException, ws: WsEndpoint, what: str) -> BentoCloudError:
    """Map a failed websocket opening to one error of the tree (never the URL's query or a token)."""
    from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI

    where, detail = ws.base, redact(str(exc)) or type(exc).__name__
    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        said = _server_message(httpx.Response(status, content=bytes(exc.response.body or b"")))
        common: dict[str, Any] = dict(status=status, endpoint=where, server_message=said)
        said = f": {said}" if said else ""
        if status in (401, 403):
            return AuthenticationError(f"The API token was rejected by {where} when opening {what} ({status}{said});"
                                       f" {LOGIN_HINT}.", **common)
        if status == 404:
            return NotFoundError(f"{where} has no websocket for {what} (404{said}).", **common)
        kind = ServerError if status >= 500 else APIError
        return kind(f"{where} refused the websocket for {what} ({status}{said}).", **common)
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


async def _read_one(ws: WsEndpoint, address: tuple[str, dict[str, str]], what: str) -> str | bytes:
    from websockets.exceptions import ConnectionClosed

    conn = await _open(ws, address, what)
    try:
        return await asyncio.wait_for(conn.recv(), OPEN_TIMEOUT)
    except ConnectionClosed:
        raise ConnectError(f"{ws.base} closed the websocket for {what} without an answer; try again.",
                           endpoint=ws.base) from None
    except asyncio.TimeoutError:
        raise RequestTimeout(f"{ws.base} sent nothing for {what} within {OPEN_TIMEOUT:g} s.",
                             endpoint=ws.base) from None
    finally:
        with contextlib.suppress(Exception):
            await conn.close()


def _read_one_sync(ws: WsEndpoint, address: tuple[str, dict[str, str]], what: str) -> str | bytes:
    from websockets.exceptions import ConnectionClosed

    with _open_sync(ws, address, what) as conn:
        try:
            return conn.recv(timeout=OPEN_TIMEOUT)  # type: ignore[no-any-return]
        except ConnectionClosed:
            raise ConnectError(f"{ws.base} closed the websocket for {what} without an answer; try again.",
                               endpoint=ws.base) from None
        except TimeoutError:
            raise RequestTimeout(f"{ws.base} sent nothing for {what} within {OPEN_TIMEOUT:g} s.",
                                 endpoint=ws.base) from None


def _builder(pods: list[Pod], deployment: str) -> Pod | None:
    """The first image builder, preferring one labelled with the deployment (a bento may be built for several)."""
    builders = [pod for pod in pods if pod.is_image_builder]
    return next((p for p in builders if p.labels.get("yatai.ai/deployment") == deployment), None) or \
        next(iter(builders), None)


async def deployment_pods(ws: WsEndpoint, place: PodPlace) -> list[Pod]:
    """The pods of a deployment (one websocket message). Raises: as :func:`_open_error`, APIError, ProtocolError."""
    what = f"the pods of {place.deployment!r}"
    return parse_pods(await _read_one(ws, place.deployment_pods(), what), f"{ws.base} ({what})")


async def image_builder_pod(ws: WsEndpoint, place: PodPlace) -> Pod | None:
    """The pod building the image of the deployment's bento, or None (yet)."""
    what = f"the image builder of {place.repository}:{place.version}"
    return _builder(parse_pods(await _read_one(ws, place.bento_pods(), what), f"{ws.base} ({what})"),
                    place.deployment)


def deployment_pods_sync(ws: WsEndpoint, place: PodPlace) -> list[Pod]:
    """Blocking twin of :func:`deployment_pods`."""
    what = f"the pods of {place.deployment!r}"
    return parse_pods(_read_one_sync(ws, place.deployment_pods(), what), f"{ws.base} ({what})")


def image_builder_pod_sync(ws: WsEndpoint, place: PodPlace) -> Pod | None:
    """Blocking twin of :func:`image_builder_pod`."""
    what = f"the image builder of {place.repository}:{place.version}"
    return _builder(parse_pods(_read_one_sync(ws, place.bento_pods(), what), f"{ws.base} ({what})"),
                    place.deployment)


# ----------------------------------------------------------------------------------------------- tails


async def _heartbeats(conn: Any, interval: float) -> None:
    while True:
        with contextlib.suppress(Exception):  # as bentoml: a failed heartbeat is not an error
            await conn.send(_HEARTBEAT)
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
    where = f"{ws.base} ({what})"
    conn = await _open(ws, place.tail(pod, namespace), what)
    beats: asyncio.Task[None] | None = None
    decoder = LineDecoder()
    try:
        with contextlib.suppress(ConnectionClosed):
            await conn.send(_request(container, follow, tail_lines))
        beats = asyncio.ensure_future(_heartbeats(conn, heartbeat))
        while True:
            try:
                raw = await conn.recv()
            except ConnectionClosed:
                break
            chunks = log_chunks(raw, where)
            if chunks is None:
                break
            for chunk in chunks:
                for line in decoder.feed(chunk):
                    yield line
        for line in decoder.flush():
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
    where = f"{ws.base} ({what})"
    lines: deque[str] = deque(maxlen=max(1, min(tail_lines, 10 * MAX_LINES)))
    decoder = LineDecoder()
    with _open_sync(ws, place.tail(pod, namespace), what) as conn:
        with contextlib.suppress(ConnectionClosed):
            conn.send(_request(container, False, tail_lines))
        start = last = beat = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= beat:
                with contextlib.suppress(Exception):
                    conn.send(_HEARTBEAT)
                beat = now + HEARTBEAT_INTERVAL
            wait = min(start + timeout, last + idle, beat) - now
            if wait <= 0 and now >= min(start + timeout, last + idle):
                break
            try:
                chunks = log_chunks(conn.recv(timeout=max(wait, 0.01)), where)
            except TimeoutError:
                continue
            except ConnectionClosed:
                break
            if chunks is None:
                break
            last = time.monotonic()
            for chunk in chunks:
                lines.extend(decoder.feed(chunk))
        lines.extend(decoder.flush())
    return list(lines)
