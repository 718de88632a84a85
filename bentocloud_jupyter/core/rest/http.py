"""REST calls as values: how a :class:`Call` is described, checked, retried and read, for both clients.

An endpoint is described once as a :class:`Call` (method, path, query, body, parser). Both clients
send it through the same steps: :func:`normalize_endpoint` before any token is attached,
:func:`retry_delay` to decide whether a failure may be retried, :func:`response_error` to map any
non-200 answer to the error tree (through :func:`~.errors_map.api_error`, shared with websockets and
calls into deployments), :func:`parse_body` to turn the JSON into models, and :func:`transport_error`
for answers that never came. :func:`send_bounded` (and its async twin) read an answer within
:data:`MAX_ANSWER_BYTES` and the timeout in all (see :mod:`.bounded`). :data:`USER_AGENT` and
:func:`is_loopback` serve every client-side surface.
"""

from __future__ import annotations

import contextlib
import dataclasses
import ipaddress
import json
import math
import random
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

from bentocloud_jupyter._version import __version__
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    BentoCloudError,
    ConflictError,
    ConnectError,
    InsecureEndpointError,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    TransportError,
    ValidationError,
)
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest.bounded import (
    DEADLINE_GRACE,
    MAX_ANSWER_BYTES,
    asend_bounded,
    bounded_transport,
    send_bounded,
    too_large,
)
from bentocloud_jupyter.core.rest.errors_map import Refusal, Wording, api_error
from bentocloud_jupyter.core.tokens import redact

__all__ = ["DEADLINE_GRACE", "MAX_ANSWER_BYTES", "MAX_JSON_DEPTH", "RESOLVE_TIMEOUT", "USER_AGENT", "Call",
           "RetryPolicy", "asend_bounded", "bounded_transport", "is_loopback", "json_too_deep", "more_time",
           "normalize_endpoint", "parse_body", "resolves_to_loopback", "response_error", "retry_delay",
           "send_bounded", "storage_error", "transport_error"]

T = TypeVar("T")

USER_AGENT = f"bentocloud-jupyter/{__version__}"
"""The one User-Agent of REST calls, websockets and calls into deployments."""
_RETRY_STATUSES_IDEMPOTENT = frozenset({429, 502, 503, 504})
MAX_JSON_DEPTH = 64
"""Deeper answers are refused (BentoCloud's own nest about ten levels; a hostile one could exhaust the stack)."""
RESOLVE_TIMEOUT = 2.0
"""How long :func:`is_loopback` waits for a name to resolve before it counts the name as remote."""


@dataclass(frozen=True)
class Call(Generic[T]):
    """One REST call: what to send and how to read the answer. ``what`` names the object for messages."""

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str] | None = None
    json: Any = None
    what: str = ""
    authenticated: bool = True

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "HEAD")

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, capped in attempts and in total time."""

    max_attempts: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    max_total: float = 30.0
    jitter: Callable[[], float] = field(default=random.random, repr=False)

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 1)."""
        if retry_after is not None and not math.isnan(retry_after):
            return min(max(retry_after, 0.0), self.max_total)
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + 0.5 * self.jitter()))


def retry_delay(policy: RetryPolicy, call: Call[Any], attempt: int, spent: float,
                error: BentoCloudError) -> float | None:
    """How long to wait before retrying ``call`` after ``error``, or None when it must not be retried.

    Safe to retry: any call that never reached the server (connection refused) or that was told to
    slow down (429); GETs also after 502/503/504, timeouts and dropped connections. ``spent`` is the
    time used so far (attempts and waits); no retry may take the call past ``policy.max_total``.
    """
    if attempt >= policy.max_attempts:
        return None
    if isinstance(error, RateLimitError):
        retryable = True
    elif isinstance(error, APIError):
        retryable = call.idempotent and error.status in _RETRY_STATUSES_IDEMPOTENT
    elif isinstance(error, TransportError):
        retryable = call.idempotent or error.before_send
    else:
        retryable = False
    if not retryable:
        return None
    delay = policy.delay(attempt, getattr(error, "retry_after", None))
    if spent + delay > policy.max_total:
        return None
    return delay


# ------------------------------------------------------------------------------------------ endpoints


def is_loopback(host: str) -> bool:
    """True for this machine, where plain http keeps a token local: a literal loopback address, ``localhost``,
    or a name that resolves (within :data:`RESOLVE_TIMEOUT`) only to loopback addresses.

    Why resolve: ``evil.localhost`` is loopback only to a resolver that special-cases it; elsewhere it may be
    any host on the internet.
    """
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return bool(host) and resolves_to_loopback(host)


def resolves_to_loopback(host: str, timeout: float = RESOLVE_TIMEOUT) -> bool:
    """True when ``host`` resolves, within ``timeout`` seconds, to loopback addresses only."""
    found: list[Any] = []

    def lookup() -> None:
        with contextlib.suppress(OSError, UnicodeError, ValueError):
            found.extend(socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP))

    worker = threading.Thread(target=lookup, name="bentocloud-resolve", daemon=True)  # a hung resolver: no wait
    worker.start()
    worker.join(timeout)
    if worker.is_alive() or not found:
        return False
    addresses = {str(info[4][0]).split("%")[0] for info in list(found)}
    with contextlib.suppress(ValueError):
        return all(ipaddress.ip_address(address).is_loopback for address in addresses)
    return False


def normalize_endpoint(endpoint: str, *, allow_insecure: bool = False) -> str:
    """Validate a BentoCloud URL and strip its trailing slash.

    Raises:
        InvalidInputError: not an http(s) URL, credentials or query in it.
        InsecureEndpointError: plain http to a host that is not this machine, without ``allow_insecure``.
    """
    text = (endpoint or "").strip()
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018  (raises on a port that is not a number)
    except ValueError:
        raise InvalidInputError(f"{text!r} is not a valid URL; give one like https://cloud.bentoml.com") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInputError(f"{text!r} is not a BentoCloud URL; give one like https://cloud.bentoml.com")
    if parts.username or parts.password:
        raise InvalidInputError("The endpoint URL must not contain a user name or password; pass the token "
                                "separately.")
    if parts.query or parts.fragment:
        raise InvalidInputError(f"The endpoint URL must not have a query or fragment: {text!r}")
    if parts.scheme == "http" and not allow_insecure and not is_loopback(parts.hostname):
        raise InsecureEndpointError(
            f"Refusing to send your token over plain http to {parts.hostname}: use https, or pass "
            "insecure=True if you really trust this network.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


# ------------------------------------------------------------------------------------------ responses


def parse_body(call: Call[T], response: httpx.Response, endpoint: str) -> T:
    """Decode a 200 answer and build the models; bad JSON, JSON nested past :data:`MAX_JSON_DEPTH` or a
    wrong shape (numbers out of range included) is a :class:`ProtocolError`, never a traceback; so is an answer
    past :data:`MAX_ANSWER_BYTES` (read whole by a client not sending through :func:`send_bounded`)."""
    if len(response.content) > MAX_ANSWER_BYTES:
        raise too_large(call.label, endpoint, MAX_ANSWER_BYTES)
    try:
        payload = json.loads(response.content) if response.content else None
    except (ValueError, RecursionError):
        raise ProtocolError(f"BentoCloud at {endpoint} sent a reply to {call.label} that is not valid JSON "
                            "(a proxy or a truncated answer?); check the endpoint URL and try again.",
                            endpoint=endpoint) from None
    if json_too_deep(payload):
        raise ProtocolError(f"BentoCloud at {endpoint} sent a reply to {call.label} nested deeper than "
                            f"{MAX_JSON_DEPTH} levels; is this a BentoCloud endpoint?", endpoint=endpoint)
    try:
        return call.parse(payload)
    except BentoCloudError:
        raise
    except Exception as exc:  # whatever the shape broke (KeyError, OverflowError, ...): one line, no traceback
        detail = f"missing {str(exc)[:80]}" if isinstance(exc, KeyError) else type(exc).__name__
        raise ProtocolError(f"BentoCloud at {endpoint} sent an unexpected answer to {call.label} ({detail}); "
                            "is this a BentoCloud endpoint, and is bentocloud-jupyter up to date?",
                            endpoint=endpoint) from None


def json_too_deep(payload: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when objects and arrays nest deeper than ``limit`` (walked without recursion)."""
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


_REST_WORDING: Wording = {
    AuthenticationError: "The API token {refused} by {where} ({status}{said})",
    NotFoundError: "{What} was not found at {where}{detail}.",
    ConflictError: "Conflict at {where}{said}; pick another name or update the existing one.",
    ValidationError: "BentoCloud refused the request ({status}){said}. Fix the input and retry.",
    RateLimitError: "Too many requests to {where}; try again{wait}.",
    ServerError: "BentoCloud at {endpoint} failed with {status}{said}. Try again later.{trace}",
    APIError: "Unexpected answer {status} from {where} to {label}{said}.",
}


def response_error(call: Call[Any], response: httpx.Response, endpoint: str,
                   context: str | None = None) -> APIError:
    """Map a non-200 answer to one error of the tree, with a message saying what to do next."""
    what = call.what or call.label
    return api_error(Refusal.of(response), _REST_WORDING, endpoint=endpoint, legacy_not_found=True,
                     where=endpoint + (f" (context {context!r})" if context else ""),
                     What=what[:1].upper() + what[1:], label=call.label)


_STORAGE_WORDING: Wording = {
    401: "The storage service refused the {direction} URL ({status}): it was refused or has expired; try again.",
    403: "The storage service refused the {direction} URL ({status}): it was refused or has expired; try again.",
    NotFoundError: "The storage service has nothing at the {direction} URL ({status}); try again.",
    RateLimitError: "The storage service asked to slow down; try again{wait}.",
    ServerError: "The storage service failed with {status} during the {direction}; try again later.",
    APIError: "The storage service refused the {direction} ({status}){said}; try again.",
}


def storage_error(call: Call[Any], response: httpx.Response, endpoint: str) -> APIError:
    """Map a refusal of a presigned storage URL (no token is sent there, so it is never the token's fault).

    An XML or HTML body (S3 errors quote the signed request) is never quoted.
    """
    refusal = Refusal.of(response)
    if refusal.server_message.startswith("<"):
        refusal = dataclasses.replace(refusal, server_message="")
    return api_error(refusal, _STORAGE_WORDING, endpoint=endpoint, login_hint=False,
                     classes={401: APIError, 403: APIError},
                     direction="upload" if call.method == "PUT" else "download")


def transport_error(exc: httpx.HTTPError, call: Call[Any], endpoint: str, timeout: float) -> TransportError:
    """Map an httpx failure without an answer to :class:`ConnectError` or :class:`RequestTimeout`."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(
            f"BentoCloud at {endpoint} did not answer {call.label} within {timeout:g} s; check your network",
            endpoint=endpoint, before_send=isinstance(exc, httpx.ConnectTimeout), hint=more_time(timeout))
    detail = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"Cannot connect to {endpoint} ({detail}); check the URL, your network and "
                            "that the service is up.", endpoint=endpoint, before_send=True)
    return ConnectError(f"The connection to {endpoint} broke during {call.label} ({detail}); try again.",
                        endpoint=endpoint)


def more_time(timeout: float) -> Hint:
    """The hint of every timeout: configure twice the time that ran out."""
    return Hint("configure", {"timeout": 2 * timeout}, why="to allow more time")
