"""Calling a running deployment's API, and reading the APIs it documents.

A deployment serves each API at ``POST {url}/{api}`` (a JSON body, or a file's bytes) and describes them
at ``{url}/docs.json`` (OpenAPI 3). Deployed services authenticate with ``Authorization: Bearer <token>``,
not the REST API's header; we send the context's token only when the deployment has access
authorization, and then only over https or to this machine. Every failure is one error of
:mod:`.errors` that quotes the API's own message (redacted). An answer is read within
:data:`MAX_CALL_ANSWER_BYTES` but, unlike REST answers, with no deadline in all: a slow or streaming API
keeps httpx's per-read timeout.
"""

from __future__ import annotations

import json as jsonlib
import mimetypes
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote, urlsplit

import httpx

from bentocloud_jupyter.core.calls.openapi import ApiSpec, OpenAPIView, parse_openapi, schema_kind
from bentocloud_jupyter.core.credentials.config import Context, resolve_context
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    ConnectError,
    InsecureEndpointError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
)
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.errors_map import Refusal, Wording, api_error
from bentocloud_jupyter.core.rest.http import USER_AGENT, asend_bounded, is_loopback, more_time, send_bounded
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token, sendable_token

__all__ = ["MAX_CALL_ANSWER_BYTES", "ApiSpec", "CallRequest", "CallResult", "Exchange", "OpenAPIView", "acall",
           "aopenapi", "call", "call_exchange", "http_options", "openapi", "parse_openapi", "probe_exchange",
           "schema_kind", "spec_exchange"]

R = TypeVar("R")
MAX_CALL_ANSWER_BYTES = 256 * 2**20
"""Bytes of one API answer at most (a model may answer images or long streams; gigabytes are a mistake)."""


# ---------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CallResult:
    """What an API answered: status, body (JSON when it is JSON, else text) and the round trip in ms."""

    deployment: str
    api: str
    status: int
    body: Any
    latency_ms: float
    content_type: str = ""
    is_json: bool = False

    @property
    def text(self) -> str:
        """The body as shown: pretty JSON, or the text itself."""
        return jsonlib.dumps(self.body, indent=2, ensure_ascii=False) if self.is_json else str(self.body)

    def __repr__(self) -> str:
        return f"{self.status} from {self.deployment}/{self.api} in {self.latency_ms:.0f} ms\n{self.text}"

    def _repr_html_(self) -> str:
        colour = "#1a7f37" if self.status < 300 else "#cf222e" if self.status >= 400 else "#6e7781"
        pill = (f'<span style="background:{colour};color:#fff;border-radius:8px;padding:1px 8px;'
                f'font-size:0.85em">{self.status}</span>')
        return (f'<div class="bcj-call"><div>{pill} '
                f'<span style="color:#6e7781;font-size:0.85em">{esc(self.deployment)}/{esc(self.api)} &middot; '
                f'{self.latency_ms:.0f} ms</span></div>'
                f'<pre style="white-space:pre-wrap;margin:2px 0">{esc(self.text)}</pre></div>')

    def _repr_json_(self) -> Any:
        return self.body if self.is_json and isinstance(self.body, (dict, list)) else None


# ---------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Target:
    """A ready deployment's base URL and the token to send (only when needed), kept a :class:`Token` until the
    request's headers are built, so that no frame of a verbose traceback holds it."""

    name: str
    url: str
    authorized: bool
    token: Token | None = field(default=None, repr=False)

    @property
    def headers(self) -> Mapping[str, str]:
        """The headers to send, built afresh for each request."""
        bearer = {} if self.token is None else {"Authorization": f"Bearer {self.token.reveal()}"}
        return {"User-Agent": USER_AGENT, "Accept": "application/json", **bearer}


def _target(deployment: Deployment, ctx: Context) -> _Target:
    """Where to call ``deployment`` and with which headers.

    Raises:
        NotReadyError: not running, or no usable URL. InsecureEndpointError: a token over remote plain http.
    """
    name = deployment.name
    if not deployment.is_ready:
        raise NotReadyError(f"Deployment {name!r} is {deployment.status}, not ready to be called yet",
                            hint=Hint("status", {"name": name, "wait": True}, why="to wait until it is running"))
    url = (deployment.url or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotReadyError(f"Deployment {name!r} has no single http(s) endpoint URL to call "
                            f"({', '.join(deployment.urls) or 'none'}).")
    token = None
    if deployment.access_authorization:
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not ctx.extra.get(session.INSECURE_KEY):
            raise InsecureEndpointError(f"Deployment {name!r} wants your token, but its URL is plain http on "
                                        f"{parts.hostname}; refusing to send it.")
        token = sendable_token(ctx.api_token)
    return _Target(name, url, deployment.access_authorization, token)


def _api_path(api: str) -> str:
    path = (api or "").strip().strip("/")
    if not path or any(c in path for c in "?#") or ".." in path.split("/"):
        raise InvalidInputError(f"{api!r} is not an API name; give one like `summarize` (see openapi()).")
    return quote(path, safe="/")


def _body(json: Any, file: str | Path | None) -> tuple[bytes, str]:
    """The request body: a file's bytes (type guessed from its name), or JSON (a str is parsed first).

    Raises:
        InvalidInputError: both given, an unreadable file, or text that is not JSON.
    """
    if json is not None and file is not None:
        raise InvalidInputError("Give a JSON body or a file, not both.")
    if file is not None:
        path = Path(file).expanduser()
        try:
            return path.read_bytes(), mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        except OSError as exc:
            raise InvalidInputError(f"Cannot read {str(file)!r}: {exc.strerror or type(exc).__name__}.") from None
        except ValueError:  # a NUL byte in the path
            raise InvalidInputError(f"Cannot read {str(file)!r}: a path cannot hold a NUL byte.") from None
    value = {} if json is None else json
    if isinstance(value, (str, bytes)):
        try:
            value = jsonlib.loads(value)
        except ValueError as exc:
            raise InvalidInputError(f"The JSON body is not valid JSON ({exc}); e.g. json='{{\"text\": \"hi\"}}'.") \
                from None
    try:
        return jsonlib.dumps(value).encode(), "application/json"
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The body cannot be sent as JSON ({exc}).") from None


_CALL_WORDING: Wording = {
    AuthenticationError: "{who} refused the call to {api} ({status}{said}); the token of this context was refused",
    NotFoundError: "{who} has no API {api} (404{said}); list its APIs with openapi({name}).",
    ValidationError: "API {api} of {name} refused the input ({status}{said}).",
    RateLimitError: "{who} is rate limiting calls (429{said}); try again{wait}.",
    503: "{who} is not serving right now (503{said}); it may be starting or waking up from zero replicas: try again "
         "in a few seconds.",
    ServerError: "API {api} of {name} failed ({status}{said}).",
    APIError: "API {api} of {name} answered {status}{said}.",
}
_UNASKED_TOKEN: Wording = {**_CALL_WORDING, AuthenticationError: "{who} refused the call to {api} ({status}{said}); "
                           "it asks for a token although access authorization looks off; check its configuration."}


def _call_error(target: _Target, api: str, response: httpx.Response) -> APIError:
    """One error quoting the API's message: the deployment's answer, not BentoCloud's."""
    return api_error(Refusal.of(response), _CALL_WORDING if target.authorized else _UNASKED_TOKEN,
                     endpoint=target.url, login_hint=target.authorized, who=f"Deployment {target.name!r}",
                     api=repr(api), name=repr(target.name))


def _transport_error(exc: httpx.HTTPError, target: _Target, what: str) -> TransportError:
    if isinstance(exc, httpx.TimeoutException):
        timeout = session.settings.timeout
        return RequestTimeout(f"Deployment {target.name!r} did not answer {what} within {timeout:g} s; try again "
                              "later", endpoint=target.url, hint=more_time(timeout))
    return ConnectError(f"Cannot reach deployment {target.name!r} at {target.url} for {what} ({type(exc).__name__});"
                        " check that it is running and reachable.", endpoint=target.url,
                        before_send=isinstance(exc, httpx.ConnectError))


def _result(target: _Target, api: str, response: httpx.Response, latency_ms: float) -> CallResult:
    if response.status_code >= 400:
        raise _call_error(target, api, response)
    kind = response.headers.get("content-type", "")
    if "json" in kind:
        try:
            return CallResult(target.name, api, response.status_code, response.json(), latency_ms, kind, True)
        except (ValueError, RecursionError):  # not JSON, or nested past the interpreter's limit: kept as text
            pass
    return CallResult(target.name, api, response.status_code, response.text, latency_ms, kind)


def _spec(target: _Target, response: httpx.Response) -> OpenAPIView:
    if response.status_code >= 400:
        raise _call_error(target, "docs.json", response)
    try:
        doc = response.json()
    except (ValueError, RecursionError):
        raise ProtocolError(f"Deployment {target.name!r} sent a docs.json that is not JSON.",
                            endpoint=target.url) from None
    return OpenAPIView(target.name, parse_openapi(doc))


# --------------------------------------------------------------- one sans-IO exchange, two drivers


@dataclass(frozen=True)
class _Exchange(Generic[R]):
    """One request to a deployment as plain code: what to send, how to read the answer (given the round trip in
    ms), and what a failure to get one means. :func:`_run` and :func:`_arun` only move the bytes."""

    target: _Target
    method: str
    path: str
    what: str
    read: Callable[[httpx.Response, float], R]
    content: bytes | None = None
    content_type: str | None = None

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        return http.build_request(self.method, f"{self.target.url}/{self.path}", content=self.content,
                                  headers={**self.target.headers,
                                           **({"Content-Type": self.content_type} if self.content_type else {})})

    def failed(self, exc: httpx.HTTPError) -> TransportError:
        return _transport_error(exc, self.target, self.what)

    def bounds(self) -> dict[str, Any]:
        """How :func:`~.rest.http.send_bounded` reads the answer: capped in size, no deadline in all."""
        return dict(label=self.what, endpoint=self.target.url, limit=MAX_CALL_ANSWER_BYTES,
                    sender=f"Deployment {self.target.name!r}")


@dataclass(frozen=True)
class _Call:
    """What to send, checked before anything is sent (the deployment is looked up after)."""

    api: str
    path: str
    content: bytes
    kind: str

    @classmethod
    def of(cls, api: str, json: Any, file: str | Path | None) -> _Call:
        path = _api_path(api)
        return cls(api, path, *_body(json, file))


def _call_exchange(deployment: Deployment, ctx: Context, call: _Call) -> _Exchange[CallResult]:
    target = _target(deployment, ctx)
    return _Exchange(target, "POST", call.path, f"the call to {call.api!r}",
                     lambda response, ms: _result(target, call.path, response, ms), call.content, call.kind)


def _spec_exchange(deployment: Deployment, ctx: Context) -> _Exchange[OpenAPIView]:
    target = _target(deployment, ctx)
    return _Exchange(target, "GET", "docs.json", "its API list", lambda response, _: _spec(target, response))


def _http_options() -> dict[str, Any]:
    return dict(timeout=session.settings.timeout, follow_redirects=False, trust_env=False)


def _run(exchange: _Exchange[R]) -> R:
    with httpx.Client(**_http_options()) as http:
        started = time.perf_counter()
        try:
            response = send_bounded(http, exchange.request(http), None, **exchange.bounds())
        except httpx.HTTPError as exc:
            raise exchange.failed(exc) from None
        return exchange.read(response, (time.perf_counter() - started) * 1000)


async def _arun(exchange: _Exchange[R]) -> R:
    async with httpx.AsyncClient(**_http_options()) as http:
        started = time.perf_counter()
        try:
            response = await asend_bounded(http, exchange.request(http), None, **exchange.bounds())
        except httpx.HTTPError as exc:
            raise exchange.failed(exc) from None
        return exchange.read(response, (time.perf_counter() - started) * 1000)


# ----------------------------------------------- the same exchanges for engines that own their client (batch)

Exchange = _Exchange
CallRequest = _Call


def call_exchange(deployment: Deployment, ctx: Context, request: CallRequest) -> Exchange[CallResult]:
    """One API call as an exchange, for a driver that sends many on one client. Raises: as :func:`_target`."""
    return _call_exchange(deployment, ctx, request)


def spec_exchange(deployment: Deployment, ctx: Context) -> Exchange[OpenAPIView]:
    """The ``docs.json`` fetch as an exchange. Raises: as :func:`_target`."""
    return _spec_exchange(deployment, ctx)


def probe_exchange(deployment: Deployment, ctx: Context) -> Exchange[int]:
    """``GET /readyz`` (it wakes a scaled-to-zero deployment), read as its status code."""
    target = _target(deployment, ctx)
    return _Exchange(target, "GET", "readyz", "its readiness probe", lambda response, _: response.status_code)


def http_options() -> dict[str, Any]:
    """The httpx client options every deployment call uses (session timeout, no redirects, no proxies)."""
    return _http_options()


# ------------------------------------------------------------------------------------------------ verbs


def call(name: str, api: str, json: Any = None, file: str | Path | None = None, context: str | None = None,
         *, cluster: str | None = None) -> CallResult:
    """POST to ``api`` of the ready deployment ``name``: a JSON body (``json``) or a file's bytes (``file``).

    ``cluster`` names the deployment's cluster when it is not the default one.

    Raises:
        NotReadyError: not running, or no single URL. InvalidInputError: bad body or API name.
        InsecureEndpointError: the token would go to a remote plain http URL.
        AuthenticationError, NotFoundError, ValidationError, RateLimitError, ServerError, APIError: the API (or,
        looking the deployment up, BentoCloud) refused or failed. ConnectError, RequestTimeout: no answer.
    """
    request = _Call.of(api, json, file)
    client, resolved = session.client_for(context)
    return _run(_call_exchange(client.get_deployment(name, cluster), resolved.context, request))


async def acall(name: str, api: str, json: Any = None, file: str | Path | None = None, context: str | None = None,
                *, cluster: str | None = None) -> CallResult:
    """The asyncio twin of :func:`call`, for the kernel's loop (widgets). Raises: as :func:`call`."""
    request = _Call.of(api, json, file)
    resolved = resolve_context(context)
    deployment = await session.async_client_for(resolved).get_deployment(name, cluster)
    return await _arun(_call_exchange(deployment, resolved.context, request))


def openapi(name: str, context: str | None = None, *, cluster: str | None = None) -> OpenAPIView:
    """The APIs the ready deployment ``name`` documents in ``docs.json``, with their JSON request schemas.

    Raises:
        as :func:`call` (but no InvalidInputError); ProtocolError: the document is not OpenAPI JSON.
    """
    client, resolved = session.client_for(context)
    return _run(_spec_exchange(client.get_deployment(name, cluster), resolved.context))


async def aopenapi(name: str, context: str | None = None, *, cluster: str | None = None) -> OpenAPIView:
    """The asyncio twin of :func:`openapi`. Raises: as :func:`openapi`."""
    resolved = resolve_context(context)
    deployment = await session.async_client_for(resolved).get_deployment(name, cluster)
    return await _arun(_spec_exchange(deployment, resolved.context))
