"""TTLs: ``--ttl 30m`` becomes an expires-at label and a timer on the kernel's loop that terminates it.

Why a label and a timer: the timer stops the deployment while this kernel lives; the label lets any later
kernel see that a deployment outlived its TTL (its kernel died) and say how to stop it. Label values come
from the server and are hostile: :func:`parse_expires` reads only the exact format we write.
"""

from __future__ import annotations

import asyncio
import calendar
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.guardrails import ledger
from bentocloud_jupyter.core.rest.durations import MAX_WATCH_TIMEOUT, check_duration

__all__ = ["MAX_TTL", "STOPPED", "WARN_BEFORE", "Timer", "cancel_all", "cancel_expiry", "expires_in", "expiry_of",
           "label_value", "listen", "notices", "overdue", "parse_expires", "parse_ttl", "resume", "schedule_expiry",
           "stop_command", "suspend", "suspended", "timers", "ttl_note"]

MAX_TTL = MAX_WATCH_TIMEOUT
"""The longest TTL (a week): the bound every watch has."""
WARN_BEFORE = 300.0
"""How long before the expiry the warning shows (five minutes)."""
STOPPED = frozenset({"terminated", "terminating", "deleted", "deleting"})
"""Statuses of a deployment that no longer runs (and bills)."""

_TTL = re.compile(r"([0-9]{1,9})([smhd])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_SHOWABLE = re.compile(r"[ 0-9a-zA-Z.+-]{0,12}")
_EXPIRES = re.compile(r"[0-9]{8}T[0-9]{6}Z")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_FORMAT = "%Y%m%dT%H%M%SZ"


def parse_ttl(value: str | float | None, where: str = "--ttl") -> float | None:
    """``90s``, ``30m``, ``2h``, ``1d`` (or a number of seconds from Python) as seconds; None when not given.

    Raises:
        InvalidInputError: anything else, zero, negative, NaN, or longer than :data:`MAX_TTL`.
    """
    if value is None or value == "":
        return None
    if isinstance(value, str):
        text = value.strip().lower()
        match = _TTL.fullmatch(text)
        if match is None:
            shown = repr(value) if _SHOWABLE.fullmatch(value) else "value"  # never echo what may be a token
            sign = " (a TTL cannot be negative)" if text.startswith("-") else ""
            raise InvalidInputError(f"{where} {shown} is not a duration{sign}: use a whole number and a unit, "
                                    "like 90s, 30m, 2h or 1d; nothing was sent")
        seconds: Any = int(match.group(1)) * _UNITS[match.group(2)]
    else:
        seconds = value
    try:
        return check_duration(seconds, where, maximum=MAX_TTL)
    except InvalidInputError:
        raise InvalidInputError(f"{where} must be above 0 and at most {int(MAX_TTL // 86400)}d (a week); "
                                "nothing was sent") from None


def label_value(expires_at: float) -> str:
    """The expires-at label value we write (UTC, to the second)."""
    return time.strftime(_FORMAT, time.gmtime(expires_at))


def parse_expires(value: object) -> float | None:
    """An expires-at label value back as epoch seconds; None for anything but our exact format."""
    if not isinstance(value, str) or _EXPIRES.fullmatch(value) is None:
        return None
    try:
        return float(calendar.timegm(time.strptime(value, _FORMAT)))
    except (ValueError, OverflowError):
        return None


def expiry_of(labels: Mapping[str, str] | None) -> float | None:
    """The expiry a deployment's labels carry, if they carry one we can read."""
    if not isinstance(labels, Mapping):
        return None
    return parse_expires(labels.get(ledger.EXPIRES_KEY))


def overdue(status: str, labels: Mapping[str, str] | None, now: float | None = None) -> float | None:
    """The passed expiry of a deployment that still runs, else None."""
    expires = expiry_of(labels)
    if expires is None or status in STOPPED or expires > (time.time() if now is None else now):
        return None
    return expires


def _when(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))


def stop_command(name: str, cluster: str | None = None) -> str:
    """The magic that terminates ``name``; a name or cluster (from the server: hostile) that a command line
    would read as more than one word, or as a flag (``x --context prod``), is never put in one."""
    if not _WORD.fullmatch(name) or (cluster and not _WORD.fullmatch(cluster)):
        return "the BentoCloud console (its name or cluster is not one a command can carry)"
    return f"%bentocloud terminate {name}" + (f" --cluster {cluster}" if cluster else "")


def ttl_note(name: str, status: str, labels: Mapping[str, str] | None, now: float | None = None,
             cluster: str | None = None) -> str:
    """What a status card says about the TTL: a warning just before, a notice after, a flag when overdue."""
    expires = expiry_of(labels)
    if expires is None:
        return ""
    now = time.time() if now is None else now
    if status in STOPPED and expires > now:  # stopped before its time: nothing left for the TTL to do
        return ""
    if expires > now + WARN_BEFORE:  # whether a timer runs is the verb's note (none in a plain script)
        return f"TTL: expires at {_when(expires)}."
    if expires > now:
        return (f"TTL warning: {name!r} terminates in {max(1, round((expires - now) / 60))} min "
                f"(at {_when(expires)}).")
    if status in STOPPED:
        return f"TTL expired at {_when(expires)}: {name!r} was terminated."
    return f"TTL expired at {_when(expires)} but {name!r} still runs: stop it with {stop_command(name, cluster)}"


# ------------------------------------------------------------------------------------------------ timers


Stop = Callable[[], Awaitable[object]]


@dataclass
class Timer:
    """One scheduled expiry on the kernel's loop (with what it needs to be armed again after a reload)."""

    context: str
    name: str
    cluster: str
    expires_at: float
    handles: list[asyncio.TimerHandle] = field(default_factory=list)
    resolved: Any = field(default=None, repr=False, compare=False)
    stop: Stop | None = field(default=None, repr=False, compare=False)
    loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False, compare=False)


_timers: dict[tuple[str, str, str], Timer] = {}
_suspended: dict[tuple[str, str, str], Timer] = {}
_running: set[asyncio.Task[None]] = set()  # a task the loop holds only weakly could vanish mid-terminate
_notices: list[str] = []
_listeners: dict[str, list[tuple[Callable[[str], None], str | None, str | None]]] = {}


def timers() -> list[Timer]:
    """The expiries that will fire in this kernel (a timer whose loop has closed never fires: dropped)."""
    for key in [k for k, t in _timers.items() if t.loop is not None and t.loop.is_closed()]:
        del _timers[key]
    return list(_timers.values())


def suspended() -> list[Timer]:
    """The expiries stopped by :func:`suspend` (``%unload_ext``), armed again by :func:`resume`."""
    return list(_suspended.values())


def notices() -> list[str]:
    """The warnings and notices the timers have given, oldest first."""
    return list(_notices)


def listen(name: str, callback: Callable[[str], None], *, context: str | None = None,
           cluster: str | None = None) -> Callable[[], None]:
    """Call ``callback(text)`` with each warning or notice about ``name`` (a status card shows them), only
    ``context``'s and ``cluster``'s when given (a same-named deployment elsewhere is another one); returns
    the function that stops listening."""
    entry = (callback, context, cluster or None)
    _listeners.setdefault(name, []).append(entry)

    def stop() -> None:
        if entry in _listeners.get(name, []):
            _listeners[name].remove(entry)

    return stop


def _notify(timer: Timer, text: str) -> None:
    """Keep the notice, print it (to the output of the cell that ran last: the kernel has no other), and
    hand it to the cards that listen for this deployment; a broken card never breaks the timer."""
    _notices.append(text)
    print(text, file=sys.stderr)
    for callback, context, cluster in list(_listeners.get(timer.name, [])):
        if context not in (None, timer.context) or cluster not in (None, timer.cluster or None):
            continue
        try:
            callback(text)
        except Exception as exc:  # a display's failure must not stop the expiry
            _notices.append(f"(a status card could not show it: {type(exc).__name__})")


def cancel_expiry(context: str, name: str, cluster: str | None) -> None:
    """Forget a scheduled (or suspended) expiry: terminated, deleted, or rescheduled; any cluster when None."""
    for table in (_timers, _suspended):
        for key in [k for k in table if k[0] == context and k[2] == name and cluster in (None, k[1])]:
            for handle in table.pop(key).handles:
                handle.cancel()


def cancel_all() -> None:
    """Forget every expiry, scheduled or suspended."""
    for timer in [*_timers.values(), *_suspended.values()]:
        cancel_expiry(timer.context, timer.name, timer.cluster)


def suspend() -> list[Timer]:
    """Stop every timer (``%unload_ext`` stops all background work) and keep it, to be armed again by
    :func:`resume` (``%load_ext``, and so ``%reload_ext``): a timer never fires twice or after unload."""
    timers()  # a timer whose loop has closed is dropped, never armed again
    for key, timer in list(_timers.items()):
        for handle in timer.handles:
            handle.cancel()
        _suspended[key] = Timer(timer.context, timer.name, timer.cluster, timer.expires_at, [], timer.resolved,
                                timer.stop)
        del _timers[key]
    return suspended()


def resume() -> int:
    """Arm the suspended timers on the running loop (one whose expiry passed meanwhile fires at once);
    without a running loop they stay suspended. Returns how many were armed."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return 0
    armed = 0
    for key, timer in list(_suspended.items()):
        del _suspended[key]
        armed += schedule_expiry(timer.resolved, timer.name, timer.cluster, timer.expires_at, stop=timer.stop)
    return armed


def expires_in(ttl: str | float | None, where: str = "--ttl") -> float | None:
    """The epoch second a TTL given now ends at (None without one); checked before anything is sent."""
    seconds = parse_ttl(ttl, where)
    return None if seconds is None else time.time() + seconds


def schedule_expiry(resolved: Any, name: str, cluster: str, expires_at: float, *,
                    stop: Stop | None = None) -> bool:
    """Terminate ``name`` at ``expires_at`` (epoch seconds), with a warning :data:`WARN_BEFORE` earlier.

    ``resolved`` is the :class:`ResolvedContext` the deployment lives in; ``stop`` replaces the terminate
    (a codespace passes its own). Returns False, scheduling nothing, when no asyncio loop runs (a plain
    script): the label is set and no timer runs. Never blocks and starts no thread.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return False
    context = resolved.context.name
    cancel_expiry(context, name, cluster)
    timer = Timer(context, name, cluster, expires_at, [], resolved, stop, loop)
    delay = max(0.0, expires_at - time.time())
    if delay > WARN_BEFORE:
        warning = f"TTL warning: {name!r} terminates in {int(WARN_BEFORE // 60)} min (at {_when(expires_at)})."
        timer.handles.append(loop.call_later(delay - WARN_BEFORE, _notify, timer, warning))
    timer.handles.append(loop.call_later(delay, _fire, timer))
    _timers[(context, cluster, name)] = timer
    return True


def _fire(timer: Timer) -> None:
    if _timers.get((timer.context, timer.cluster, timer.name)) is not timer:
        return  # cancelled or replaced after this callback was due: never fire twice
    del _timers[(timer.context, timer.cluster, timer.name)]
    task = asyncio.get_running_loop().create_task(_expire(timer))
    _running.add(task)
    task.add_done_callback(_running.discard)


async def _expire(timer: Timer) -> None:
    """Terminate at the expiry; a failure is a notice that says what to run, never an exception."""
    try:
        if timer.stop is not None:
            await timer.stop()
        else:
            from bentocloud_jupyter.core.rest.session import async_client_for

            await async_client_for(timer.resolved).terminate_deployment(timer.name, timer.cluster)
    except NotFoundError:
        ledger.forget_name(timer.context, timer.name, timer.cluster)
        _notify(timer, f"TTL of {timer.name!r} expired: it was already gone (deleted elsewhere); nothing to "
                "terminate.")
        return
    except Exception as exc:  # a timer has no cell to raise into: anything is a notice with what to run
        reason = str(exc) if isinstance(exc, BentoCloudError) else type(exc).__name__
        _notify(timer, f"TTL of {timer.name!r} expired but terminating it failed ({reason}); run "
                f"{stop_command(timer.name, timer.cluster or None)}")
        return
    ledger.record(timer.context, timer.name, timer.cluster, action="terminated")
    _notify(timer, f"TTL of {timer.name!r} expired at {_when(timer.expires_at)}: terminated.")
