"""Deployment lifecycle: plans of timed statuses, and the status derived from them at read time.

Nothing runs in the background. Every create/update/terminate appends a :class:`Segment` (a start
time plus a plan of ``(status, offset)`` pairs, offsets in seconds at ``speed == 1``); reading a
deployment replays the segments up to "now". A newer segment cuts the older one off, which is how
an update interrupts a rollout or a terminate interrupts a build.
"""

from __future__ import annotations

from bentocloud_jupyter.sandbox.records import DeploymentRecord, Segment

# Offsets in seconds at speed 1 (divide by the sandbox speed for wall-clock time).
QUEUED = 0.5  # deploying (scheduling) before the image build starts
BUILD = 2.0  # image-building
ROLLOUT = 1.0  # deploying (rolling out replicas)
IDLE = 5.0  # running -> scaled-to-zero when min_replicas == 0
TERMINATE = 1.0  # terminating -> terminated

READY = frozenset({"running", "scaled-to-zero"})


def rollout_plan(deployment: str, bento: str, min_replicas: int | None) -> tuple[tuple[str, float], ...]:
    """The plan for a create/update/void_update, including the documented failure rules.

    * bento name contains ``fail``  -> ``image-build-failed`` after the build;
    * deployment name contains ``crash`` -> ``failed`` after rolling out;
    * deployment name contains ``unhealthy`` -> ``unhealthy`` after rolling out;
    * otherwise ``running``, then ``scaled-to-zero`` after IDLE when min_replicas == 0.
    """
    built = QUEUED + BUILD
    head: list[tuple[str, float]] = [("deploying", 0.0), ("image-building", QUEUED)]
    if "fail" in bento:
        return (*head, ("image-build-failed", built))
    done = built + ROLLOUT
    head.append(("deploying", built))
    if "crash" in deployment:
        return (*head, ("failed", done))
    if "unhealthy" in deployment:
        return (*head, ("unhealthy", done))
    if min_replicas == 0:
        return (*head, ("running", done), ("scaled-to-zero", done + IDLE))
    return (*head, ("running", done))


def terminate_plan() -> tuple[tuple[str, float], ...]:
    """Terminate: ``terminating`` then ``terminated``."""
    return (("terminating", 0.0), ("terminated", TERMINATE))


def wake_plan(min_replicas: int | None) -> tuple[tuple[str, float], ...]:
    """Traffic to a ready deployment: stays/gets ``running`` and restarts the idle timer."""
    if min_replicas == 0:
        return (("running", 0.0), ("scaled-to-zero", IDLE))
    return (("running", 0.0),)


def history(dep: DeploymentRecord, now: float, speed: float) -> list[tuple[str, float]]:
    """Status transitions ``(status, wall time)`` up to ``now``; consecutive repeats collapsed."""
    out: list[tuple[str, float]] = []
    segments = dep.segments
    for index, seg in enumerate(segments):
        cut = segments[index + 1].start if index + 1 < len(segments) else None
        for status, offset in seg.plan:
            at = seg.start + offset / speed
            if at > now or (cut is not None and at >= cut and offset > 0):
                break
            if not out or out[-1][0] != status:
                out.append((status, at))
    return out


def current(dep: DeploymentRecord, now: float, speed: float) -> tuple[str, float]:
    """(status, time it was entered) at ``now``."""
    events = history(dep, now, speed)
    if not events:
        return ("unknown", dep.created_at)
    return events[-1]


def add_segment(
    dep: DeploymentRecord, now: float, plan: tuple[tuple[str, float], ...], touch: bool = True
) -> None:
    """Start a new plan now; older segments stay for the history. ``touch`` bumps updated_at."""
    dep.segments.append(Segment(start=now, plan=plan))
    if touch:
        dep.modified_at = now
