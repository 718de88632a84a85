"""``configure``: the Python twin of ``%config BentoCloudMagics.timeout = ...``."""

from __future__ import annotations

import math

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.results import Message

__all__ = ["configure"]


def configure(timeout: float | None = None, poll_interval: float | None = None) -> Message:
    """Set the HTTP timeout of every request and the steady poll interval of live watches (seconds).

    Raises:
        InvalidInputError: a value that is not a finite, positive number.
    """
    for key, value in (("timeout", timeout), ("poll_interval", poll_interval)):
        if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
            raise InvalidInputError(f"{key} must be a positive number of seconds, not {value!r}")
    if poll_interval is not None:
        session.settings.poll_interval = float(poll_interval)
    if timeout is not None and session.settings.timeout != timeout:
        session.settings.timeout = float(timeout)
        session.close_all()  # new clients pick up the new timeout
    return Message(f"timeout {session.settings.timeout:g} s, poll interval {session.settings.poll_interval:g} s.")
