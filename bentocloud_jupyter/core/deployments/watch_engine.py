"""The watcher's sans-IO core: what to request next, how to fold an answer in, how long to wait.

Why sans-IO: the blocking :func:`~.watch.wait_for` and the asyncio :class:`~.watch.WatchHub` must poll,
fold, back off and time out identically. Everything that decides lives here as plain code that never
sends a request or sleeps; each driver is a short loop that performs the :class:`Request` it is handed
(``request.call(client)``, awaited for an async client), feeds the answer back and sleeps
:attr:`WatchEngine.delay`.

One tick (a :class:`Poll`) refreshes every watched deployment with one list request (more pages only
past 100 deployments), or with one GET per name when that is cheaper (a single name always); several
watches of one name share its fetch. A 404 on a GET means "deleted"; any other error ends the tick and
is folded as a warning (transient: backoff honouring ``Retry-After``) or as the end of the watches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.deployments.watch_state import Outcome, WatchState
from bentocloud_jupyter.core.errors import AuthenticationError, BentoCloudError, NotFoundError, RateLimitError
from bentocloud_jupyter.core.rest.models import Deployment, Page

__all__ = ["FAST_INTERVAL", "MAX_ERROR_BACKOFF", "PAGE_SIZE", "SLOW_INTERVAL", "GetDeployment", "ListPage",
           "Pacer", "Poll", "Request", "WatchEngine", "Watched", "is_transient"]

FAST_INTERVAL = 1.0
SLOW_INTERVAL = 5.0
MAX_ERROR_BACKOFF = 30.0
PAGE_SIZE = 100


def is_transient(error: BentoCloudError) -> bool:
    """Worth another try later (5xx, 429, network) as opposed to final (bad token, gone, refused)."""
    if isinstance(error, (AuthenticationError, NotFoundError)):
        return False
    return getattr(error, "status", None) not in (400, 409, 422)


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
        self._next: int | None = None if self._gets or not targets else 0  # next list offset

    def next_request(self) -> Request | None:
        """What to send now; None once the tick has all it needs (or failed)."""
        if self.error is not None:
            return None
        request: Request | None = None
        if self._gets:
            request = self._gets[0]
        elif self._next is not None:
            request = ListPage(self._list_cluster, self._next)
        if request is not None:
            self.requests += 1
        return request

    def receive(self, answer: Deployment | Page[Deployment]) -> None:
        """Fold the answer to the request last handed out."""
        if isinstance(answer, Page):
            self.found.update({d.name: d for d in answer.items})
            self._next = (self._next or 0) + len(answer.items)
            self.known_total = answer.total
            if not answer.items or self._next >= answer.total:
                self._next = None
        else:
            self.found[self._gets.pop(0).name] = answer

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
    doubling on errors (at least the server's ``Retry-After``, at most :data:`MAX_ERROR_BACKOFF`)."""

    fast: float
    slow: float
    delay: float = field(init=False)

    def __post_init__(self) -> None:
        self.fast = min(self.fast, self.slow)
        self.delay = self.fast

    def answered(self, changed: bool) -> None:
        self.delay = self.fast if changed else min(self.slow, self.delay * 1.5)

    def failed(self, error: BentoCloudError) -> None:
        retry_after = error.retry_after if isinstance(error, RateLimitError) else None
        self.delay = min(MAX_ERROR_BACKOFF, max(self.delay * 2, retry_after or 0.0))


# ----------------------------------------------------------------------------------------------- engine


class WatchEngine:
    """Ticks for a set of watches: :meth:`begin` a :class:`Poll`, let the driver run it, :meth:`conclude` it."""

    def __init__(self, *, fast: float = FAST_INTERVAL, slow: float = SLOW_INTERVAL) -> None:
        self.pacer = Pacer(fast, slow)
        self.known_total = 0
        self.ticks = 0
        self.requests = 0

    @property
    def delay(self) -> float:
        """Seconds to wait before the next tick."""
        return self.pacer.delay

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
        if not is_transient(error):
            for state in states:
                state.finish(Outcome.ERROR, str(error))
            return []
        for state in states:
            state.warning = f"{error} (still watching)"
        self.pacer.failed(error)
        return states
