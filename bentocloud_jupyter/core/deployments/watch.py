"""Watching deployments settle, as plain asyncio on the caller's event loop (the kernel's, in Jupyter).

* :class:`WatchState` is the pure logic: it records transitions and decides when a watch is over.
  After an update it only accepts "ready" from the *new* revision, never from the old one.
* :class:`WatchHub` polls every deployment watched in one context with one list request per tick (a
  single GET when that is cheaper), never overlaps polls, adapts its interval (fast while something
  changes, slower when steady), backs off on errors honouring ``Retry-After``, reports transient errors
  as warnings and bounds every watch by a timeout. No threads: callbacks run on the loop.
* :func:`wait_for` is the blocking twin for scripts and ``--wait`` (opt-in only).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from bentocloud_jupyter.core.errors import (
    AuthenticationError,
    BentoCloudError,
    DeploymentFailed,
    NotFoundError,
    RateLimitError,
    WatchError,
    WatchTimeout,
)
from bentocloud_jupyter.core.rest.models import FAILED_STATUSES, READY_STATUSES, Deployment

__all__ = ["Goal", "Outcome", "Transition", "WatchHub", "WatchState", "wait_for"]

DEFAULT_TIMEOUT = 3600.0
FAST_INTERVAL = 1.0
SLOW_INTERVAL = 5.0
MAX_ERROR_BACKOFF = 30.0


class Goal(str, enum.Enum):
    READY = "ready"            # after create / update / restart
    TERMINATED = "terminated"  # after terminate
    SETTLED = "settled"        # status display: stop at any final status


class Outcome(str, enum.Enum):
    READY = "ready"
    FAILED = "failed"
    TERMINATED = "terminated"
    DELETED = "deleted"
    TIMEOUT = "timeout"
    CANCELLED = "cancelled"
    ERROR = "error"


@dataclass(frozen=True)
class Transition:
    status: str
    at: datetime
    revision: str = ""


@dataclass(eq=False)
class WatchState:
    """What one watch has seen so far and whether it is over; no I/O."""

    name: str
    goal: Goal = Goal.READY
    previous_revision: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    started: float = field(default_factory=time.monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    deployment: Deployment | None = None
    transitions: list[Transition] = field(default_factory=list)
    outcome: Outcome | None = None
    message: str = ""
    warning: str = ""
    ended: float | None = None

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def status(self) -> str:
        return self.deployment.status if self.deployment else "unknown"

    @property
    def elapsed(self) -> float:
        """Seconds since the watch began, frozen once it is over."""
        return (self.ended if self.ended is not None else time.monotonic()) - self.started

    def observe(self, deployment: Deployment) -> bool:
        """Record a fresh snapshot; True when something visible changed."""
        changed = self.deployment is None or (deployment.status, deployment.revision) != (
            self.deployment.status, self.deployment.revision)
        self.deployment, self.warning = deployment, ""
        if changed:
            self.transitions.append(Transition(deployment.status, datetime.now(timezone.utc), deployment.revision))
        if not self.done:
            self._decide(deployment)
        return changed

    def _decide(self, deployment: Deployment) -> None:
        status = deployment.status
        new_revision = self.previous_revision is None or deployment.revision != self.previous_revision
        if status in FAILED_STATUSES and new_revision:
            self.finish(Outcome.FAILED, f"Deployment {self.name!r} is {status}.")
        elif status == "terminated":
            if self.goal is not Goal.READY or new_revision:
                self.finish(Outcome.TERMINATED, f"Deployment {self.name!r} is terminated.")
        elif status in READY_STATUSES and self.goal is not Goal.TERMINATED and new_revision:
            url = f" at {deployment.url}" if deployment.url else ""
            self.finish(Outcome.READY, f"Deployment {self.name!r} is {status}{url}.")

    def expire(self) -> bool:
        """End the watch with a timeout once its time is up; True if it just expired."""
        if not self.done and self.elapsed >= self.timeout:
            self.finish(Outcome.TIMEOUT, f"Deployment {self.name!r} did not settle within {self.timeout:g} s "
                                         f"(last status: {self.status}); it may still finish: check again with "
                                         f"`%bentocloud status {self.name}`.")
            return True
        return False

    def finish(self, outcome: Outcome, message: str) -> None:
        if not self.done:
            self.outcome, self.message, self.ended = outcome, message, time.monotonic()

    def raise_for_outcome(self) -> Deployment:
        """The deployment when the goal was reached; otherwise the matching :class:`WatchError`."""
        reached = {Goal.READY: Outcome.READY, Goal.TERMINATED: Outcome.TERMINATED}.get(self.goal)
        if self.outcome is Outcome.TIMEOUT:
            raise WatchTimeout(self.message, name=self.name, status=self.status)
        if self.outcome is Outcome.FAILED:
            raise DeploymentFailed(self.message, name=self.name, status=self.status)
        if (reached is not None and self.outcome is not reached) or self.outcome in (Outcome.ERROR,
                                                                                   Outcome.CANCELLED):
            raise WatchError(self.message or f"Watching {self.name!r} ended: {self.outcome}.", name=self.name,
                             status=self.status)
        assert self.deployment is not None
        return self.deployment


def _is_transient(error: BentoCloudError) -> bool:
    """Worth another try later (5xx, 429, network) as opposed to final (bad token, gone, refused)."""
    if isinstance(error, (AuthenticationError, NotFoundError)):
        return False
    return getattr(error, "status", None) not in (400, 409, 422)


# ------------------------------------------------------------------------------------------ blocking


def wait_for(client: Any, state: WatchState, cluster: str | None = None, interval: float = FAST_INTERVAL,
             sleep: Callable[[float], None] = time.sleep) -> Deployment:
    """Poll with the blocking client until ``state`` is over; opt-in only (``--wait``, scripts).

    Raises:
        DeploymentFailed, WatchTimeout, WatchError: the goal was not reached.
    """
    delay = interval
    while not state.done:
        try:
            state.observe(client.get_deployment(state.name, cluster))
            delay = interval
        except NotFoundError:
            state.finish(Outcome.DELETED if state.goal is Goal.TERMINATED else Outcome.ERROR,
                         f"Deployment {state.name!r} no longer exists.")
        except BentoCloudError as error:
            if not _is_transient(error):
                state.finish(Outcome.ERROR, str(error))
                break
            state.warning = str(error)
            delay = min(MAX_ERROR_BACKOFF, max(delay * 2, getattr(error, "retry_after", None) or 0.0))
        if not state.done and not state.expire():
            sleep(delay)
    if state.outcome is Outcome.DELETED:
        assert state.deployment is not None
        return state.deployment
    return state.raise_for_outcome()


# --------------------------------------------------------------------------------------------- async


Listener = Callable[[WatchState], Any]


@dataclass
class _Entry:
    state: WatchState
    cluster: str | None
    listeners: list[Listener]
    done: asyncio.Future[WatchState]


class WatchHub:
    """All watches of one context, refreshed together by a single polling task on the running loop."""

    def __init__(self, client: Any, *, interval: float = SLOW_INTERVAL, fast_interval: float = FAST_INTERVAL,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.interval = interval
        self.fast_interval = min(fast_interval, interval)
        self._sleep = sleep
        self._entries: dict[int, _Entry] = {}  # by id of the WatchState: several watches may share a name
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._known_total = 0
        self.ticks = 0
        self.requests = 0

    @property
    def watching(self) -> list[str]:
        """Names being watched (each polled once per tick, however many watches share it)."""
        return sorted({entry.state.name for entry in self._entries.values()})

    def watch(self, state: WatchState, cluster: str | None = None,
              on_change: Listener | None = None) -> asyncio.Future[WatchState]:
        """Watch ``state.name`` alongside any other watch of it; the future resolves with the final state."""
        loop = asyncio.get_running_loop()
        entry = _Entry(state, cluster, [on_change] if on_change else [], loop.create_future())
        self._entries[id(state)] = entry
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name="bentocloud-watch-hub")
        self._wake.set()
        return entry.done

    def unwatch(self, name: str, state: WatchState | None = None) -> bool:
        """Stop the watches of ``name`` (only ``state``'s, if given); False if there were none."""
        entries = [e for e in self._entries.values() if e.state.name == name and (state is None or e.state is state)]
        for entry in entries:
            entry.state.finish(Outcome.CANCELLED, f"Stopped watching {name!r}.")
            self._end(entry)
        return bool(entries)

    async def close(self) -> None:
        """Cancel every watch and the polling task; leaves no task behind."""
        for name in self.watching:
            self.unwatch(name)
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def close_nowait(self) -> None:
        """Cancel everything from synchronous code (extension unload)."""
        for name in self.watching:
            self.unwatch(name)
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self) -> None:
        delay = self.fast_interval
        while self._entries:
            self._wake.clear()
            try:
                changed = await self._tick()
                delay = self.fast_interval if changed else min(self.interval, delay * 1.5)
            except BentoCloudError as error:
                delay = self._on_error(error, delay)
            for entry in list(self._entries.values()):
                if entry.state.expire() or entry.state.done:
                    self._notify(entry)
                    self._end(entry)
            if not self._entries:
                break
            await self._pause(delay)

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when a new watch arrives (it is polled at once)."""
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (sleeper, waker):
                future.cancel()

    async def _tick(self) -> bool:
        """One poll for every watched deployment; True if any status changed."""
        self.ticks += 1
        entries = list(self._entries.values())
        snapshots = await self._fetch(entries)
        changed = False
        for entry in entries:
            if self._entries.get(id(entry.state)) is not entry:
                continue  # unwatched while the request was in flight
            deployment = snapshots.get(entry.state.name)
            if deployment is None:
                entry.state.finish(Outcome.DELETED, f"Deployment {entry.state.name!r} no longer exists.")
                changed = True
            elif entry.state.observe(deployment):
                changed = True
            self._notify(entry)
        return changed

    async def _fetch(self, entries: list[_Entry]) -> dict[str, Deployment]:
        clusters = {e.cluster for e in entries}
        cluster = clusters.pop() if len(clusters) == 1 else None
        targets = {e.state.name: e.cluster for e in entries}
        pages_needed = max(1, -(-self._known_total // 100))
        if len(targets) == 1 or len(targets) < pages_needed:
            found: dict[str, Deployment] = {}
            for name, target_cluster in targets.items():
                self.requests += 1
                with contextlib.suppress(NotFoundError):  # absent from the result means deleted
                    found[name] = await self.client.get_deployment(name, target_cluster)
            return found
        listing: dict[str, Deployment] = {}
        start = 0
        while True:
            self.requests += 1
            page = await self.client.list_deployments_page(cluster=cluster, all=cluster is None, start=start,
                                                           count=100)
            listing.update({d.name: d for d in page.items})
            start += len(page.items)
            self._known_total = page.total
            if not page.items or start >= page.total:
                return listing

    def _on_error(self, error: BentoCloudError, delay: float) -> float:
        if not _is_transient(error):
            for entry in list(self._entries.values()):
                entry.state.finish(Outcome.ERROR, str(error))
            return delay
        for entry in self._entries.values():
            entry.state.warning = f"{error} (still watching)"
            self._notify(entry)
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        return min(MAX_ERROR_BACKOFF, max(delay * 2, retry_after or 0.0))

    def _notify(self, entry: _Entry) -> None:
        for listener in list(entry.listeners):
            with contextlib.suppress(Exception):  # a broken display must never stop the watch
                listener(entry.state)

    def _end(self, entry: _Entry) -> None:
        if self._entries.get(id(entry.state)) is entry:
            del self._entries[id(entry.state)]
        if not entry.done.done():
            entry.done.set_result(entry.state)
        self._notify(entry)

