"""Verbs over deployments: list, get, status, deploy, update, start, terminate, delete (``apply``: :mod:`.applying`).

A verb that starts something to follow returns a :class:`~.results.DeploymentView` whose ``follow`` carries
the name, cluster, goal, previous revision, deadline, resolved context and the snapshot in hand, so a front
end shows it live without resolving the credentials again or fetching it a second time.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from bentocloud_jupyter.core.api.bento_args_build import prebuild, unused_args_note
from bentocloud_jupyter.core.api.bento_source import (
    ProgressFactory,
    resolve_bento,
    secret_env_keys,
    with_bento,
)
from bentocloud_jupyter.core.api.bento_source import (
    dry_run as dry_run_request,
)
from bentocloud_jupyter.core.credentials.config import ResolvedContext
from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args
from bentocloud_jupyter.core.deployments.current import current_body
from bentocloud_jupyter.core.deployments.options import (
    DeployOptions,
    build_create_request,
    build_update_request,
    load_config_source,
    parse_labels,
)
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT, Goal, WatchState, wait_for
from bentocloud_jupyter.core.errors import DeploymentFailed, InvalidInputError, ProtocolError
from bentocloud_jupyter.core.guardrails import ledger
from bentocloud_jupyter.core.guardrails import ttl as ttls
from bentocloud_jupyter.core.guardrails.confirm import require_typed_name
from bentocloud_jupyter.core.guardrails.labels import check_not_ours, for_change, for_create
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.durations import MAX_WATCH_TIMEOUT, check_duration
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import (
    ChangePlan,
    DeploymentsView,
    DeploymentView,
    DryRun,
    Follow,
    Message,
    TextOutput,
    deployment_summary,
    render_summaries,
)

__all__ = ["OUTPUTS", "Watching", "create_with", "delete", "deploy", "get", "list_deployments", "options_from",
           "same_name", "send_update", "start", "status", "terminate", "track", "update", "watching_for"]

OUTPUTS = ("table", "json", "yaml")
_EXAMPLE = Hint("deploy", {"bento": "summarizer:v3", "name": "my-deployment"})


def list_deployments(cluster: str | None = None, all: bool = False, search: str | None = None,
                     labels: Sequence[str] | None = (), output: str = "table",
                     context: str | None = None) -> DeploymentsView | TextOutput:
    """Deployments as a table, or as JSON/YAML (one object per deployment) with ``output``."""
    check_output(output)
    client, resolved = client_for(context)
    query = " ".join(f"label:{item['key']}={item['value']}" for item in parse_labels(labels or ())) or None
    found = client.list_deployments(cluster=cluster, all=True if all or cluster is None else None, search=search,
                                    q=query)
    if output != "table":
        return render_summaries([deployment_summary(d) for d in found], output)
    return DeploymentsView(found, resolved.context.name, complete=not (search or labels),
                           requested_context=context)


def get(name: str, cluster: str | None = None, output: str = "table",
        context: str | None = None) -> DeploymentView | TextOutput:
    """One deployment as a card, or as JSON/YAML with ``output``."""
    check_output(output)
    client, _ = client_for(context)
    deployment = client.get_deployment(name, cluster)
    if output != "table":
        return render_summaries(deployment_summary(deployment), output)
    return DeploymentView(deployment)


def status(name: str, cluster: str | None = None, wait: bool = False, timeout: float = DEFAULT_TIMEOUT,
           context: str | None = None) -> DeploymentView:
    """The deployment's current status, to follow until it settles; with ``wait``, block until it does.

    A deployment that settles in a failure status is reported, not raised: this is a question, not a
    deploy (use ``deploy(..., wait=True)`` to fail a script on failure).

    Raises:
        NotFoundError: no such deployment. WatchTimeout: with ``wait``, when it does not settle in time.
    """
    check_timeout(timeout)
    started = time.monotonic()
    client, resolved = client_for(context)
    deployment = client.get_deployment(name, cluster)
    if not wait:
        return DeploymentView(deployment, follow=_follow(resolved, deployment, cluster, Goal.SETTLED,
                                                         started + timeout))
    state = WatchState(name, goal=Goal.SETTLED, timeout=timeout)
    try:
        return DeploymentView(wait_for(client, state, cluster))
    except DeploymentFailed as failure:
        return DeploymentView(state.deployment or deployment, note=str(failure))


def deploy(bento: str | None = None, name: str | None = None, cluster: str | None = None,
           access_authorization: bool | None = None, scaling_min: int | None = None,
           scaling_max: int | None = None, instance_type: str | None = None, strategy: str | None = None,
           labels: Sequence[str] | None = (), envs: Sequence[str] | None = (), secrets: Sequence[str] | None = (),
           config_file: str | None = None, config_dict: Mapping[str, Any] | str | None = None,
           args: Sequence[str] | None = (), arg_file: str | None = None,
           wait: bool = False, timeout: float = DEFAULT_TIMEOUT, dry_run: bool = False,
           context: str | None = None, ttl: str | float | None = None, *,
           progress: ProgressFactory | None = None) -> DeploymentView | DryRun:
    """Create a deployment of a bento on BentoCloud (the options of ``bentoml deploy``).

    ``bento`` is ``name[:version]``, a bento only in the local store (pushed first, shown by ``progress``) or a
    project folder (built first, with the bento arguments ``args``/``arg_file`` as ``bentoml deploy`` hands
    them to the build). Required envs are checked before anything is sent. Returns at once, with what to
    follow, unless ``wait``; ``dry_run`` only shows the request. ``ttl`` (``30m``, ``2h``, ``1d``) terminates
    it when it ends (an expires-at label, and a timer on the kernel's loop).

    Raises:
        InvalidInputError: bad options or bento arguments, a path that is no project, missing required envs.
        NotFoundError: no such bento or secret. DeploymentFailed, WatchTimeout: with ``wait``.
    """
    check_timeout(timeout)
    watching = watching_for(wait, timeout, ttl)
    check_not_ours(labels)
    options, bento_args = options_from(locals()), parse_bento_args(args, arg_file)
    source = load_config_source(options) or {}
    if not (bento or source.get("bento")) and not (config_file or config_dict):
        raise InvalidInputError("Which bento?", hint=_EXAMPLE)
    client, resolved = client_for(context)
    return create_with(client, resolved, options, bento_args, watching, dry_run, progress)


def create_with(client: BentoCloudClient, resolved: ResolvedContext, options: DeployOptions,
                bento_args: Mapping[str, Any], watching: Watching, dry_run: bool = False,
                progress: ProgressFactory | None = None) -> DeploymentView | DryRun:
    """The second half of :func:`deploy` (also ``apply`` of a deployment that does not exist yet)."""
    source = load_config_source(options) or {}
    tag = str(source.get("bento") or options.bento or "")
    remote = resolve_bento(client, prebuild(tag, bento_args), progress)
    keys = secret_env_keys(client, options.secrets or source.get("secrets") or (),
                           options.cluster or source.get("cluster"))
    body, target_cluster = build_create_request(with_bento(options, remote.tag), remote.entry_service,
                                                [dict(env) for env in remote.envs], keys)
    watching = watching.stamped()
    body["labels"] = for_create(body.get("labels"), watching.expires_at)
    if dry_run:
        return dry_run_request(body, target_cluster, remote.entry_service)
    created = same_name(client.create_deployment(body, target_cluster), body.get("name"))
    note = " ".join(filter(None, [unused_args_note(tag, bento_args),
                                  track(resolved, created, created.cluster, "created", watching.expires_at)]))
    if watching.wait:
        return DeploymentView(wait_for(client, WatchState(created.name, timeout=watching.timeout), created.cluster),
                              note=note)
    return DeploymentView(created, note=note, follow=_follow(resolved, created, created.cluster, Goal.READY,
                                                             watching.deadline))


def update(name: str, bento: str | None = None, cluster: str | None = None,
           access_authorization: bool | None = None, scaling_min: int | None = None,
           scaling_max: int | None = None, instance_type: str | None = None, strategy: str | None = None,
           labels: Sequence[str] | None = (), envs: Sequence[str] | None = (), secrets: Sequence[str] | None = (),
           config_file: str | None = None, config_dict: Mapping[str, Any] | str | None = None,
           args: Sequence[str] | None = (), arg_file: str | None = None,
           wait: bool = False, timeout: float = DEFAULT_TIMEOUT, dry_run: bool = False,
           context: str | None = None, ttl: str | float | None = None, confirm: str | None = None, *,
           progress: ProgressFactory | None = None) -> DeploymentView | DryRun:
    """Change a deployment; the given values are merged into its current configuration.

    With ``wait`` it blocks until the *new* revision is ready (never the old one); without, the result
    says to follow the new revision. ``args``/``arg_file`` go to the build when ``bento`` is a project folder.
    Our labels survive ``labels``; ``ttl`` sets a new expiry; a protected context needs ``confirm=name``.

    Raises:
        NotFoundError: no such deployment or bento. DeploymentFailed, WatchTimeout: with ``wait``.
    """
    check_timeout(timeout)
    watching = watching_for(wait, timeout, ttl)
    check_not_ours(labels)
    options, bento_args = options_from({**locals(), "name": None}), parse_bento_args(args, arg_file)
    client, resolved = client_for(context)
    require_typed_name(resolved, "deployment", name, confirm)
    current = client.get_deployment(name, cluster)
    tag = str((load_config_source(options) or {}).get("bento") or options.bento or current.bento)
    remote = resolve_bento(client, prebuild(tag, bento_args), progress)
    body, target_cluster = build_update_request(dict(current.raw), with_bento(options, remote.tag),
                                                remote.entry_service)
    watching = watching.stamped()
    body["labels"] = for_change(body.get("labels"), current.labels, watching.expires_at)
    if dry_run:
        return dry_run_request(body, target_cluster, remote.entry_service, "PUT", f"/api/v2/deployments/{name}")
    return send_update(client, resolved, current, body, target_cluster, watching, unused_args_note(tag, bento_args))


def start(name: str, cluster: str | None = None, wait: bool = False, timeout: float = DEFAULT_TIMEOUT,
          context: str | None = None, ttl: str | float | None = None) -> DeploymentView:
    """Restart a terminated deployment: an update with its current configuration (as ``bentoml deployment
    start`` means to; bentoml 1.4.40's own fails with "verify() must be called first"). The result follows
    the new revision to running; with ``wait``, blocks until it is.

    Raises:
        NotFoundError: no such deployment. InvalidInputError: it is not terminated.
        DeploymentFailed, WatchTimeout: with ``wait``.
    """
    check_timeout(timeout)
    watching = watching_for(wait, timeout, ttl)
    client, resolved = client_for(context)
    current = client.get_deployment(name, cluster)
    if current.status != "terminated":
        soon = " (it is terminating: wait until it is terminated)" if current.status == "terminating" else ""
        raise InvalidInputError(f"deployment {name!r} is {current.status}, not terminated: only a terminated "
                                f"deployment can be started{soon}", hint=Hint("status", {"name": name}))
    body, target_cluster = current_body(dict(current.raw), fill=True)
    body["labels"] = for_change(None, current.labels, watching.expires_at, drop_passed=True)
    return send_update(client, resolved, current, body, target_cluster, watching, f"Starting {name!r} again.",
                       action="started")


def send_update(client: BentoCloudClient, resolved: ResolvedContext, current: Deployment, body: Mapping[str, Any],
                cluster: str, watching: Watching, note: str = "", changes: ChangePlan | None = None, *,
                action: str = "updated") -> DeploymentView:
    """PUT the body, then follow (or, with ``wait``, wait for) the *new* revision to ready; into the ledger."""
    name = current.name
    updated = same_name(client.update_deployment(name, body, cluster), name)
    note = " ".join(filter(None, [note, track(resolved, updated, updated.cluster or cluster, action,
                                              watching.expires_at)]))
    if watching.wait:
        updated = wait_for(client, WatchState(name, previous_revision=current.revision, timeout=watching.timeout),
                           cluster)
    follow = None if watching.wait else _follow(resolved, updated, updated.cluster or cluster, Goal.READY,
                                                watching.deadline, current.revision)
    revision = f"New revision {updated.revision} (was {current.revision})."
    return DeploymentView(updated, note=" ".join(filter(None, [note, revision])),
                          previous_revision=current.revision, follow=follow, changes=changes)


def terminate(name: str, cluster: str | None = None, wait: bool = False, timeout: float = DEFAULT_TIMEOUT,
              context: str | None = None, confirm: str | None = None) -> DeploymentView:
    """Stop a deployment's replicas (it can be restarted with an update); the result follows it to the end.
    A protected context needs ``confirm=name``."""
    check_timeout(timeout)
    started = time.monotonic()
    client, resolved = client_for(context)
    require_typed_name(resolved, "deployment", name, confirm)
    deployment = client.terminate_deployment(name, cluster)
    ledger.mark(resolved.context.name, name, deployment.cluster or cluster, "terminated")
    ttls.cancel_expiry(resolved.context.name, name, deployment.cluster or cluster)
    if wait:
        return DeploymentView(wait_for(client, WatchState(name, goal=Goal.TERMINATED, timeout=timeout), cluster))
    return DeploymentView(deployment, follow=_follow(resolved, deployment, cluster, Goal.TERMINATED,
                                                     started + timeout))


def delete(name: str, cluster: str | None = None, context: str | None = None,
           confirm: str | None = None) -> Message:
    """Delete a deployment for good (a protected context needs ``confirm=name``); the ledger forgets it."""
    client, resolved = client_for(context)
    require_typed_name(resolved, "deployment", name, confirm)
    deleted = client.delete_deployment(name, cluster)
    where = deleted.cluster or cluster  # not every cluster's same-named deployment: the one the server deleted
    ledger.forget_name(resolved.context.name, name, where)
    ttls.cancel_expiry(resolved.context.name, name, where)
    return Message(f"Deleted deployment {name!r} (context {resolved.context.name!r}).")


# ----------------------------------------------------------------------------------------------- helpers


def check_output(output: str) -> None:
    """``output`` is one of :data:`OUTPUTS`."""
    if output not in OUTPUTS:
        raise InvalidInputError(f"output must be one of {', '.join(OUTPUTS)}, not {output!r}")


def check_timeout(timeout: float) -> None:
    """A watch's timeout is a finite, positive number of seconds, at most a week (no NaN, no infinity: a
    ``--wait --timeout inf`` would never return)."""
    check_duration(timeout, maximum=MAX_WATCH_TIMEOUT)


def _copy(value: Mapping[str, Any] | str | None) -> dict[str, Any] | str | None:
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value


_OPTION_KEYS = ("bento", "name", "cluster", "access_authorization", "scaling_min", "scaling_max", "instance_type",
                "strategy", "envs", "labels", "secrets", "config_file", "config_dict")


def options_from(values: Mapping[str, Any]) -> DeployOptions:
    """The :class:`DeployOptions` of a verb's keywords (None lists empty; the caller's dict copied, never mutated)."""
    given = {key: values[key] for key in _OPTION_KEYS if key in values}
    for key in ("envs", "labels", "secrets"):
        given[key] = tuple(given.get(key) or ())
    given["config_dict"] = _copy(given.get("config_dict"))
    return DeployOptions(**given)


@dataclass(frozen=True)
class Watching:
    """A verb's ``wait``/``timeout`` and when it started (the follow's deadline counts from then), and the
    expiry of its ``ttl`` (epoch seconds, None without one)."""

    wait: bool
    timeout: float
    started: float
    expires_at: float | None = None
    ttl: float | None = None  # seconds; the expiry counts from when the request is sent (after a build)

    @property
    def deadline(self) -> float:
        return self.started + self.timeout

    def stamped(self) -> Watching:
        """The same, its expiry counted from now: a build or push before the request does not eat the TTL."""
        return self if self.ttl is None else replace(self, expires_at=time.time() + self.ttl)


def watching_for(wait: bool, timeout: float, ttl: str | float | None) -> Watching:
    """A verb's :class:`Watching`, its ``ttl`` checked before anything is sent."""
    seconds = ttls.parse_ttl(ttl)
    return Watching(wait, timeout, time.monotonic(), None if seconds is None else time.time() + seconds, seconds)


def same_name(answer: Deployment, asked: object) -> Deployment:
    """The server's answer, if it is about the deployment asked for: what goes into the ledger, and what a
    TTL timer or a teardown terminates later, is never a name only the server chose (another deployment).

    Raises:
        ProtocolError: the answer names another deployment (nothing is recorded or scheduled).
    """
    if isinstance(asked, str) and asked and answer.name.lower() != asked.lower():  # a server may lower-case
        raise ProtocolError(f"BentoCloud answered about deployment {answer.name!r}, not {asked!r}: nothing was "
                            "recorded in this kernel's ledger and no TTL timer runs for it",
                            hint=Hint("status", {"name": asked}))
    return answer


def track(resolved: ResolvedContext, deployment: Deployment, cluster: str, action: str,
          expires_at: float | None) -> str:
    """Into the ledger; with a TTL, the timer that ends it. Returns what to tell about the TTL."""
    ledger.record(resolved.context.name, deployment.name, cluster, action=action, expires_at=expires_at)
    if expires_at is None:
        return ""
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(expires_at))
    if ttls.schedule_expiry(resolved, deployment.name, cluster, expires_at):
        return f"TTL: terminated at {when} (a timer in this kernel)."
    return (f"TTL: expires at {when} (labelled); no timer runs here (no event loop): terminate it yourself, or "
            "run it from a notebook.")


def _follow(resolved: ResolvedContext, deployment: Deployment, cluster: str | None, goal: Goal, deadline: float,
            previous_revision: str | None = None) -> Follow:
    return Follow(deployment.name, deployment.cluster or cluster, goal, resolved, deadline, deployment,
                  previous_revision)
