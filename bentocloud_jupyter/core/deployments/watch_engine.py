"""The watcher's sans-IO core: what to request next, how to fold an answer in, how long to wait.

Why sans-IO: the blocking :func:`~.watch.wait_for` and the asyncio :class:`~.watch.WatchHub` must poll,
fold, back off and time out identically. Everything that decides lives here as plain code that never
sends a request or sleeps; each driver is a short loop that performs the :class:`Request` it is handed
(``request.call(client)``, awaited for an async client), feeds the answer back and sleeps
:attr:`WatchEngine.delay`.

One tick (a :class:`Poll`) refreshes every watched deployment with one list request (more pages only
past 100 deployments), or with one GET per name when that is cheaper (a single name always); several
watches of one name share its fetch. A 404 on a GET means "deleted"; any other error ends the tick and
is folded as a warning (transient: backoff honouring ``Retry-After``) or as the end of the watches. A
malformed answer (:class:`ProtocolError`) ends them; a first 401 asks the driver to re-read the credentials
and try once more (``renewable``). The drivers never sleep past the earliest deadline (:meth:`WatchEngine.pause`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.deployments.watch_state import Outcome, WatchState
from bentocloud_jupyter.core.errors import (
    AuthenticationError,
    BentoCloudError,
    NotFoundError,
    ProtocolError,
    RateLimitError,
)
from bentocloud_jupyter.core.rest.endpoints import Pager
from bentocloud_jupyter.core.rest.models import Deployment, Page

__all__ = ["FAST_INTERVAL", "MAX_ERROR_BACKOFF", "PAGE_SIZE", "RECOVERY_BACKOFF", "SLOW_INTERVAL", "GetDeployment",
           "ListPage", "Pacer", "Poll", "Request", "WatchEngine", "Watched", "as_watch_error", "is_transient"]

FAST_INTERVAL = 1.0
SLOW_INTERVAL = 5.0
MAX_ERROR_BACKOFF = 30.0
"""The longest pause a server's ``Retry-After`` may impose on the watcher."""
RECOVERY_BACKOFF = 8.0
"""The watcher's own back-off stops doubling here (or at the steady interval, if longer), so a recovery is
noticed within seconds of it."""
PAGE_SIZE = 100


def is_transient(error: BentoCloudError) -> bool:
    """Worth another try later (5xx, 429, network) as opposed to final (bad token, gone, refused, malformed)."""
    if isinstance(error, (AuthenticationError, NotFoundError, ProtocolError)):
        return False
    return getattr(error, "status", None) not in (400, 409, 422)


def as_watch_error(exc: Exception) -> BentoCloudError:
    """What a driver folds when a request raised ``exc``: our own error, or a :class:`ProtocolError` for
    anything else (a watcher must end its watches, never die with a traceback)."""
    if isinstance(exc, BentoCloudError):
        return exc
    return ProtocolError(f"Watching stopped on an unexpected answer ({type(exc).__name__}); try again, and "
                         "report it if it persists.")


# -------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class GetDeployment:
    """``GET /api/v2/deployments/{name}``; its answer is a :class:`Deployment`."""

    name: str
    cluster: str | None

    def call(self, client: Any) -> Any:
        """The client's answer (an awaitable of it when ``client`` is async)."""
        return client.get_deployment(self.name, self.cluster)


@dataclass(frozen=True)
class ListPage:
    """One page of the deployments list; its answer is a :class:`Page` of :class:`Deployment`."""

    cluster: str | None
    start: int

    def call(self, client: Any) -> Any:
        """The client's answer (an awaitable of it when ``client`` is async)."""
        return client.list_deployments_page(cluster=self.cluster, all=self.cluster is None, start=self.start,
                                            count=PAGE_SIZE)


Request = GetDeployment | ListPage


@dataclass(frozen=True)
class Watched:
    """One watch as a tick sees it: its state and the cluster to look in."""

    state: WatchState
    cluster: str | None = None


# ------------------------------------------------------------------------------------------------ tick


class Poll:
    """One tick's fetch: hand out :meth:`next_request` until None, feeding each answer back in order."""

    def __init__(self, watches: Sequence[Watched], known_total: int) -> None:
        self.watches = list(watches)
        self.found: dict[str, Deployment] = {}
        self.error: BentoCloudError | None = None
        self.requests = 0
        self.known_total = known_total
        targets = {w.state.name: w.cluster for w in self.watches}
        clusters = set(targets.values())
        pages_needed = max(1, -(-known_total // PAGE_SIZE))
        self._gets = [GetDeployment(n, c) for n, c in targets.items()] if (
            len(targets) == 1 or len(targets) < pages_needed) else []
        self._list_cluster = clusters.pop() if len(clusters) == 1 else None
        self._pager = None if self._gets or not targets else Pager()

    def next_request(self) -> Request | None:
        """What to send now; None once the tick has all it needs (or failed)."""
        if self.error is not None:
            return None
        request: Request | None = None
        if self._gets:
            request = self._gets[0]
        elif self._pager is not None and not self._pager.done:
            request = ListPage(self._list_cluster, self._pager.start)
        if request is not None:
            self.requests += 1
        return request

    def receive(self, answer: Deployment | Page[Deployment]) -> None:
        """Fold the answer to the request last handed out."""
        if not isinstance(answer, Page):
            self.found[self._gets.pop(0).name] = answer
            return
        self._pager = self._pager or Pager()
        try:
            fresh = self._pager.take(answer, lambda d: (d.cluster, d.name))
        except ProtocolError as error:  # a listing that never ends: the tick fails, the watches end
            self.error = error
            return
        self.found.update({d.name: d for d in fresh})
        self.known_total = answer.total

    def fail(self, error: BentoCloudError) -> None:
        """The last request failed: a 404 on a GET means "deleted"; anything else ends the tick."""
        if self._gets and isinstance(error, NotFoundError):
            self._gets.pop(0)
        else:
            self.error = error


# ----------------------------------------------------------------------------------------------- pacing


@dataclass
class Pacer:
    """How long to wait before the next tick: ``fast`` while something changes, easing to ``slow`` when steady,
    doubling on errors up to ``max_backoff`` (or ``slow``, if longer), or at least the server's ``Retry-After``
    (at most :data:`MAX_ERROR_BACKOFF`)."""

    fast: float
    slow: float
    max_backoff: float = MAX_ERROR_BACKOFF
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.fast = min(self.fast, self.slow)
        self.delay = self.fast

    def answered(self, changed: bool) -> None:
        self.delay = self.fast if changed else min(self.slow, self.delay * 1.5)

    def failed(self, error: BentoCloudError) -> None:
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        advised = retry_after if retry_after is not None and math.isfinite(retry_after) else 0.0
        doubled = min(self.delay * 2, max(self.max_backoff, self.slow))
        self.delay = min(MAX_ERROR_BACKOFF, max(doubled, advised))


# ----------------------------------------------------------------------------------------------- engine


class WatchEngine:
    """Ticks for a set of watches: :meth:`begin` a :class:`Poll`, let the driver run it, :meth:`conclude` it.

    ``renewable``: the driver can re-read the credentials; a first 401 is then a warning, and
    :meth:`take_renewal` tells the driver to re-read them before the next tick (a second 401 in a row ends the
    watches).
    """

    def __init__(self, *, fast: float = FAST_INTERVAL, slow: float = SLOW_INTERVAL, renewable: bool = False) -> None:
        self.pacer = Pacer(fast, slow, RECOVERY_BACKOFF)
        self.known_total = 0
        self.ticks = 0
        self.requests = 0
        self.renewable = renewable
        self._renew = self._renewed = False

    @property
    def delay(self) -> float:
        """Seconds to wait before the next tick."""
        return self.pacer.delay

    def pause(self, states: Iterable[WatchState], delay: float | None = None) -> float:
        """``delay`` (default :attr:`delay`), cut to the earliest deadline of the live ``states``."""
        wanted = self.delay if delay is None else delay
        return min([wanted, *(state.remaining for state in states if not state.done)])

    def take_renewal(self) -> bool:
        """True once after a first 401: re-read the credentials before the next tick."""
        renew, self._renew = self._renew, False
        return renew

    def begin(self, watches: Sequence[Watched]) -> Poll:
        self.ticks += 1
        return Poll(watches, self.known_total)

    def conclude(self, poll: Poll) -> list[WatchState]:
        """Fold a finished poll into its watches; returns the states whose listeners should hear of it.

        A watch that ended while its request was in flight (unwatched) is left alone.
        """
        self.requests += poll.requests
        self.known_total = poll.known_total
        live = [w.state for w in poll.watches if not w.state.done]
        if poll.error is not None:
            return self._failed(live, poll.error)
        self._renewed = False
        changed = False
        for state in live:
            snapshot = poll.found.get(state.name)
            if snapshot is None:
                state.vanish()
                changed = True
            elif state.observe(snapshot):
                changed = True
        self.pacer.answered(changed)
        return live

    def _failed(self, states: list[WatchState], error: BentoCloudError) -> list[WatchState]:
        if self.renewable and not self._renewed and isinstance(error, AuthenticationError) and error.status == 401:
            self._renew = self._renewed = True  # the token may have been refreshed in the file: try once more
            for state in states:
                state.warning = f"{error} (re-reading the credentials and trying once more)"
            self.pacer.delay = self.pacer.fast
            return states
        if not is_transient(error):
            for state in states:
                state.finish(Outcome.ERROR, str(error))
            return []
        for state in states:
            state.warning = f"{error} (still watching)"
        self.pacer.failed(error)
        return states
