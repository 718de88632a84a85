"""Following deployments live: start a watch from what a verb returned, list the watches, stop them.

A watch runs on the caller's event loop through the context's shared :class:`~.deployments.watch.WatchHub`
(one request per tick for every watch of a context). It starts from the snapshot the verb already fetched,
so the first frame is the real status and no second GET is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from bentocloud_jupyter.core.credentials.config import resolve_context
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT, Goal, WatchHub, WatchState
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.durations import MAX_WATCH_TIMEOUT, check_duration
from bentocloud_jupyter.core.results import Follow, Message

__all__ = ["Watch", "follow_deployment", "start_watch", "stop_all", "unwatch", "watch_state", "watched"]

OnChange = Callable[[WatchState], None]


@dataclass(eq=False)
class Watch:
    """One running watch: its state, a future that resolves when it ends, and how to stop it."""

    state: WatchState
    future: asyncio.Future[WatchState]
    hub: WatchHub | None = None

    def stop(self) -> None:
        """Stop watching (the deployment itself is not touched)."""
        if self.hub is not None and not self.state.done:
            self.hub.unwatch(self.state.name, self.state)


_active: dict[str, Watch] = {}


def follow_deployment(name: str, *, context: str | None = None, cluster: str | None = None,
                      goal: Goal = Goal.SETTLED, previous_revision: str | None = None,
                      timeout: float = DEFAULT_TIMEOUT) -> Follow:
    """What to follow for a deployment no verb has fetched (its first poll fetches it).

    Raises:
        InvalidInputError: a timeout that is not a number of seconds in ``(0, MAX_WATCH_TIMEOUT]``.
        ContextNotFoundError, ConfigError: the credentials cannot be resolved.
    """
    timeout = check_duration(timeout, maximum=MAX_WATCH_TIMEOUT)
    return Follow(name, cluster, goal, resolve_context(context), time.monotonic() + timeout, None, previous_revision)


def watch_state(follow: Follow) -> WatchState:
    """A fresh watch state seeded with the snapshot in hand."""
    state = WatchState(follow.name, goal=follow.goal, previous_revision=follow.previous_revision,
                       timeout=follow.remaining)
    if follow.snapshot is not None:
        state.observe(follow.snapshot)
    return state


def start_watch(follow: Follow, on_change: OnChange | None = None, state: WatchState | None = None) -> Watch:
    """Watch ``follow`` on the running loop until it settles; ``on_change`` runs on the loop at each change.

    Raises:
        RuntimeError: no running event loop.
    """
    loop = asyncio.get_running_loop()
    state = state if state is not None else watch_state(follow)
    if state.done:  # the snapshot already settled it: nothing to poll
        future: asyncio.Future[WatchState] = loop.create_future()
        future.set_result(state)
        return Watch(state, future)
    hub = session.hub_for(follow.resolved)
    watch = Watch(state, hub.watch(state, follow.cluster, on_change=on_change), hub)
    _active[follow.name] = watch
    watch.future.add_done_callback(lambda _: _forget(follow.name, watch))
    return watch


def _forget(name: str, watch: Watch) -> None:
    if _active.get(name) is watch:
        del _active[name]


def watched() -> list[str]:
    """Names of the deployments being watched live."""
    return [name for name, watch in _active.items() if not watch.state.done]


def unwatch(name: str | None = None, all: bool = False) -> Message:
    """Stop the live display of ``name``, or of every deployment with ``all``."""
    names = list(_active) if all or name is None else [name]
    stopped = []
    for item in names:
        watch = _active.pop(item, None)
        if watch is not None and not watch.state.done:
            with contextlib.suppress(Exception):
                watch.stop()
            stopped.append(item)
    if not stopped:
        return Message("Nothing was being watched." if name is None or all else f"{name!r} was not being watched.")
    return Message(f"Stopped watching {', '.join(repr(n) for n in stopped)}.")


def stop_all() -> None:
    """Cancel every watch and close every connection (extension unload, kernel shutdown)."""
    _active.clear()
    session.close_all()
