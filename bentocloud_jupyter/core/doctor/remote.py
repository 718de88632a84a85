"""What BentoCloud answers: the endpoint's scheme, reachability and latency, who the token is, and the clock.

One authenticated GET (the current user) says whether the endpoint is reachable and the token accepted;
the organisation and the API-token listing add what the server knows about the token (never the token);
every answer's ``Date`` header gives the clock skew.
"""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.doctor.probe import Probe, Stamp
from bentocloud_jupyter.core.doctor.report import Check, fail, failed, ok, reason, safely, todo_for, warn
from bentocloud_jupyter.core.errors import RequestTimeout
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest import endpoints, org_endpoints
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT
from bentocloud_jupyter.core.rest.http import is_loopback
from bentocloud_jupyter.core.rest.models import User
from bentocloud_jupyter.core.rest.org_models import ApiTokenDetails

__all__ = ["MAX_SKEW", "SLOW", "SOON", "clock_check", "endpoint_check", "remote_checks", "skew_of", "span",
           "utc_minute"]

MAX_SKEW = 30.0
"""Seconds of clock difference with the server above which the doctor warns (expiry and TTLs drift)."""
SLOW = 2.0
"""Seconds one GET may take before the doctor calls the endpoint slow."""
SOON = 7 * 24 * 3600.0
"""A token expiring within this many seconds is a warning."""


def endpoint_check(ctx: Context) -> Check:
    """https, or plain http kept on this machine; plain http to another host sends the token in clear."""
    try:
        parts = urlsplit(ctx.endpoint)
        host = parts.hostname or ""
    except ValueError:
        return fail("endpoint", f"{ctx.endpoint!r} is not a valid URL", hint=Hint("login", why="with a valid URL"))
    if parts.scheme == "https":
        return ok("endpoint", f"{ctx.endpoint} (https)")
    if parts.scheme == "http" and is_loopback(host):
        return ok("endpoint", f"{ctx.endpoint} (plain http on this machine: the token stays local)")
    if parts.scheme == "http":
        found = f"{ctx.endpoint}: plain http to {host} sends the token unencrypted"
        if ctx.allows_insecure_http:
            return warn("endpoint", found + " (allowed for this context)", "log in again with an https endpoint")
        return fail("endpoint", found + "; refused", "log in again with an https endpoint")
    return fail("endpoint", f"{ctx.endpoint!r} is not an http(s) URL", "log in again with an https endpoint")


def remote_checks(ctx: Context, timeout: float) -> list[Check]:
    """Reachability, identity, token expiry and clock, over one connection; each failure is its own line."""
    try:
        probe = Probe(ctx, timeout)
    except Exception as exc:
        return [failed("reachable", exc)]
    with probe:
        reach, user = _reachable(probe)
        checks = [reach]
        if user is not None:
            checks += safely("identity", lambda: _identity(probe, user))
            checks += safely("token expiry", lambda: _expiry(probe, user))
        checks += safely("clock", lambda: clock_check(probe.stamps))
    return checks


def _reachable(probe: Probe) -> tuple[Check, User | None]:
    call = endpoints.current_user()
    try:
        user, latency = probe.get(call)
    except RequestTimeout as exc:
        more = min(2 * probe.timeout, MAX_REQUEST_TIMEOUT)  # never a value the verb would refuse
        return fail("reachable", exc.message, hint=Hint("doctor", {"timeout": more}, why="to allow more time")), None
    except Exception as exc:
        return failed("reachable", exc), None
    found = f"{probe.endpoint} answered {call.label} in {latency * 1000:.0f} ms"
    if latency > SLOW:
        return warn("reachable", found + " (slow)", "check your network or proxy; commands will feel slow"), user
    return ok("reachable", found), user


def _identity(probe: Probe, user: User) -> Check:
    who = f"{user.display_name} <{user.email}>" if user.email else user.display_name
    try:
        organization = probe.get(endpoints.current_organization())[0].name
    except Exception as exc:
        return warn("identity", f"user {who}; organization unknown ({reason(exc)})", todo_for(exc))
    return ok("identity", f"user {who}, organization {organization}")


def _expiry(probe: Probe, user: User) -> Check:
    """The server's word on this token's expiry: the user's most recently used token in the listing."""
    try:
        page = probe.get(org_endpoints.list_api_tokens(count=100))[0]
    except Exception as exc:
        return ok("token expiry", f"unknown: the token list is not readable with this token ({reason(exc)})")
    mine = [t for t in page.items if t.created_by in ("", user.name) and t.last_used_at is not None]
    if not mine:
        return ok("token expiry", "unknown: BentoCloud does not say which listed token is this one")
    token = max(mine, key=lambda t: t.last_used_at or datetime.min.replace(tzinfo=timezone.utc))
    return _expiry_line(token)


def _expiry_line(token: ApiTokenDetails) -> Check:
    label = f"token {token.name!r} (the one last used)"
    relogin = Hint("login", why="with a new token")
    if token.expired_at is None:
        return ok("token expiry", f"{label} never expires")
    left = token.expired_at.timestamp() - time.time()
    when = utc_minute(token.expired_at)
    if token.is_expired or left <= 0:
        return fail("token expiry", f"{label} expired at {when}", "create a new API token", relogin)
    if left < SOON:
        return warn("token expiry", f"{label} expires at {when} (in {left / 86400:.1f} days)",
                    "create a new API token before then", relogin)
    return ok("token expiry", f"{label} expires at {when}")


def utc_minute(when: datetime) -> str:
    """``YYYY-MM-DD HH:MM UTC`` for any year (``strftime("%Y")`` writes year 1 as ``1``)."""
    try:
        at = when.astimezone(timezone.utc) if when.tzinfo is not None else when
    except (OverflowError, ValueError):  # year 1 east of UTC: shown as the server wrote it
        at = when
    return f"{at.year:04d}-{at.month:02d}-{at.day:02d} {at.hour:02d}:{at.minute:02d} UTC"


def span(seconds: float) -> str:
    """A duration a person reads at a glance: seconds, minutes, hours or days."""
    for unit, size in (("days", 86400.0), ("h", 3600.0), ("min", 60.0)):
        if seconds >= 2 * size:
            return f"{seconds / size:,.0f} {unit}" if unit == "days" else f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} s"


def skew_of(stamp: Stamp) -> float | None:
    """Server clock minus ours, in seconds; None for a missing or garbled ``Date``."""
    if not stamp.date:
        return None
    try:
        server = parsedate_to_datetime(stamp.date)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if server.tzinfo is None:
        return None  # "-0000" or no zone: not a time we can compare
    try:
        skew = server.timestamp() - stamp.local
    except (OverflowError, ValueError, OSError):
        return None
    return skew if math.isfinite(skew) else None


def clock_check(stamps: list[Stamp]) -> Check:
    """Clock skew from the first answer with a usable ``Date`` (HTTP dates have one-second resolution)."""
    skews = [skew for skew in map(skew_of, stamps) if skew is not None]
    if not skews:
        why = "no answer came" if not stamps else "the server sent no usable Date header"
        return warn("clock", f"skew unknown: {why}", "if tokens or TTLs seem to expire early or late, check that "
                    "this machine's clock is synchronised (NTP)")
    skew = skews[0]
    side = "behind" if skew > 0 else "ahead of"
    if abs(skew) > MAX_SKEW:
        return warn("clock", f"this machine's clock is {span(abs(skew))} {side} the server's",
                    "synchronise the clock (NTP): expiry times and TTLs are off by as much")
    return ok("clock", f"within {max(abs(skew), 1.0):.0f} s of the server's")
