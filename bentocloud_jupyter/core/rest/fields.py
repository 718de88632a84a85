"""Single values of a server's JSON, checked before a model keeps them, so odd answers never crash a display.

A value of the wrong type or out of range becomes None (or the field's empty default), so the record
stays usable; only an identity a record cannot do without (a name) fails, with ``KeyError``,
``TypeError`` or ``ValueError``, which the client turns into one :class:`~.errors.ProtocolError` line.
Every datetime handed out is in UTC, so formatting or sorting it can never overflow.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

__all__ = ["MAX_COUNT", "MAX_SIZE", "count", "flag", "labels", "name", "obj", "optional_text", "seq", "text",
           "texts", "when"]

MAX_COUNT = 2**31 - 1
"""Upper bound of a replica count or page number a server may give (above it the value is dropped)."""
MAX_SIZE = 2**63 - 1
"""Upper bound of a byte size (an int64, what BentoCloud stores)."""
MAX_NAME = 1024
"""Longer names are no BentoCloud names (tags stop at a few hundred characters)."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # C0/C1 controls but tab and newline (ANSI escapes...)
_DIGITS = re.compile(r"\s*\+?\d{1,19}\s*")
_TRUE_WORDS = frozenset({"true", "yes", "1", "on"})


def obj(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a JSON object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def seq(value: Any) -> list[Any]:
    """``value`` when it is a JSON array, else an empty one (a string is no list of its characters)."""
    return list(value) if isinstance(value, (list, tuple)) else []


def text(value: Any, default: str = "") -> str:
    """A string for display: text and finite numbers as text, anything else ``default``; control characters go."""
    if isinstance(value, bool) or value is None:
        return default
    if isinstance(value, float) and not math.isfinite(value):
        return default
    if isinstance(value, int) and abs(value) > MAX_SIZE:
        return default  # str() of a huge int is slow, and refused past 4300 digits
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return default


def optional_text(value: Any) -> str | None:
    """:func:`text`, or None when there is none."""
    return text(value) or None


def texts(value: Any) -> tuple[str, ...]:
    """A JSON array of strings as a tuple; other items are skipped."""
    return tuple(t for t in (text(item) for item in seq(value) if isinstance(item, str)) if t)


def name(value: Any, what: str = "name") -> str:
    """A record's identity: non-empty text of sane length.

    Raises:
        TypeError: not text. ValueError: empty or absurdly long.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"{what} is not text")
    shown = text(value)
    if not shown.strip() or len(shown) > MAX_NAME or shown != str(value) or "\n" in shown or "\t" in shown:
        raise ValueError(f"{what} is empty, too long or holds control characters")
    return shown


def count(value: Any, upper: int = MAX_COUNT) -> int | None:
    """A whole number in ``0..upper`` (an int, an integral float or a digit string), else None."""
    if isinstance(value, bool):
        return None
    digits = isinstance(value, str) and _DIGITS.fullmatch(value) is not None
    whole = isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) <= MAX_SIZE
    if digits or whole:
        value = int(value)
    if isinstance(value, int) and 0 <= value <= upper:
        return value
    return None


def flag(value: Any) -> bool | None:
    """A JSON boolean (or the words true/false); None for anything else, since ``bool("false")`` is True."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_WORDS | {"false", "no", "0", "off"}:
        return value.strip().lower() in _TRUE_WORDS
    return None


def labels(value: Any) -> dict[str, str]:
    """``[{"key": k, "value": v}, ...]`` (or a plain object) as a dict; items without a text key are skipped."""
    pairs = obj(value).items() if isinstance(value, Mapping) else (
        (obj(item).get("key"), obj(item).get("value")) for item in seq(value))
    return {key: text(val) for key, val in ((text(k), v) for k, v in pairs) if key}


def when(value: Any) -> datetime | None:
    """ISO-8601 as BentoCloud sends it (``Z``, offsets, up to 9 fractional digits), in UTC; None when absent or odd.

    Years 1 and 9999 with an offset do not fit once moved to UTC: they become None rather than an
    ``OverflowError`` in every later format or sort.
    """
    if isinstance(value, datetime):
        parsed: datetime | None = value
    elif isinstance(value, str) and 0 < len(value) <= 64:
        parsed = _iso(value)
    else:
        return None
    if parsed is None:
        return None
    try:
        aware = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
        return aware.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return None


def _iso(value: str) -> datetime | None:
    text_ = value.strip().replace(" ", "T", 1)
    if text_.endswith(("Z", "z")):
        text_ = text_[:-1] + "+00:00"
    if "." in text_:  # Python < 3.11 accepts at most 6 fractional digits
        head, _, rest = text_.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text_ = f"{head}.{rest[:min(digits, 6)]:0<6}{rest[digits:]}"
    try:
        return datetime.fromisoformat(text_)
    except (ValueError, OverflowError):
        return None
