"""BentoCloud's log websocket messages as plain code (no sockets): parsing, line decoding, and a tail's state.

A pods lookup answers one JSON message; a log tail streams base64 chunks of UTF-8 text until ``EOF`` and
expects a heartbeat every 5 s. :class:`LogTail` (what to send, which lines each message holds, when the log
ended) and :class:`QuietClock` (when a blocking read stops) are driven by :mod:`.protocol`'s async and
blocking readers, which only move messages.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import json
import re
import uuid
from collections.abc import Mapping
from typing import Any

from bentocloud_jupyter.core.errors import APIError, AuthenticationError, ProtocolError
from bentocloud_jupyter.core.logs.pods import Pod
from bentocloud_jupyter.core.rest.errors_map import LOGIN

__all__ = ["HEARTBEAT", "HEARTBEAT_INTERVAL", "MAX_LINE", "MAX_PARTIAL", "LineDecoder", "LogTail", "QuietClock",
           "clip_line", "log_chunks", "parse_pods"]

HEARTBEAT_INTERVAL = 5.0
HEARTBEAT = json.dumps({"type": "heartbeat"})
MAX_LINE = 2000          # characters kept of one line
MAX_PARTIAL = 64 * 1024  # a "line" without newline longer than this is emitted as it is


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
            raise AuthenticationError(f"{where} rejected the API token: {said}", server_message=said, hint=LOGIN)
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


class LogTail:
    """One container's log tail: the request to send first, the lines of each message, ``None`` once ended."""

    def __init__(self, where: str, container: str, follow: bool, tail_lines: int) -> None:
        self.where = where
        self.request = json.dumps({"type": "data", "payload": {
            "id": str(uuid.uuid4()), "container_name": container, "follow": follow, "tail_lines": tail_lines}})
        self._decoder = LineDecoder()

    def take(self, raw: str | bytes) -> list[str] | None:
        """The whole lines one message completes; None at ``EOF``. Raises: as :func:`log_chunks`."""
        chunks = log_chunks(raw, self.where)
        if chunks is None:
            return None
        return [line for chunk in chunks for line in self._decoder.feed(chunk)]

    def finish(self) -> list[str]:
        """What is left once the log ends (a last line without newline)."""
        return self._decoder.flush()


class QuietClock:
    """When a blocking read of a log stops: ``timeout`` after it began or ``idle`` seconds after the last
    message; and when the next heartbeat is due. Times are ``time.monotonic()`` readings."""

    def __init__(self, now: float, timeout: float, idle: float) -> None:
        self.end, self.idle, self.last, self.beat = now + timeout, idle, now, now

    def beat_due(self, now: float) -> bool:
        if now < self.beat:
            return False
        self.beat = now + HEARTBEAT_INTERVAL
        return True

    def wait(self, now: float) -> float | None:
        """Seconds to wait for the next message, or None: time to stop."""
        stop = min(self.end, self.last + self.idle)
        return None if now >= stop else max(min(stop, self.beat) - now, 0.01)

    def heard(self, now: float) -> None:
        self.last = now
