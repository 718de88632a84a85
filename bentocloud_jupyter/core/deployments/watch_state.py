"""What one watch of a deployment has seen and whether it is over: pure decisions, no I/O; its only clock is
``clock`` (``time.monotonic`` unless a test hands in a fake one) for the timeout.

After an update a watch only accepts "ready" (or a failure) from the *new* revision, never from the old
one still serving. The blocking :func:`~.watch.wait_for` and the asyncio :class:`~.watch.WatchHub` both feed
snapshots into a :class:`WatchState`; neither decides anything itself.
"""

from __future__ import annotations

import enum
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from bentocloud_jupyter.core.errors import DeploymentFailed, InvalidInputError, WatchError, WatchTimeout
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest.durations import MAX_WATCH_TIMEOUT
from bentocloud_jupyter.core.rest.models import FAILED_STATUSES, READY_STATUSES, Deployment

__all__ = ["DEFAULT_TIMEOUT", "Goal", "Outcome", "Transition", "WatchState"]

DEFAULT_TIMEOUT = 3600.0


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
    """What one watch has seen so far and whether it is over; no I/O.

    ``hint`` says what to run next when the watch ended without an answer (a timeout), as data: each front
    end words it (:func:`~bentocloud_jupyter.core.hints.sentence`); ``message`` never names a front end.
    ``started`` defaults to ``clock()`` at creation. A timeout past :data:`MAX_WATCH_TIMEOUT` is cut to it (an
    infinite watch never ends); a NaN one is refused.
    """

    name: str
    goal: Goal = Goal.READY
    previous_revision: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    started: float = math.nan
    deployment: Deployment | None = None
    transitions: list[Transition] = field(default_factory=list)
    outcome: Outcome | None = None
    message: str = ""
    warning: str = ""
    ended: float | None = None
    hint: Hint | None = None
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if math.isnan(self.timeout):
            raise InvalidInputError(f"timeout must be a number of seconds, not {self.timeout!r}")
        self.timeout = min(self.timeout, MAX_WATCH_TIMEOUT)
        if math.isnan(self.started):
            self.started = self.clock()

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def status(self) -> str:
        return self.deployment.status if self.deployment else "unknown"

    @property
    def elapsed(self) -> float:
        """Seconds since the watch began, frozen once it is over."""
        return (self.ended if self.ended is not None else self.clock()) - self.started

    @property
    def remaining(self) -> float:
        """Seconds left before the timeout (0 once it passed); the drivers never sleep past it."""
        return max(0.0, self.timeout - self.elapsed)

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

    def vanish(self) -> None:
        """The deployment is gone (404, or absent from the list): the watch is over."""
        self.finish(Outcome.DELETED, f"Deployment {self.name!r} no longer exists.")

    def expire(self) -> bool:
        """End the watch with a timeout once its time is up; True if it just expired."""
        if not self.done and self.elapsed >= self.timeout:
            self.hint = Hint("status", {"name": self.name, "wait": True}, why="to check again")
            self.finish(Outcome.TIMEOUT, f"Deployment {self.name!r} did not settle within {self.timeout:g} s "
                                         f"(last status: {self.status}); it may still finish.")
            return True
        return False

    def settle(self) -> bool:
        """Expire the watch if its time is up; True when it is over (the drivers stop polling it)."""
        return self.expire() or self.done

    def finish(self, outcome: Outcome, message: str) -> None:
        if not self.done:
            self.outcome, self.message, self.ended = outcome, message, self.clock()

    def raise_for_outcome(self) -> Deployment:
        """The deployment when the goal was reached; otherwise the matching :class:`WatchError`.

        A deployment that vanished reaches the goal of a terminate (its last snapshot is returned) and ends
        any other watch with a :class:`WatchError`.
        """
        reached = {Goal.READY: Outcome.READY, Goal.TERMINATED: Outcome.TERMINATED}.get(self.goal)
        if self.outcome is Outcome.TIMEOUT:
            raise WatchTimeout(self.message, name=self.name, status=self.status, hint=self.hint)
        if self.outcome is Outcome.FAILED:
            raise DeploymentFailed(self.message, name=self.name, status=self.status)
        if self.outcome is Outcome.DELETED and self.goal is Goal.TERMINATED and self.deployment is not None:
            return self.deployment
        if (reached is not None and self.outcome is not reached) or self.outcome in (
                Outcome.ERROR, Outcome.CANCELLED, Outcome.DELETED) or self.deployment is None:
            raise WatchError(self.message or f"Watching {self.name!r} ended: {self.outcome}.", name=self.name,
                             status=self.status)
        return self.deployment
