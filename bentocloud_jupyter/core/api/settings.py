"""``configure``: the Python twin of ``%config BentoCloudMagics.timeout = ...``."""

from __future__ import annotations

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.client import DEFAULT_TIMEOUT
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, check_duration
from bentocloud_jupyter.core.results import Message

__all__ = ["MAX_POLL_INTERVAL", "configure"]

MAX_POLL_INTERVAL = 3600.0
"""The longest steady pause between two polls of a live watch (an hour)."""
_DEFAULTS = {"timeout": DEFAULT_TIMEOUT, "poll_interval": 5.0}


def configure(timeout: float | None = None, poll_interval: float | None = None) -> Message:
    """Set the HTTP timeout of every request and the steady poll interval of live watches (seconds).

    Raises:
        InvalidInputError: a value that is not a number of seconds above 0 (at most an hour); nothing changes,
            and the hint says how to set the default back (a refused ``%config`` trait stays set until then).
    """
    checked: dict[str, float] = {}
    for key, value, maximum in (("timeout", timeout, MAX_REQUEST_TIMEOUT),
                                ("poll_interval", poll_interval, MAX_POLL_INTERVAL)):
        if value is None:
            continue
        try:
            checked[key] = check_duration(value, key, maximum=maximum)
        except InvalidInputError as refused:
            raise InvalidInputError(refused.message, hint=Hint("configure", {key: _DEFAULTS[key]},
                                                               why="to set the default back")) from None
    if "poll_interval" in checked:
        session.settings.poll_interval = checked["poll_interval"]
    if "timeout" in checked and session.settings.timeout != checked["timeout"]:
        session.settings.timeout = checked["timeout"]
        session.close_all()  # new clients pick up the new timeout
    return Message(f"timeout {session.settings.timeout:g} s, poll interval {session.settings.poll_interval:g} s.")
