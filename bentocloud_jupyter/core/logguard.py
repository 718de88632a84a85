"""No log record carries a token or a URL signature, whichever logger wrote it.

The libraries under us log what they send: ``websockets.client`` at DEBUG writes every request header
(``> X-YATAI-API-TOKEN: ...``), httpx at INFO writes every URL (a presigned storage URL stays valid for an
hour), uvicorn's access log writes every path of the sandbox. We cannot change what they log, so every
record is scrubbed as it is made: known tokens (:func:`~.tokens.redact`), header echoes, and the secret
parameters of signed URLs. :func:`install` puts in place a record factory (it sees the records of every
logger, before any handler or formatter) and, should another library replace that factory later, a
filter on each logger we know writes secrets. It runs the first time our core holds a token.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from bentocloud_jupyter.core.tokens import redact

__all__ = ["LIBRARY_LOGGERS", "RedactingFilter", "install", "installed", "scrub", "scrub_record"]

# The loggers known to write headers, URLs or request lines (ours write none).
LIBRARY_LOGGERS = (
    "httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy",
    "websockets", "websockets.client", "websockets.server", "filelock", "uvicorn", "uvicorn.error",
    "uvicorn.access", "uvicorn.asgi", "asyncio",
)

# Query parameters that make a URL usable by whoever reads it: S3 (and MinIO), GCS, Azure SAS, CloudFront,
# the sandbox's ``signature``, and any token or credential passed in a query.
_SIGNING_PARAMS = (
    r"x-amz-signature|x-amz-security-token|x-amz-credential|x-goog-signature|x-goog-credential|"
    r"signature|sig|policy|key-pair-id|token|access_token|api_token|api_key|apikey|secret|credential"
)
_SIGNED_QUERY = re.compile(rf"(?i)((?:[?&;]|%3F|%26)(?:{_SIGNING_PARAMS})(?:=|%3D))([^&\s\"'<>#;]+)")
REDACTED = "<redacted>"

_lock = threading.Lock()
_installed = False


def scrub(text: str) -> str:
    """``text`` without known tokens, header echoes, or the secret parameters of signed URLs."""
    return redact(_SIGNED_QUERY.sub(lambda m: m.group(1) + REDACTED, text))


def scrub_record(record: logging.LogRecord) -> None:
    """Rewrite ``record`` in place when its message, traceback or stack holds a secret (else leave it)."""
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not match its format: logging reports it itself
        return
    if scrub(message) != message:
        _scrub_message(record)
    if isinstance(record.exc_info, tuple) and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        clean = scrub(text)
        if clean != text:
            record.exc_text = clean  # formatters use it as is, instead of formatting the exception again
    if record.stack_info:
        record.stack_info = scrub(record.stack_info)


def _scrub_message(record: logging.LogRecord) -> None:
    """Scrub the format and each argument, keeping their shape (uvicorn's access formatter unpacks the
    arguments); if a secret still shows in the message, keep only the scrubbed message."""
    if isinstance(record.msg, str):
        record.msg = scrub(record.msg)
    if isinstance(record.args, tuple):
        record.args = tuple(_scrub_arg(arg) for arg in record.args)
    elif isinstance(record.args, Mapping):
        record.args = {key: _scrub_arg(value) for key, value in record.args.items()}
    try:
        message = record.getMessage()
    except Exception:
        message = ""
    clean = scrub(message)
    if clean != message or not message:
        record.msg, record.args = clean or REDACTED, ()


def _scrub_arg(value: Any) -> Any:
    if value is None or isinstance(value, (int, float)):
        return value  # numbers keep their type for %d and %f
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:
        return REDACTED
    clean = scrub(text)
    return value if clean == text else clean


class RedactingFilter(logging.Filter):
    """A filter that keeps every record, scrubbed (see :func:`scrub_record`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_record(record)
        return True


def _scrubbing(factory: Callable[..., logging.LogRecord]) -> Callable[..., logging.LogRecord]:
    def make(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        scrub_record(record)
        return record

    make.bentocloud_scrubbing = True  # type: ignore[attr-defined]
    return make


def install() -> None:
    """Scrub every log record from now on (idempotent, thread-safe, cheap after the first call)."""
    global _installed
    if _installed:
        return
    with _lock:
        if _installed:
            return
        current = logging.getLogRecordFactory()
        if not getattr(current, "bentocloud_scrubbing", False):
            logging.setLogRecordFactory(_scrubbing(current))
        for name in LIBRARY_LOGGERS:
            logger = logging.getLogger(name)
            if not any(isinstance(f, RedactingFilter) for f in logger.filters):
                logger.addFilter(RedactingFilter())
        _installed = True


def installed() -> bool:
    """Whether :func:`install` ran in this process."""
    return _installed
