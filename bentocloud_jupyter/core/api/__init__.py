"""The verbs every front end calls: the Python API, and what each magic runs after parsing its line.

Keyword names and defaults here are the single source of truth; the magics' parsers follow them (a
test checks that they agree). Each verb resolves the credentials afresh (so switching contexts takes
effect at once), reuses the context's shared client, and returns a value that displays itself.

>>> import bentocloud_jupyter as bc                                   # doctest: +SKIP
>>> bc.deploy("summarizer:v3", name="summarizer", scaling_max=3, wait=True)
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.build import build_bento, is_project_folder
from bentocloud_jupyter.core.artifacts.progress import format_bytes
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.artifacts.transfer import PullResult, PushResult
from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.calls.invoke import CallResult, OpenAPIView
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.auth import LoginResult
from bentocloud_jupyter.core.credentials.auth import login as _login
from bentocloud_jupyter.core.credentials.config import DEFAULT_ENDPOINT
from bentocloud_jupyter.core.deployments.options import (
    DeployOptions,
    build_create_request,
    build_update_request,
    describe_request,
    load_config_source,
    parse_labels,
)
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT, Goal, WatchState, wait_for
from bentocloud_jupyter.core.display import format_time
from bentocloud_jupyter.core.errors import DeploymentFailed, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.logs.follow import LogFollower, LogsView, recent_logs
from bentocloud_jupyter.core.logs.protocol import DEFAULT_TAIL, WsEndpoint
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.session import INSECURE_KEY, client_for
from bentocloud_jupyter.core.results import (
    ContextsView,
    DeploymentsView,
    DeploymentView,
    DryRun,
    Message,
    TableView,
    WhoAmI,
    deployment_summary,
    render_summaries,
)
from bentocloud_jupyter.core.tokens import Token

__all__ = ["bentos", "call", "clusters", "contexts", "delete", "deploy", "get", "instance_types", "list_deployments",
           "login", "logout", "logs", "models", "openapi", "pull", "push", "status", "terminate", "update",
           "use_context", "whoami"]

OUTPUTS = ("table", "json", "yaml")


def login(endpoint: str = DEFAULT_ENDPOINT, api_token: str | Token | None = None, context: str | None = None,
          insecure: bool = False, timeout: float = 30.0) -> LoginResult:
    """Validate a token and save it as a context (see :func:`.auth.login`)."""
    result = _login(endpoint, api_token, context, insecure=insecure, timeout=timeout)
    if insecure:  # remember the user's explicit choice for this context's later calls
        saved = config.get_context(result.context)
        config.save_context(config.Context(saved.name, saved.endpoint, saved.api_token, saved.email,
                                           {**saved.extra, INSECURE_KEY: True}))
    return result


def logout(context: str | None = None) -> Message:
    """Remove a context from the credentials file (default: the current one).

    Raises:
        ContextNotFoundError: no such context.
    """
    name = context or config.load_config().current_context_name
    after = config.remove_context(name)
    current = f"the current context is now {after.current_context_name!r}" if after.contexts else "no contexts left"
    return Message(f"Removed context {name!r} from {after.path}; {current}.")


def contexts() -> ContextsView:
    """The saved contexts, the current one, and whether ``BENTO_CLOUD_API_KEY`` overrides them."""
    cfg = config.load_config()
    override = config.resolve_context() if "BENTO_CLOUD_API_KEY" in os.environ else None
    return ContextsView(cfg.contexts, cfg.current_context_name, cfg.path or config.credentials_path(), override,
                        cfg.problems)


def use_context(name: str) -> ContextsView:
    """Make ``name`` the current context in the file, so the ``bentoml`` CLI follows too.

    Raises:
        ContextNotFoundError: no such context.
    """
    config.set_current_context(name)
    return contexts()


def whoami(context: str | None = None) -> WhoAmI:
    """Who the resolved credentials belong to, at which endpoint, and why they were chosen."""
    client, resolved = client_for(context)
    return WhoAmI(resolved, client.current_user(), client.current_organization())


def list_deployments(cluster: str | None = None, all: bool = False, search: str | None = None,
                     labels: Sequence[str] = (), output: str = "table", context: str | None = None) -> Any:
    """Deployments as a table, or as JSON/YAML (one object per deployment) with ``output``."""
    _check_output(output)
    client, resolved = client_for(context)
    query = " ".join(f"label:{item['key']}={item['value']}" for item in parse_labels(labels)) or None
    found = client.list_deployments(cluster=cluster, all=True if all or cluster is None else None, search=search,
                                    q=query)
    if output != "table":
        return render_summaries([deployment_summary(d) for d in found], output)
    return DeploymentsView(found, resolved.context.name)


def get(name: str, cluster: str | None = None, output: str = "table", context: str | None = None) -> Any:
    """One deployment as a card, or as JSON/YAML with ``output``."""
    _check_output(output)
    client, _ = client_for(context)
    deployment = client.get_deployment(name, cluster)
    if output != "table":
        return render_summaries(deployment_summary(deployment), output)
    return DeploymentView(deployment)


def status(name: str, cluster: str | None = None, wait: bool = False, timeout: float = DEFAULT_TIMEOUT,
           context: str | None = None) -> DeploymentView:
    """The deployment's current status; with ``wait``, block until it settles (ready, failed, terminated).

    A deployment that settles in a failure status is reported, not raised: this is a question, not a
    deploy (use ``deploy(..., wait=True)`` to fail a script on failure).

    Raises:
        WatchTimeout: with ``wait``, when it does not settle in time.
    """
    client, _ = client_for(context)
    deployment = client.get_deployment(name, cluster)
    if not wait:
        return DeploymentView(deployment)
    state = WatchState(name, goal=Goal.SETTLED, timeout=timeout)
    try:
        return DeploymentView(wait_for(client, state, cluster))
    except DeploymentFailed as failure:
        return DeploymentView(state.deployment or deployment, note=str(failure))


def deploy(bento: str | None = None, name: str | None = None, cluster: str | None = None,
           access_authorization: bool | None = None, scaling_min: int | None = None,
           scaling_max: int | None = None, instance_type: str | None = None, strategy: str | None = None,
           labels: Sequence[str] = (), envs: Sequence[str] = (), secrets: Sequence[str] = (),
           config_file: str | None = None, config_dict: Mapping[str, Any] | str | None = None,
           wait: bool = False, timeout: float = DEFAULT_TIMEOUT, dry_run: bool = False,
           context: str | None = None) -> DeploymentView | DryRun:
    """Create a deployment of a bento on BentoCloud (the options of ``bentoml deploy``).

    ``bento`` is ``name:version`` or ``name`` (its latest version). Required envs of the bento's manifest
    are checked before anything is sent. Returns at once unless ``wait``; ``dry_run`` only shows the
    request.

    Raises:
        InvalidInputError: bad options, a local path (push it first), missing required envs.
        NotFoundError: no such bento or secret. DeploymentFailed, WatchTimeout: with ``wait``.
    """
    options = DeployOptions(bento, name, cluster, access_authorization, scaling_min, scaling_max,
                            instance_type, strategy, tuple(envs), tuple(labels), tuple(secrets), config_file,
                            _copy(config_dict))
    client, _ = client_for(context)
    source = _source(options)
    tag = str(source.get("bento") or options.bento or "")
    remote = _resolve_bento(client, tag)
    secret_keys = _secret_env_keys(client, options.secrets or source.get("secrets") or (),
                                   options.cluster or source.get("cluster"))
    body, target_cluster = build_create_request(_with_bento(options, remote.tag), remote.entry_service,
                                                list(remote.envs), secret_keys)
    if dry_run:
        return _dry_run(body, target_cluster, remote.entry_service)
    created = client.create_deployment(body, target_cluster)
    if wait:
        created = wait_for(client, WatchState(created.name, timeout=timeout), created.cluster)
    return DeploymentView(created)


def update(name: str, bento: str | None = None, cluster: str | None = None,
           access_authorization: bool | None = None, scaling_min: int | None = None,
           scaling_max: int | None = None, instance_type: str | None = None, strategy: str | None = None,
           labels: Sequence[str] = (), envs: Sequence[str] = (), secrets: Sequence[str] = (),
           config_file: str | None = None, config_dict: Mapping[str, Any] | str | None = None,
           wait: bool = False, timeout: float = DEFAULT_TIMEOUT, dry_run: bool = False,
           context: str | None = None) -> DeploymentView | DryRun:
    """Change a deployment; the given values are merged into its current configuration.

    With ``wait`` it blocks until the *new* revision is ready (never the old one).

    Raises:
        NotFoundError: no such deployment or bento. DeploymentFailed, WatchTimeout: with ``wait``.
    """
    options = DeployOptions(bento, None, cluster, access_authorization, scaling_min, scaling_max, instance_type,
                            strategy, tuple(envs), tuple(labels), tuple(secrets), config_file, _copy(config_dict))
    client, _ = client_for(context)
    current = client.get_deployment(name, cluster)
    tag = str(_source(options).get("bento") or options.bento or current.bento)
    remote = _resolve_bento(client, tag)
    body, target_cluster = build_update_request(dict(current.raw), _with_bento(options, remote.tag),
                                                remote.entry_service)
    if dry_run:
        return _dry_run(body, target_cluster, remote.entry_service, "PUT", f"/api/v2/deployments/{name}")
    updated = client.update_deployment(name, body, target_cluster)
    if wait:
        updated = wait_for(client, WatchState(name, previous_revision=current.revision, timeout=timeout),
                           target_cluster)
    return DeploymentView(updated, note=f"New revision {updated.revision} (was {current.revision}).",
                          previous_revision=current.revision)


def terminate(name: str, cluster: str | None = None, wait: bool = False, timeout: float = DEFAULT_TIMEOUT,
              context: str | None = None) -> DeploymentView:
    """Stop a deployment's replicas (it can be restarted with an update)."""
    client, _ = client_for(context)
    deployment = client.terminate_deployment(name, cluster)
    if wait:
        deployment = wait_for(client, WatchState(name, goal=Goal.TERMINATED, timeout=timeout), cluster)
    return DeploymentView(deployment)


def delete(name: str, cluster: str | None = None, context: str | None = None) -> Message:
    """Delete a deployment for good."""
    client, resolved = client_for(context)
    client.delete_deployment(name, cluster)
    return Message(f"Deleted deployment {name!r} (context {resolved.context.name!r}).")


def push(tag: str, force: bool = False, context: str | None = None) -> PushResult:
    """Push a bento (models first) or a model from the local store, with progress (bytes, rate, ETA).

    Raises:
        NotFoundError: ``tag`` is in neither local store. APIError, TransportError: the upload failed.
    """
    client, _ = client_for(context)
    store = LocalStore()
    kind = "bento" if _local_kind(store, tag) == "bento" else "model"
    return transfer.push(client, tag, kind=kind, force=force, store=store, progress=session.settings.progress())


def pull(tag: str, output: str | None = None, force: bool = False, context: str | None = None) -> PullResult:
    """Pull a bento (with the models it needs) or a model into the local store, or into one ``output`` file.

    Raises:
        NotFoundError: no bento or model ``tag`` on BentoCloud. InvalidInputError: an unsafe archive.
    """
    client, _ = client_for(context)
    name, version = parse_tag(tag)
    try:
        client.get_bento(name, version)
        kind = "bento"
    except NotFoundError:
        client.get_model(name, version)  # raises NotFoundError naming the model when neither exists
        kind = "model"
    return transfer.pull(client, tag, kind=kind, output=output, force=force, progress=session.settings.progress())


def bentos(context: str | None = None) -> TableView:
    """Bentos on BentoCloud, newest first: size, upload status, image build status, build time."""
    client, _ = client_for(context)
    rows = [[b.tag, format_bytes(b.size_bytes or 0), b.upload_status, b.image_build_status,
             format_time(b.created_at)] for b in client.list_bentos()]
    return TableView(["bento", "size", "upload", "image build", "built"], rows, "No bentos yet: push one.")


def models(context: str | None = None) -> TableView:
    """Models on BentoCloud, newest first: module, size, upload status, build time."""
    client, _ = client_for(context)
    rows = [[m.tag, m.module, format_bytes(m.size_bytes or 0), m.upload_status, format_time(m.created_at)]
            for m in client.list_models()]
    return TableView(["model", "module", "size", "upload", "built"], rows, "No models yet.")


def instance_types(cluster: str | None = None, context: str | None = None) -> TableView:
    """Instance types you can pass to ``instance_type``."""
    client, _ = client_for(context)
    rows = [[t.name, t.price, t.cpu or "", t.memory or "", t.gpu or "", t.gpu_type or "", t.description]
            for t in client.list_instance_types(cluster)]
    return TableView(["name", "price", "cpu", "memory", "gpu", "gpu type", "description"], rows,
                     "No instance types.")


def clusters(context: str | None = None) -> TableView:
    """Clusters of your organisation (the first one is the default)."""
    client, _ = client_for(context)
    rows = [[c.name, "yes" if c.is_first else "", c.description] for c in client.list_clusters()]
    return TableView(["name", "default", "description"], rows, "No clusters.")


def logs(name: str, follow: bool = False, tail: int = DEFAULT_TAIL, cluster: str | None = None,
         context: str | None = None) -> LogsView | LogFollower:
    """The last ``tail`` log lines of each of the deployment's containers (the image builder's while it builds).

    With ``follow``, a started :class:`~.logfollow.LogFollower` instead: an asyncio task on the running loop that
    keeps the last 500 lines (``%bentocloud logs NAME --follow`` shows it live; ``.stop()`` ends it).

    Raises:
        NotFoundError: no such deployment. AuthenticationError, ConnectError, APIError: the websocket failed.
        InvalidInputError: ``tail`` < 1, or ``follow`` without a running event loop.
    """
    if tail < 1:
        raise InvalidInputError(f"tail must be at least 1, not {tail}.")
    client, resolved = client_for(context)
    if follow:
        deployment = client.get_deployment(name, cluster)  # fail fast on an unknown name
        return LogFollower(name, context=context, cluster=cluster, tail=tail, deployment=deployment).start()
    return recent_logs(client, WsEndpoint.for_context(resolved), name, cluster, tail)


def call(name: str, api_name: str, json: Any = None, file: str | None = None,
         context: str | None = None) -> CallResult:
    """Call ``api_name`` of the ready deployment ``name`` with a JSON body (dict, or JSON text) or a file's bytes.

    The token is sent (as ``Authorization: Bearer``) only when the deployment has access authorization.

    Raises:
        InvalidInputError: not ready, bad body. NotFoundError: no such deployment or API.
        AuthenticationError, ValidationError, ServerError: the API refused or failed (its message quoted).
    """
    return invoke.call(name, api_name, json, file, context)


def openapi(name: str, context: str | None = None) -> OpenAPIView:
    """The APIs the ready deployment ``name`` documents (its ``docs.json``), with their request fields."""
    return invoke.openapi(name, context)


# ----------------------------------------------------------------------------------------------- helpers


def _local_kind(store: LocalStore, tag: str, required: bool = True) -> str | None:
    """Whether ``tag`` is a local bento or a local model (bentos win, as in ``bentoml push``)."""
    for kind, getter in (("bento", store.get_bento), ("model", store.get_model)):
        try:
            getter(tag)
            return kind
        except NotFoundError:
            continue
    if required:
        raise NotFoundError(f"{tag!r} is neither a bento nor a model in the local store {store.home}; "
                            "check `bentoml list` / `bentoml models list`.")
    return None


def _check_output(output: str) -> None:
    if output not in OUTPUTS:
        raise InvalidInputError(f"-o must be one of {', '.join(OUTPUTS)}, not {output!r}")


def _copy(value: Mapping[str, Any] | str | None) -> dict[str, Any] | str | None:
    return copy.deepcopy(dict(value)) if isinstance(value, Mapping) else value


def _source(options: DeployOptions) -> dict[str, Any]:
    return load_config_source(options) or {}


def _resolve_bento(client: Any, tag: str) -> Any:
    """The bento on BentoCloud for ``tag``, as ``bentoml deploy`` resolves it.

    A project folder is built (needs ``bentoml``) and pushed; a bento only in the local store is pushed;
    a bento without a manifest gets a clear message.
    """
    if not tag:
        raise InvalidInputError("Which bento? Give one like `summarizer:v3` (see `%bentocloud bentos`).")
    if is_project_folder(tag):
        tag = build_bento(tag)
    elif os.path.exists(tag) or tag.startswith((".", "/", "~")):
        raise InvalidInputError(f"{tag!r} is not a bento project folder (no bentofile.yaml or service.py); "
                                "give a folder to build, or a bento tag.")
    repo, version = parse_tag(tag)
    try:
        bento = client.get_bento(repo, version)
    except NotFoundError:
        store = LocalStore()
        if _local_kind(store, tag, required=False) != "bento":
            raise
        transfer.push(client, tag, kind="bento", store=store, progress=session.settings.progress())
        bento = client.get_bento(repo, store.get_bento(tag).version)
    if not bento.has_manifest:
        raise InvalidInputError(f"Bento {bento.tag} has no manifest on BentoCloud (its upload did not finish); "
                                "push it again.")
    return bento


def _secret_env_keys(client: Any, names: Iterable[str], cluster: str | None) -> list[str]:
    keys: list[str] = []
    for secret in names:
        keys += client.get_secret(secret, cluster).env_keys
    return keys


def _with_bento(options: DeployOptions, tag: str) -> DeployOptions:
    """The options with the resolved ``name:version`` (a config source accepts it as a fill-in)."""
    return dataclasses.replace(options, bento=tag)


def _dry_run(body: Mapping[str, Any], cluster: str | None, service: str, method: str = "POST",
             path: str = "/api/v2/deployments") -> DryRun:
    masked = copy.deepcopy(dict(body))
    for env in masked.get("envs") or []:
        env["value"] = "***"
    return DryRun(body, cluster, service, describe_request(body, cluster), method, path, masked)

