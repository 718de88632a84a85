"""Calling a running deployment's API, and reading the APIs it documents.

A deployment serves each API at ``POST {url}/{api}`` (a JSON body, or a file's bytes) and describes them
at ``{url}/docs.json`` (OpenAPI 3). Deployed services authenticate with ``Authorization: Bearer <token>``,
not the REST API's header; we send the context's token only when the deployment has access
authorization, and then only over https or to this machine. Every failure is one error of
:mod:`.errors` that quotes the API's own message (redacted).
"""

from __future__ import annotations

import json as jsonlib
import mimetypes
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from bentocloud_jupyter._version import __version__
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
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.http import LOGIN_HINT, _server_message, is_loopback
from bentocloud_jupyter.core.rest.models import Deployment

__all__ = ["ApiSpec", "CallResult", "OpenAPIView", "acall", "aopenapi", "call", "openapi", "parse_openapi",
           "schema_kind"]

_INFRA = frozenset({"/", "/readyz", "/livez", "/healthz", "/metrics", "/docs.json", "/docs"})
_PRIMITIVES = {"string", "number", "integer", "boolean"}


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


@dataclass(frozen=True)
class ApiSpec:
    """One API of a deployment: its name (the path without ``/``) and its JSON request schema, if any."""

    name: str
    summary: str = ""
    schema: Mapping[str, Any] | None = field(default=None, repr=False)

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        props = (self.schema or {}).get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def required(self) -> list[str]:
        return [str(n) for n in (self.schema or {}).get("required") or []]

    @property
    def simple(self) -> bool:
        """True when every top-level property is a string, number, integer or boolean (one field each)."""
        return bool(self.properties) and all(schema_kind(p) in _PRIMITIVES for p in self.properties.values())

    def example(self) -> Any:
        """A body of the schema's shape (defaults and examples where given) to start editing from."""
        return _example(self.schema or {}, 0)


def schema_kind(schema: Mapping[str, Any]) -> str:
    """The JSON type of a schema: its `type` (nullable types unwrapped), "object" when unsaid."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    if kind is None and isinstance(schema.get("anyOf"), list):
        kinds = [schema_kind(s) for s in schema["anyOf"] if isinstance(s, Mapping) and s.get("type") != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    return str(kind or "object")


def _example(schema: Mapping[str, Any], depth: int) -> Any:
    for key in ("example", "default"):
        if key in schema:
            return schema[key]
    kind = schema_kind(schema)
    if depth > 6 or kind in ("null",):
        return None
    if kind == "object":
        props = schema.get("properties") or {}
        return {str(k): _example(v, depth + 1) for k, v in props.items() if isinstance(v, Mapping)}
    if kind == "array":
        items = schema.get("items")
        return [_example(items, depth + 1)] if isinstance(items, Mapping) else []
    return {"string": "", "number": 0.0, "integer": 0, "boolean": False}.get(kind)


@dataclass(frozen=True)
class OpenAPIView:
    """The APIs a deployment documents, with their request fields."""

    deployment: str
    apis: tuple[ApiSpec, ...] = ()

    def get(self, name: str) -> ApiSpec | None:
        return next((a for a in self.apis if a.name == name.strip("/")), None)

    def _rows(self) -> list[tuple[str, str, str]]:
        def fields(api: ApiSpec) -> str:
            return ", ".join(f"{k}: {schema_kind(v)}" for k, v in api.properties.items()) or "(raw JSON)"
        return [(a.name, fields(a), a.summary) for a in self.apis]

    def __repr__(self) -> str:
        if not self.apis:
            return f"Deployment {self.deployment!r} documents no APIs."
        return "\n".join([f"APIs of {self.deployment!r}:"] + [f"  {n}({f})  {s}".rstrip() for n, f, s in self._rows()])

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td><code>{esc(n)}</code></td><td>{esc(f)}</td><td>{esc(s)}</td></tr>"
                       for n, f, s in self._rows())
        return f"<div><b>APIs of {esc(self.deployment)}</b><table>{rows}</table></div>"


def parse_openapi(doc: Any) -> tuple[ApiSpec, ...]:
    """The POST APIs of an OpenAPI 3 document (infrastructure routes left out), ``$ref`` resolved.

    Raises:
        ProtocolError: not an OpenAPI document.
    """
    if not isinstance(doc, Mapping) or not isinstance(doc.get("paths"), Mapping):
        raise ProtocolError("The deployment's docs.json is not an OpenAPI document.")
    apis = []
    for path, operations in doc["paths"].items():
        post = operations.get("post") if isinstance(operations, Mapping) else None
        if str(path) in _INFRA or not isinstance(post, Mapping):
            continue
        content = (post.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema")
        resolved = _resolve(schema, doc, 0) if isinstance(schema, Mapping) else None
        apis.append(ApiSpec(str(path).strip("/"), str(post.get("summary") or post.get("description") or ""),
                            resolved))
    return tuple(apis)


def _resolve(schema: Any, doc: Mapping[str, Any], depth: int) -> Any:
    """Inline ``#/...`` references (bounded depth, so a recursive schema cannot loop)."""
    if depth > 8:
        return {}
    if isinstance(schema, list):
        return [_resolve(item, doc, depth + 1) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = doc
        for part in ref[2:].split("/"):
            target = target.get(part.replace("~1", "/").replace("~0", "~"), {}) if isinstance(target, Mapping) else {}
        return _resolve(target, doc, depth + 1)
    return {k: _resolve(v, doc, depth + 1) for k, v in schema.items()}


# ---------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class _Target:
    """A ready deployment's base URL and the headers to send (the token only when needed)."""

    name: str
    url: str
    authorized: bool
    headers: Mapping[str, str] = field(repr=False)


def _target(deployment: Deployment, ctx: Context) -> _Target:
    """Where to call ``deployment`` and with which headers.

    Raises:
        NotReadyError: not running, or no usable URL. InsecureEndpointError: a token over remote plain http.
    """
    name = deployment.name
    if not deployment.is_ready:
        raise NotReadyError(f"Deployment {name!r} is {deployment.status}, not ready to be called; wait until "
                                f"it is running (`%bentocloud status {name}`).")
    url = (deployment.url or "").rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotReadyError(f"Deployment {name!r} has no single http(s) endpoint URL to call "
                                f"({', '.join(deployment.urls) or 'none'}).")
    headers = {"User-Agent": f"bentocloud-jupyter/{__version__}", "Accept": "application/json"}
    if deployment.access_authorization:
        if parts.scheme == "http" and not is_loopback(parts.hostname) and not ctx.extra.get(session.INSECURE_KEY):
            raise InsecureEndpointError(f"Deployment {name!r} wants your token, but its URL is plain http on "
                                        f"{parts.hostname}; refusing to send it.")
        headers["Authorization"] = f"Bearer {ctx.api_token.reveal()}"
    return _Target(name, url, deployment.access_authorization, headers)


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
    value = {} if json is None else json
    if isinstance(value, (str, bytes)):
        try:
            value = jsonlib.loads(value)
        except ValueError as exc:
            raise InvalidInputError(f"The JSON body is not valid JSON ({exc}); e.g. --json '{{\"text\": \"hi\"}}'.") \
                from None
    try:
        return jsonlib.dumps(value).encode(), "application/json"
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(f"The body cannot be sent as JSON ({exc}).") from None


def _call_error(target: _Target, api: str, response: httpx.Response) -> APIError:
    """One error quoting the API's message: the deployment's answer, not BentoCloud's."""
    status, server = response.status_code, _server_message(response)
    said = f": {server}" if server else ""
    common: dict[str, Any] = dict(status=status, endpoint=target.url, server_message=server)
    who = f"Deployment {target.name!r}"
    if status in (401, 403):
        hint = (f"the token of this context was refused; {LOGIN_HINT}" if target.authorized else
                "it asks for a token although access authorization looks off; check its configuration")
        return AuthenticationError(f"{who} refused the call to {api!r} ({status}{said}); {hint}.", **common)
    if status == 404:
        return NotFoundError(f"{who} has no API {api!r} (404{said}); list its APIs with openapi({target.name!r}).",
                             **common)
    if status in (400, 422):
        return ValidationError(f"API {api!r} of {target.name!r} refused the input ({status}{said}).", **common)
    if status == 429:
        return RateLimitError(f"{who} is rate limiting calls (429{said}); try again in a moment.", **common)
    if status == 503:
        return ServerError(f"{who} is not serving right now (503{said}); it may be starting or waking up from "
                           "zero replicas: try again in a few seconds.", **common)
    if status >= 500:
        return ServerError(f"API {api!r} of {target.name!r} failed ({status}{said}).", **common)
    return APIError(f"API {api!r} of {target.name!r} answered {status}{said}.", **common)


def _transport_error(exc: httpx.HTTPError, target: _Target, what: str) -> TransportError:
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"Deployment {target.name!r} did not answer {what} within {session.settings.timeout:g}"
                              " s; raise the timeout (%config BentoCloudMagics.timeout) or try again.",
                              endpoint=target.url)
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
        except ValueError:
            pass
    return CallResult(target.name, api, response.status_code, response.text, latency_ms, kind)


def _spec(target: _Target, response: httpx.Response) -> OpenAPIView:
    if response.status_code >= 400:
        raise _call_error(target, "docs.json", response)
    try:
        doc = response.json()
    except ValueError:
        raise ProtocolError(f"Deployment {target.name!r} sent a docs.json that is not JSON.") from None
    return OpenAPIView(target.name, parse_openapi(doc))


def _http_options() -> dict[str, Any]:
    return dict(timeout=session.settings.timeout, follow_redirects=False, trust_env=False)


# ------------------------------------------------------------------------------------------------ verbs


def call(name: str, api: str, json: Any = None, file: str | Path | None = None, context: str | None = None,
         *, cluster: str | None = None) -> CallResult:
    """POST to ``api`` of the ready deployment ``name``: a JSON body (``json``) or a file's bytes (``file``).

    ``cluster`` names the deployment's cluster when it is not the default one.

    Raises:
        InvalidInputError: not ready, bad body or API name. InsecureEndpointError: token over remote http.
        AuthenticationError, NotFoundError, ValidationError, ServerError, APIError: the API refused or failed.
        ConnectError, RequestTimeout: no answer.
    """
    client, resolved = session.client_for(context)
    target = _target(client.get_deployment(name, cluster), resolved.context)
    path, (content, kind) = _api_path(api), _body(json, file)
    with httpx.Client(**_http_options()) as http:
        started = time.perf_counter()
        try:
            response = http.post(f"{target.url}/{path}", content=content,
                                 headers={**target.headers, "Content-Type": kind})
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, f"the call to {api!r}") from None
        return _result(target, path, response, (time.perf_counter() - started) * 1000)


async def acall(name: str, api: str, json: Any = None, file: str | Path | None = None, context: str | None = None,
                *, cluster: str | None = None) -> CallResult:
    """The asyncio twin of :func:`call`, for the kernel's loop (widgets). Raises: as :func:`call`."""
    resolved = resolve_context(context)
    deployment = await session.async_client_for(resolved).get_deployment(name, cluster)
    target = _target(deployment, resolved.context)
    path, (content, kind) = _api_path(api), _body(json, file)
    async with httpx.AsyncClient(**_http_options()) as http:
        started = time.perf_counter()
        try:
            response = await http.post(f"{target.url}/{path}", content=content,
                                       headers={**target.headers, "Content-Type": kind})
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, f"the call to {api!r}") from None
        return _result(target, path, response, (time.perf_counter() - started) * 1000)


def openapi(name: str, context: str | None = None, *, cluster: str | None = None) -> OpenAPIView:
    """The APIs the ready deployment ``name`` documents in ``docs.json``, with their JSON request schemas.

    Raises:
        as :func:`call`; ProtocolError: the document is not OpenAPI JSON.
    """
    client, resolved = session.client_for(context)
    target = _target(client.get_deployment(name, cluster), resolved.context)
    with httpx.Client(**_http_options()) as http:
        try:
            response = http.get(f"{target.url}/docs.json", headers=dict(target.headers))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, "its API list") from None
    return _spec(target, response)


async def aopenapi(name: str, context: str | None = None, *, cluster: str | None = None) -> OpenAPIView:
    """The asyncio twin of :func:`openapi`. Raises: as :func:`openapi`."""
    resolved = resolve_context(context)
    target = _target(await session.async_client_for(resolved).get_deployment(name, cluster), resolved.context)
    async with httpx.AsyncClient(**_http_options()) as http:
        try:
            response = await http.get(f"{target.url}/docs.json", headers=dict(target.headers))
        except httpx.HTTPError as exc:
            raise _transport_error(exc, target, "its API list") from None
    return _spec(target, response)
