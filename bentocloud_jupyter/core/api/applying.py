"""``apply``: create a deployment if it does not exist, otherwise replace its configuration.

As ``bentoml deployment apply`` does, without its bugs: a config that omits the cluster applies to the
deployment where it is (bentoml refuses: "cluster cannot be changed"), a config that omits the name takes
the one given on the command line (bentoml creates a second deployment with a generated name), and the
bento arguments reach the build of a project folder. Before it changes anything it computes the change,
field by field (:class:`~.plan.ChangePlan`): ``dry_run`` returns the whole plan and sends nothing, an
unchanged config sends nothing, and a change is sent and followed live to the new revision.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bentocloud_jupyter.core.api.bento_args_build import prebuild, unused_args_note
from bentocloud_jupyter.core.api.bento_source import ProgressFactory, resolve_bento, secret_env_keys, with_bento
from bentocloud_jupyter.core.api.deployments import (
    Watching,
    check_timeout,
    create_with,
    options_from,
    send_update,
    watching_for,
)
from bentocloud_jupyter.core.credentials.config import ResolvedContext
from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args
from bentocloud_jupyter.core.deployments.options import DeployOptions, build_replace_request, load_config_source
from bentocloud_jupyter.core.deployments.plan import ChangePlan, change_plan
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.guardrails.confirm import require_typed_name
from bentocloud_jupyter.core.guardrails.labels import check_not_ours, for_change
from bentocloud_jupyter.core.hints import Hint, sentence
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import DeploymentView, DryRun

__all__ = ["apply", "find_existing"]


def apply(bento: str | None = None, name: str | None = None, cluster: str | None = None,
          access_authorization: bool | None = None, scaling_min: int | None = None,
          scaling_max: int | None = None, instance_type: str | None = None, strategy: str | None = None,
          labels: Sequence[str] | None = (), envs: Sequence[str] | None = (), secrets: Sequence[str] | None = (),
          config_file: str | None = None, config_dict: Mapping[str, Any] | str | None = None,
          args: Sequence[str] | None = (), arg_file: str | None = None,
          wait: bool = False, timeout: float = DEFAULT_TIMEOUT, dry_run: bool = False,
          context: str | None = None, ttl: str | float | None = None, confirm: str | None = None, *,
          progress: ProgressFactory | None = None) -> DeploymentView | DryRun | ChangePlan:
    """Create the deployment, or replace the configuration of the existing one (the options of ``deploy``).

    Replace, not merge: what the config leaves out takes its default, except the bento and the cluster,
    which stay the deployment's own. The result carries the change plan and follows the new revision;
    ``dry_run`` returns the request (new deployment) or the whole plan (existing one), nothing sent.
    ``ttl`` labels it to expire and starts its timer; in a protected context, replacing needs ``confirm=name``.

    Raises:
        InvalidInputError: bad options or config, another cluster than the deployment's, missing envs.
        NotFoundError: no such bento or secret. DeploymentFailed, WatchTimeout: with ``wait``.
    """
    check_timeout(timeout)
    watching = watching_for(wait, timeout, ttl)
    check_not_ours(labels)
    options, bento_args = options_from(locals()), parse_bento_args(args, arg_file)
    source = load_config_source(options) or {}
    client, resolved = client_for(context)
    target = source.get("name") or options.name
    if target and not dry_run:  # a dry run sends nothing, so it asks for nothing
        require_typed_name(resolved, "deployment", str(target), confirm)
    current = find_existing(client, source.get("name") or options.name, source.get("cluster") or options.cluster)
    if current is not None:
        return _replace(client, resolved, current, options, bento_args, watching, dry_run, progress)
    if not (source.get("bento") or options.bento):
        raise InvalidInputError("Which bento? The deployment does not exist yet: give bento: in the config.",
                                hint=Hint("bentos", why="to list the bentos on BentoCloud"))
    return create_with(client, resolved, options, bento_args, watching, dry_run, progress)


def find_existing(client: BentoCloudClient, name: str | None, cluster: str | None) -> Deployment | None:
    """The deployment ``name`` (in ``cluster``, or wherever it is when no cluster is given), or None.

    Raises:
        InvalidInputError: no cluster given and deployments of that name in several clusters.
    """
    if not name:
        return None
    try:
        return client.get_deployment(name, cluster)
    except NotFoundError:
        if cluster is not None:
            return None
    found = [d for d in client.list_deployments(all=True, search=name) if d.name == name]
    if len(found) > 1:
        where = ", ".join(sorted(d.cluster for d in found))
        raise InvalidInputError(f"deployments named {name!r} exist in clusters {where}; give cluster: in the "
                                "config (or --cluster) to say which")
    return client.get_deployment(name, found[0].cluster) if found else None


def _replace(client: BentoCloudClient, resolved: ResolvedContext, current: Deployment, options: DeployOptions,
             bento_args: Mapping[str, Any], watching: Watching, dry_run: bool,
             progress: ProgressFactory | None) -> DeploymentView | ChangePlan:
    source = load_config_source(options) or {}
    tag = str(source.get("bento") or options.bento or current.bento)
    remote = resolve_bento(client, prebuild(tag, bento_args), progress)
    keys = secret_env_keys(client, options.secrets or source.get("secrets") or (), current.cluster)
    body, cluster = build_replace_request(dict(current.raw), with_bento(options, remote.tag), remote.entry_service,
                                          [dict(env) for env in remote.envs], keys)
    watching = watching.stamped()
    body["labels"] = for_change(body.get("labels"), current.labels, watching.expires_at)
    plan = change_plan(current.raw, body, cluster, whole=dry_run)
    if dry_run:
        return plan
    if not plan.changed:
        stopped = (f" It is terminated: {sentence(Hint('start', {'name': current.name}))}."
                   if current.status == "terminated" else "")
        return DeploymentView(current, note=f"No changes: {current.name!r} already has this configuration; "
                                            f"nothing sent.{stopped}")
    return send_update(client, resolved, current, body, cluster, watching, unused_args_note(tag, bento_args),
                       changes=plan)
