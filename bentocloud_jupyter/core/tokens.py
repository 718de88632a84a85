"""API tokens that cannot leak by accident.

A :class:`Token` wraps the secret string so that ``repr()``, ``str()``, f-strings, logging and
tracebacks only ever show its last four characters. The raw value is reached deliberately through
:meth:`Token.reveal`, called only where the secret must leave or be compared: the headers we send (REST,
websockets, calls with access authorization), the YAML we write, a hash keying the shared clients, and
:func:`redact` itself. :func:`redact` scrubs known token values out of any text we build from server answers or
exceptions before that text reaches a user. The first token made in a process also turns on the scrubbing
of every log record (:mod:`.logguard`), since the libraries under us log the headers they send.
"""

from __future__ import annotations

import hmac
import re
import threading
from collections.abc import Iterable

__all__ = ["Token", "mask", "redact", "register_secret", "sendable_token"]

_VISIBLE = 4
_MIN_REGISTERED = 6

_known_lock = threading.Lock()
_known_secrets: set[str] = set()


def mask(value: str) -> str:
    """Return ``value`` reduced to ``****`` plus at most its last four characters."""
    if len(value) <= _VISIBLE * 2:
        return "****"
    return "****" + value[-_VISIBLE:]


def register_secret(value: str) -> None:
    """Remember ``value`` so that :func:`redact` removes it from every message we build later."""
    if len(value) >= _MIN_REGISTERED:
        with _known_lock:
            _known_secrets.add(value)


def redact(text: str, secrets: Iterable[str | Token] = ()) -> str:
    """Replace every known token (and the given ``secrets``) in ``text`` by its masked form.

    Used on every message that embeds text we did not write ourselves: server bodies, exception
    strings, URLs.
    """
    with _known_lock:
        values = set(_known_secrets)
    for item in secrets:
        raw = item.reveal() if isinstance(item, Token) else item
        if len(raw) >= _MIN_REGISTERED:
            values.add(raw)
    for raw in sorted(values, key=len, reverse=True):
        if raw in text:
            text = text.replace(raw, mask(raw))
    # Header echoes such as "X-YATAI-API-TOKEN: abc..." are scrubbed even for tokens we never saw (once: a
    # masked value stays as it is, so that redacting twice gives the same text).
    return _HEADER_ECHO.sub(lambda m: m.group(0) if m.group(2).startswith("****") else m.group(1) + mask(m.group(2)),
                            text)


_HEADER_ECHO = re.compile(r"((?:x-yatai-api-token|authorization)[\"']?\s*[:=]\s*[\"']?(?:bearer\s+)?)([^\s\"',}]+)",
                          re.IGNORECASE)


_SENDABLE = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces: what an HTTP header can carry


def sendable_token(value: str | Token) -> Token:
    """``value`` as a :class:`Token`, once it is something an HTTP header can carry.

    A token with a space, a control character or a non-ASCII letter (a bad paste) would fail deep inside
    the HTTP library, with a traceback whose frames hold the secret; it is refused here, without echoing it.

    Raises:
        InvalidInputError: empty, or characters no API token has.
    """
    from bentocloud_jupyter.core.errors import InvalidInputError

    token = Token(value)
    if not token:
        raise InvalidInputError("The API token is empty; nothing was sent.")
    if not _SENDABLE.fullmatch(token.reveal()):
        raise InvalidInputError("The API token has characters no token has (spaces, control characters or non-ASCII "
                                "letters); copy it again from the API Tokens page. Nothing was sent.")
    return token


class Token:
    """An API token whose printable forms are masked.

    Equality compares the secret in constant time; the hash is that of the secret so tokens work
    as dictionary keys without exposing it.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str | Token) -> None:
        raw = value.reveal() if isinstance(value, Token) else value
        if not isinstance(raw, str):
            raise TypeError("a token must be a string")
        self._value = raw
        register_secret(raw)
        from bentocloud_jupyter.core import logguard

        logguard.install()

    def reveal(self) -> str:
        """Return the secret itself: only for the HTTP header and the credentials file."""
        return self._value

    @property
    def masked(self) -> str:
        """What users may see: ``****`` plus the last four characters."""
        return mask(self._value)

    def __repr__(self) -> str:
        return f"Token({self.masked!r})"

    def __str__(self) -> str:
        return self.masked

    def __format__(self, spec: str) -> str:
        return format(self.masked, spec)

    def __bool__(self) -> bool:
        return bool(self._value)

    def __len__(self) -> int:
        return len(self._value)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Token):
            other = other._value
        if not isinstance(other, str):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        # Pickling keeps the value (multiprocessing needs it); it never reaches a printable form.
        return (Token, (self._value,))
