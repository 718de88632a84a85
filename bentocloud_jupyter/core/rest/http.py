"""The one place where HTTP becomes values or errors, shared by the sync and the async client.

An endpoint is described once as a :class:`Call` (method, path, query, body, parser). Both clients
send it through the same steps: :func:`normalize_endpoint` before any token is attached,
:func:`retry_delay` to decide whether a failure may be retried, :func:`response_error` to map any
non-200 answer to the error tree, :func:`parse_body` to turn the JSON into models, and
:func:`transport_error` for answers that never came.
"""

from __future__ import annotations

import ipaddress
import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from time import time
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx

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
from bentocloud_jupyter.core.tokens import redact

__all__ = ["Call", "RetryPolicy", "normalize_endpoint", "parse_body", "response_error", "retry_delay",
           "transport_error"]

T = TypeVar("T")

LOGIN_HINT = "run `%bentocloud login` (or bentocloud_jupyter.login()) to save a valid token"
_RETRY_STATUSES_ANY_METHOD = frozenset({429})
_RETRY_STATUSES_IDEMPOTENT = frozenset({429, 502, 503, 504})
_MAX_SERVER_TEXT = 300


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
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_total)
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return float(ceiling * (0.5 + 0.5 * self.jitter()))


NO_RETRY = RetryPolicy(max_attempts=1)


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
    host = host.strip("[]").lower()
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_endpoint(endpoint: str, *, allow_insecure: bool = False) -> str:
    """Validate a BentoCloud URL and strip its trailing slash.

    Raises:
        InvalidInputError: not an http(s) URL, credentials or query in it.
        InsecureEndpointError: plain http to a host that is not this machine, without ``allow_insecure``.
    """
    text = (endpoint or "").strip()
    parts = urlsplit(text)
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
            "insecure=True (--insecure) if you really trust this network.")
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


# ------------------------------------------------------------------------------------------ responses


def parse_body(call: Call[T], response: httpx.Response, endpoint: str) -> T:
    """Decode a 200 answer and build the models; a wrong shape is a :class:`ProtocolError`."""
    try:
        payload = json.loads(response.content) if response.content else None
    except ValueError:
        raise ProtocolError(f"BentoCloud at {endpoint} sent a reply to {call.label} that is not valid JSON "
                            "(a proxy or a truncated answer?); check the endpoint URL and try again.",
                            status=response.status_code, endpoint=endpoint) from None
    try:
        return call.parse(payload)
    except BentoCloudError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else type(exc).__name__
        raise ProtocolError(f"BentoCloud at {endpoint} sent an unexpected answer to {call.label} ({detail}); "
                            "is this a BentoCloud endpoint, and is bentocloud-jupyter up to date?",
                            status=response.status_code, endpoint=endpoint) from None


def response_error(call: Call[Any], response: httpx.Response, endpoint: str,
                   context: str | None = None) -> APIError:
    """Map a non-200 answer to one error of the tree, with a message saying what to do next."""
    status = response.status_code
    server = _server_message(response)
    trace_id = response.headers.get("x-trace-id")
    where = f"{endpoint}" + (f" (context {context!r})" if context else "")
    what = call.what or call.label
    common: dict[str, Any] = dict(status=status, endpoint=endpoint, trace_id=trace_id, server_message=server)
    said = f": {server}" if server else ""
    if status in (401, 403):
        reason = "was rejected" if status == 401 else "lacks permission for this"
        return AuthenticationError(f"The API token {reason} by {where} ({status}{said}); {LOGIN_HINT}.", **common)
    if status == 404 or (status == 400 and "record not found" in (server or "").lower()):
        detail = "" if "record not found" in (server or "").lower() else said
        return NotFoundError(f"{what[:1].upper() + what[1:]} was not found at {where}{detail}.", **common)
    if status == 409:
        return ConflictError(f"Conflict at {where}{said}; pick another name or update the existing one.",
                             **common)
    if status in (400, 422):
        return ValidationError(f"BentoCloud refused the request ({status}){said}. Fix the input and retry.",
                               **common)
    if status == 429:
        retry_after = _retry_after(response)
        wait = f" in {retry_after:g} s" if retry_after is not None else " in a moment"
        return RateLimitError(f"Too many requests to {where}; try again{wait}.", retry_after=retry_after,
                              **common)
    if status >= 500:
        trace = f" Trace id {trace_id}: quote it when reporting the problem." if trace_id else ""
        return ServerError(f"BentoCloud at {endpoint} failed with {status}{said}. Try again later.{trace}",
                           **common)
    return APIError(f"Unexpected answer {status} from {where} to {call.label}{said}.", **common)


def _server_message(response: httpx.Response) -> str:
    try:
        text = response.text
    except Exception:  # undecodable bytes: no message rather than a crash
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "msg"):
            if isinstance(body.get(key), str) and body[key].strip():
                text = body[key]
                break
    text = " ".join(text.split())
    if len(text) > _MAX_SERVER_TEXT:
        text = text[:_MAX_SERVER_TEXT] + "..."
    return redact(text)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        return max(parsedate_to_datetime(value).timestamp() - time(), 0.0)
    except (TypeError, ValueError):
        return None


def transport_error(exc: httpx.HTTPError, call: Call[Any], endpoint: str, timeout: float) -> TransportError:
    """Map an httpx failure without an answer to :class:`ConnectError` or :class:`RequestTimeout`."""
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(
            f"BentoCloud at {endpoint} did not answer {call.label} within {timeout:g} s; check your network or "
            "raise the timeout.", endpoint=endpoint, before_send=isinstance(exc, httpx.ConnectTimeout))
    detail = redact(str(exc)) or type(exc).__name__
    if isinstance(exc, httpx.ConnectError):
        return ConnectError(f"Cannot connect to {endpoint} ({detail}); check the URL, your network and "
                            "that the service is up.", endpoint=endpoint, before_send=True)
    return ConnectError(f"The connection to {endpoint} broke during {call.label} ({detail}); try again.",
                        endpoint=endpoint)
