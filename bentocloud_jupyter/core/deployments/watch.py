"""Watching deployments settle: a blocking and an asyncio driver around one sans-IO core.

* :mod:`.watch_state` (:class:`WatchState`) decides when one watch is over; after an update it only
  accepts "ready" from the *new* revision, never from the old one.
* :mod:`.watch_engine` decides what to request each tick, folds the answers in and paces the ticks
  (1 s while something changes, easing to 5 s when steady, backoff honouring ``Retry-After``), never past the
  earliest deadline.
* Here only the I/O: :func:`wait_for` drives it with the blocking client (scripts, ``wait=True``, opt-in
  only); :class:`WatchHub` drives it on the caller's event loop (the kernel's) for every watch of one
  context at once: one request per tick, polls never overlap, several watches of one deployment share
  its poll, transient errors reach the listeners as warnings. No threads: callbacks run on the loop.
  Whatever a request raises ends the watches (outcome ERROR) rather than the hub's task.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.deployments.watch_engine import (
    FAST_INTERVAL,
    MAX_ERROR_BACKOFF,
    SLOW_INTERVAL,
    Poll,
    Watched,
    WatchEngine,
    as_watch_error,
)
from bentocloud_jupyter.core.deployments.watch_state import DEFAULT_TIMEOUT, Goal, Outcome, Transition, WatchState
from bentocloud_jupyter.core.rest.models import Deployment

__all__ = ["DEFAULT_TIMEOUT", "FAST_INTERVAL", "MAX_ERROR_BACKOFF", "SLOW_INTERVAL", "Goal", "Outcome",
           "Transition", "WatchHub", "WatchState", "wait_for"]


# ------------------------------------------------------------------------------------------ blocking


def wait_for(client: Any, state: WatchState, cluster: str | None = None, interval: float = FAST_INTERVAL,
             sleep: Callable[[float], None] = time.sleep) -> Deployment:
    """Poll with the blocking client until ``state`` is over; opt-in only (``--wait``, scripts).

    Raises:
        DeploymentFailed, WatchTimeout, WatchError: the goal was not reached.
    """
    engine = WatchEngine(fast=interval, slow=interval, renewable=can_renew(client))
    while not state.settle():
        if engine.take_renewal():
            renew(client)
        poll = engine.begin([Watched(state, cluster)])
        while (request := poll.next_request()) is not None:
            try:
                poll.receive(request.call(client))
            except Exception as exc:
                poll.fail(as_watch_error(exc))
        engine.conclude(poll)
        if not state.settle():
            sleep(engine.pause([state]))
    return state.raise_for_outcome()


def can_renew(client: Any) -> bool:
    """The client can re-read its credentials (ours can; a test's fake may not)."""
    return callable(getattr(client, "reload_credentials", None))


def renew(client: Any) -> None:
    """Re-read the client's credentials after a 401; a failure here leaves the retry to fail on its own."""
    with contextlib.suppress(Exception):
        client.reload_credentials()


# --------------------------------------------------------------------------------------------- async


Listener = Callable[[WatchState], Any]


@dataclass
class HubEntry:
    """One watch of the hub: its state, where to look, who to tell, and the future its caller awaits."""

    state: WatchState
    cluster: str | None
    listeners: list[Listener]
    done: asyncio.Future[WatchState]


class WatchHub:
    """All watches of one context, refreshed together by a single polling task on the running loop."""

    def __init__(self, client: Any, *, interval: float = SLOW_INTERVAL, fast_interval: float = FAST_INTERVAL,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.client = client
        self.engine = WatchEngine(fast=fast_interval, slow=interval, renewable=can_renew(client))
        self._sleep = sleep
        self._entries: dict[int, HubEntry] = {}  # by id of the WatchState: several watches may share a name
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    @property
    def interval(self) -> float:
        """The steady pace (seconds between ticks while nothing changes)."""
        return self.engine.pacer.slow

    @interval.setter
    def interval(self, value: float) -> None:
        self.engine.pacer.slow = value

    @property
    def fast_interval(self) -> float:
        """The pace right after a change."""
        return self.engine.pacer.fast

    @fast_interval.setter
    def fast_interval(self, value: float) -> None:
        self.engine.pacer.fast = value

    @property
    def ticks(self) -> int:
        return self.engine.ticks

    @property
    def requests(self) -> int:
        return self.engine.requests

    @property
    def watching(self) -> list[str]:
        """Names being watched (each polled once per tick, however many watches share it)."""
        return sorted({entry.state.name for entry in self._entries.values()})

    def watch(self, state: WatchState, cluster: str | None = None,
              on_change: Listener | None = None) -> asyncio.Future[WatchState]:
        """Watch ``state.name`` alongside any other watch of it; the future resolves with the final state.

        A state that has seen nothing yet is polled at once; one seeded with the snapshot a verb fetched waits
        for the next tick (that snapshot is the first frame: no second GET right behind the first).
        """
        loop = asyncio.get_running_loop()
        entry = HubEntry(state, cluster, [on_change] if on_change else [], loop.create_future())
        self._entries[id(state)] = entry
        poll_now = state.deployment is None
        if self._task is None or self._task.done():
            first_pause = 0.0 if poll_now else self.fast_interval
            self._task = loop.create_task(self._run(first_pause), name="bentocloud-watch-hub")
        elif poll_now:
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
        task = self._task
        self.close_nowait()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):  # close never re-raises
                await task

    def close_nowait(self) -> None:
        """Cancel everything from synchronous code (extension unload)."""
        for name in self.watching:
            self.unwatch(name)
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self, first_pause: float = 0.0) -> None:
        """The hub's one polling task: tick, tell, drop what is over, pause; until nothing is watched.

        Anything unexpected ends every watch with outcome ERROR instead of killing the task silently.
        """
        try:
            await self._pause(self.engine.pause(self._states(), first_pause))
            while self._sweep():
                self._wake.clear()
                if self.engine.take_renewal():
                    renew(self.client)
                poll = self.engine.begin([Watched(e.state, e.cluster) for e in self._entries.values()])
                await self._perform_until_due(poll)
                for state in self.engine.conclude(poll):
                    self._tell(state)
                if not self._sweep():
                    break
                await self._pause(self.engine.pause(self._states()))
        except Exception as exc:
            self._abort(as_watch_error(exc))

    def _states(self) -> list[WatchState]:
        return [entry.state for entry in self._entries.values()]

    def _sweep(self) -> bool:
        """End the watches that are over (settled, or past their deadline); True while some remain."""
        for entry in list(self._entries.values()):
            if entry.state.settle():
                self._notify(entry)
                self._end(entry)
        return bool(self._entries)

    def _abort(self, error: Exception) -> None:
        for entry in list(self._entries.values()):
            entry.state.finish(Outcome.ERROR, str(error))
            self._end(entry)

    async def _perform_until_due(self, poll: Poll) -> None:
        """Run the poll, ending the watches whose deadline passes meanwhile (a poll may retry for long)."""
        task = asyncio.ensure_future(self._perform(poll))
        try:
            while not task.done() and self._entries:
                due = self.engine.pause(self._states(), math.inf)
                await asyncio.wait({task}, timeout=None if math.isinf(due) else due)
                self._sweep()
        finally:
            if not task.done():
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _perform(self, poll: Poll) -> None:
        """Send the poll's requests one after the other (so polls never overlap), feeding each answer back."""
        while (request := poll.next_request()) is not None:
            try:
                poll.receive(await request.call(self.client))
            except Exception as exc:
                poll.fail(as_watch_error(exc))

    async def _pause(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when a new watch arrives (it is polled at once)."""
        if delay <= 0:
            await asyncio.sleep(0)  # still yield to the loop
            return
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for future in (sleeper, waker):
                future.cancel()

    def _tell(self, state: WatchState) -> None:
        entry = self._entries.get(id(state))
        if entry is not None and entry.state is state:
            self._notify(entry)

    def _notify(self, entry: HubEntry) -> None:
        for listener in list(entry.listeners):
            with contextlib.suppress(Exception):  # a broken display must never stop the watch
                listener(entry.state)

    def _end(self, entry: HubEntry) -> None:
        if self._entries.get(id(entry.state)) is entry:
            del self._entries[id(entry.state)]
        if not entry.done.done():
            entry.done.set_result(entry.state)
        self._notify(entry)
