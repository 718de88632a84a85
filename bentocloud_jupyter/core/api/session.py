"""Verbs over this kernel's ledger: what it started (``session``) and stopping it all (``teardown``).

Why one list request: a kernel may have started dozens of deployments; their live status comes from one
listing, matched by cluster and name, never from one request each.
"""

from __future__ import annotations

import re
import shlex
import sys
import time
from collections.abc import Iterable, Sequence

from bentocloud_jupyter.core.codespaces.create import is_dev
from bentocloud_jupyter.core.credentials.config import ResolvedContext
from bentocloud_jupyter.core.errors import BentoCloudError, NotFoundError
from bentocloud_jupyter.core.guardrails import ledger, ttl
from bentocloud_jupyter.core.guardrails.confirm import context_is_protected, protected_as, require_typed_name
from bentocloud_jupyter.core.guardrails.views import SessionView, Teardown, TeardownStep
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import TableView

__all__ = ["session", "teardown"]

_HEADERS = ["name", "kind", "cluster", "status", "instance", "replicas", "uptime", "expires", "by"]
_SESSION_ID = re.compile(r"[0-9a-f]{1,32}")
Live = dict[tuple[str, str], Deployment]


def session(all: bool = False, context: str | None = None) -> SessionView | Message:
    """What this kernel created, started or updated, with live status; ``all``: every deployment our labels
    mark as created from a notebook, by any kernel (what earlier kernels left running)."""
    client, resolved = client_for(context)
    if all:
        found = _ours_everywhere(client)
        if not found:
            return Message(f"No deployment in context {resolved.context.name!r} carries our created-by label.")
        return _view([_row(d, d.name, d.cluster, "codespace" if dev else "deployment", _by(d))
                      for d, dev in found], [d for d, _ in found])
    mine = ledger.entries(resolved.context.name)
    if not mine:
        return Message(f"This kernel has started nothing in context {resolved.context.name!r}"
                       f"{_elsewhere(resolved.context.name, 'session')}; "
                       "`%bentocloud session --all` finds what earlier kernels left running.")
    live = _live(client, mine)
    for entry in (e for e in mine if _find(live, e) is None):  # deleted elsewhere: no longer billing
        ledger.mark(entry.context, entry.name, entry.cluster, "gone")
    rows = [_row(_find(live, e), e.name, e.cluster, e.kind, e.action) for e in mine]
    return _view(rows, [d for e in mine if (d := _find(live, e)) is not None])


def _ours_everywhere(client: BentoCloudClient) -> list[tuple[Deployment, bool]]:
    """Every deployment and codespace our created-by label marks (two listings: BentoCloud lists codespaces
    apart, under ``is:dev``), each with whether it is a codespace; labels checked here, not trusted to ``q``."""
    query = f"label:{ledger.CREATED_BY_KEY}={ledger.CREATED_BY}"
    found = {(d.cluster, d.name): d for d in client.list_deployments(all=True, q=query)}
    dev = {(d.cluster, d.name): d for d in client.list_deployments(all=True, q=f"is:dev {query}")}
    return [(d, key in dev or is_dev(d)) for key, d in {**found, **dev}.items()
            if d.labels.get(ledger.CREATED_BY_KEY) == ledger.CREATED_BY]


def _elsewhere(context: str, verb: str) -> str:
    """Where else this kernel started something (a ledger spans contexts; a verb sees one at a time)."""
    others = list(dict.fromkeys(e.context for e in ledger.entries() if e.context != context))
    return "".join(f", but it did in context {other!r} (`%bentocloud {verb} --context {shlex.quote(other)}`)"
                   for other in others)


def _live(client: BentoCloudClient, mine: Sequence[ledger.Entry]) -> Live:
    """One listing of the context (and one of codespaces, only when the ledger holds any)."""
    live = {(d.cluster, d.name): d for d in client.list_deployments(all=True)}
    if any(e.kind == "codespace" and _find(live, e) is None for e in mine):
        live.update({(d.cluster, d.name): d for d in client.list_deployments(all=True, q="is:dev")})
    return live


def _find(live: Live, entry: ledger.Entry) -> Deployment | None:
    """The live deployment of a ledger entry; one recorded without a cluster (the server's answer named
    none) is the only one of its name, if there is exactly one."""
    found = live.get((entry.cluster, entry.name))
    if found is None and not entry.cluster:
        named = [d for (_, name), d in live.items() if name == entry.name]
        found = named[0] if len(named) == 1 else None
    return found


def _by(d: Deployment) -> str:
    """Which kernel made it: this one, or an earlier one (its session id, if it reads as one)."""
    value = d.labels.get(ledger.SESSION_KEY, "")
    if value == ledger.SESSION_ID:
        return "this kernel"
    return f"kernel {value}" if _SESSION_ID.fullmatch(value) else "an earlier kernel"


def _row(d: Deployment | None, name: str, cluster: str, kind: str, by: str) -> list[str]:
    if d is None:
        return [name, kind, cluster, "gone", "", "", "", "", by]
    expires = ttl.expiry_of(d.labels)
    return [name, kind, cluster, d.status, d.instance_type or "", _replicas(d), _uptime(d),
            time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires)) if expires is not None else "", by]


def _replicas(d: Deployment) -> str:
    low, high = d.scaling_min, d.scaling_max
    return "" if low is None and high is None else f"{'' if low is None else low}-{'' if high is None else high}"


def _uptime(d: Deployment) -> str:
    """Time since its status last changed, while it runs."""
    if d.status in ttl.STOPPED or d.updated_at is None:
        return ""
    seconds = max(0, int(time.time() - d.updated_at.timestamp()))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


def _view(rows: list[list[str]], found: Iterable[Deployment]) -> SessionView:
    return SessionView(TableView(_HEADERS, rows), tuple(_overdue_notes(found)))


def _overdue_notes(found: Iterable[Deployment]) -> list[str]:
    notes = []
    for d in found:
        if ttl.overdue(d.status, d.labels) is not None:
            notes.append(ttl.ttl_note(d.name, d.status, d.labels, cluster=d.cluster))
    return notes


def teardown(delete: bool = False, yes: bool = False, confirm: str | None = None,
             context: str | None = None) -> Teardown:
    """Terminate (``delete``: delete) what this kernel started in the context. Without ``yes``, the plan:
    nothing sent. A protected context needs its own name typed back (``confirm``) before anything is sent."""
    client, resolved = client_for(context)
    mine = ledger.entries(resolved.context.name)
    protected = context_is_protected(resolved)
    if not mine:
        return Teardown(resolved.context.name, (), delete, protected=protected,
                        elsewhere=_elsewhere(resolved.context.name, "teardown"))
    live = _live(client, mine)
    steps = [_step(_find(live, e), e, delete) for e in mine]
    plan = Teardown(resolved.context.name, steps, delete, protected=protected)
    if not yes or not plan.todo:
        if yes:  # nothing to send; what is gone leaves the ledger
            for step in steps:
                _perform(client, resolved, step, delete)
        return plan
    require_typed_name(resolved, "context", protected_as(resolved) or resolved.context.name, confirm)
    done = [_perform(client, resolved, step, delete) for step in steps]
    return Teardown(resolved.context.name, done, delete, done=True, protected=protected)


def _step(d: Deployment | None, entry: ledger.Entry, delete: bool) -> TeardownStep:
    if d is None:
        return TeardownStep(entry.name, entry.cluster, entry.kind, "gone", "skip", "already gone")
    if not entry.started_here:  # it ran before this kernel, which only changed it: never stopped in bulk
        return TeardownStep(entry.name, entry.cluster, entry.kind, d.status, "skip", "only updated here")
    if not delete and d.status in ttl.STOPPED:
        return TeardownStep(entry.name, entry.cluster, entry.kind, d.status, "skip", "already stopped")
    return TeardownStep(entry.name, entry.cluster, entry.kind, d.status, "delete" if delete else "terminate")


def _perform(client: BentoCloudClient, resolved: ResolvedContext, step: TeardownStep, delete: bool) -> TeardownStep:
    """One step; a failure is that step's outcome (the others still run), never a traceback."""
    ctx = resolved.context.name
    if step.action == "skip":
        if step.status == "gone":
            ledger.forget_name(ctx, step.name, step.cluster)
        return step
    try:
        if delete:
            client.delete_deployment(step.name, step.cluster)
            ledger.forget_name(ctx, step.name, step.cluster)
        else:
            client.terminate_deployment(step.name, step.cluster)
            ledger.mark(ctx, step.name, step.cluster, "terminated")
    except NotFoundError:
        ledger.forget_name(ctx, step.name, step.cluster)
        return TeardownStep(step.name, step.cluster, step.kind, "gone", step.action, "already gone")
    except BentoCloudError as exc:
        return TeardownStep(step.name, step.cluster, step.kind, step.status, step.action, f"failed: {exc}")
    ttl.cancel_expiry(ctx, step.name, step.cluster)
    if step.kind == "codespace":
        _stop_sync(step.name, step.cluster)
    return TeardownStep(step.name, step.cluster, step.kind, step.status, step.action,
                        "deleted" if delete else "terminated")


def _stop_sync(name: str, cluster: str) -> None:
    """A codespace torn down stops syncing too (its live sync would push to a terminated deployment).

    Only the attached one can be reached: the codespaces module offers no lookup of the others."""
    handles = sys.modules.get("bentocloud_jupyter.core.codespaces.handle")
    current = handles.attached() if handles is not None else None
    if current is not None and current.state.name == name and (current.state.cluster or "") in ("", cluster):
        current.detach()
