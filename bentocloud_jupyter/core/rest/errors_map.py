"""One mapping from an error status to the error tree, for REST calls, websockets and calls into deployments.

The class follows from the status alone (:func:`error_class`): a 404 is a :class:`NotFoundError` whoever sent
it. Each surface brings only its wording (:data:`Wording`: message templates keyed by error class, or by a
status for a special case), and a refused token carries the :data:`LOGIN` hint when the token is ours to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from time import time
from typing import TypeAlias

import httpx

from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest.durations import clamp_delay
from bentocloud_jupyter.core.tokens import redact

__all__ = ["LOGIN", "Refusal", "Wording", "api_error", "error_class", "parse_retry_after", "server_message"]

LOGIN = Hint("login", why="to save a valid token")
"""What to do when BentoCloud refuses the context's token."""

MAX_SERVER_TEXT = 300

Wording: TypeAlias = "Mapping[type[APIError] | int, str]"
"""Message templates: a status, else the error's class, else :class:`APIError`. Fields: ``status``, ``said``
(``": <server message>"`` or empty), ``detail`` (``said`` unless it only repeats "record not found"),
``refused`` ("was rejected" / "lacks permission for this"), ``wait`` (" in 7 s"), ``trace``, ``endpoint``, and
the caller's."""


@dataclass(frozen=True)
class Refusal:
    """An error answer, whatever carried it: status, the server's own words (one line, redacted), trace id,
    and its Retry-After advice in seconds."""

    status: int
    server_message: str = ""
    trace_id: str | None = None
    retry_after: float | None = None

    @classmethod
    def of(cls, response: httpx.Response) -> Refusal:
        try:
            text = response.text
        except Exception:  # undecodable bytes: no message rather than a crash
            text = ""
        return cls(response.status_code, server_message(text), response.headers.get("x-trace-id"),
                   parse_retry_after(response.headers.get("retry-after")))


def server_message(text: str) -> str:
    """The server's reason from an error body: its JSON ``message``/``error``/``detail``/``msg``, else the text;
    one line, at most :data:`MAX_SERVER_TEXT` characters, tokens masked."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested past the interpreter's limit
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "msg"):
            if isinstance(body.get(key), str) and body[key].strip():
                text = body[key]
                break
    text = " ".join(text.split())
    if len(text) > MAX_SERVER_TEXT:
        text = text[:MAX_SERVER_TEXT] + "..."
    return redact(text)


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), clamped into ``[0, MAX_RETRY_AFTER]``;
    None when absent or unreadable (``nan`` included)."""
    if not value:
        return None
    try:
        return clamp_delay(float(value))
    except ValueError:
        pass
    try:
        return clamp_delay(parsedate_to_datetime(value).timestamp() - time())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def error_class(status: int, server: str = "", *, legacy_not_found: bool = False) -> type[APIError]:
    """The error for ``status``; ``legacy_not_found``: BentoCloud's REST API also says 400 "record not found"."""
    if status in (401, 403):
        return AuthenticationError
    if status == 404 or (legacy_not_found and status == 400 and "record not found" in server.lower()):
        return NotFoundError
    if status == 409:
        return ConflictError
    if status in (400, 422):
        return ValidationError
    if status == 429:
        return RateLimitError
    return ServerError if status >= 500 else APIError


def api_error(refusal: Refusal, wording: Wording, *, endpoint: str, login_hint: bool = True,
              legacy_not_found: bool = False, classes: Mapping[int, type[APIError]] | None = None,
              **fields: str) -> APIError:
    """The one error for ``refusal``, worded by ``wording`` (formatted with the fields above and ``fields``);
    ``classes`` overrides the class of a status (a storage 403 is no token problem)."""
    server = refusal.server_message
    kind = (classes or {}).get(refusal.status) or error_class(refusal.status, server,
                                                               legacy_not_found=legacy_not_found)
    template = wording.get(refusal.status) or wording.get(kind) or wording[APIError]
    said = f": {server}" if server else ""
    wait = refusal.retry_after
    message = template.format(
        status=refusal.status, said=said, detail="" if "record not found" in server.lower() else said,
        refused="was rejected" if refusal.status == 401 else "lacks permission for this",
        wait=f" in {wait:g} s" if wait is not None else " in a moment",
        trace=f" Trace id {refusal.trace_id}: quote it when reporting the problem." if refusal.trace_id else "",
        endpoint=endpoint, **fields)
    hint = LOGIN if kind is AuthenticationError and login_hint else None
    error = kind(message, status=refusal.status, endpoint=endpoint, trace_id=refusal.trace_id,
                 server_message=server, hint=hint)
    if isinstance(error, RateLimitError):
        error.retry_after = wait
    return error
