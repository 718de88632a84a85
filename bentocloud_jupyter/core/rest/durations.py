"""Every duration we wait on, checked once: from the user (timeouts, intervals) and from the server (Retry-After).

Why: ``time.sleep(nan)`` raises, ``inf`` never returns, a negative timeout breaks every later request, and a
server may advise a wait of ``1e308`` seconds. A user's value outside its range is refused with one line; a
server's advice is clamped into a sane range (it is advice, not an order).
"""

from __future__ import annotations

import math
from typing import Any

from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["MAX_REQUEST_TIMEOUT", "MAX_RETRY_AFTER", "MAX_WATCH_TIMEOUT", "check_duration", "clamp_delay"]

MAX_REQUEST_TIMEOUT = 3600.0
"""The longest HTTP timeout of one request (an hour)."""
MAX_WATCH_TIMEOUT = 7 * 24 * 3600.0
"""The longest watch or ``--wait`` (a week)."""
MAX_RETRY_AFTER = 300.0
"""The longest wait a server's ``Retry-After`` may ask of us (five minutes)."""


def check_duration(value: Any, name: str = "timeout", *, maximum: float = MAX_WATCH_TIMEOUT) -> float:
    """``value`` as seconds: a finite number above 0 and at most ``maximum``.

    Raises:
        InvalidInputError: NaN, infinite, zero or negative, too large, or not a number (booleans included).
    """
    seconds = math.nan
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = float(value)
        except OverflowError:  # an int too large for a float
            seconds = math.inf
    if not 0 < seconds <= maximum:  # NaN fails every comparison
        shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:40] + "..."
        raise InvalidInputError(f"{name} must be a number of seconds above 0 and at most {maximum:g}, "
                                f"not {shown}")
    return seconds


def clamp_delay(value: float | None, maximum: float = MAX_RETRY_AFTER) -> float | None:
    """A server's advised wait, clamped into ``[0, maximum]``; None when it is no number at all (NaN)."""
    if value is None or math.isnan(value):
        return None
    return min(max(value, 0.0), maximum)
