"""Where a deployment's bento comes from: BentoCloud, the local store (pushed first), or a project folder
(built, then pushed), resolved the way ``bentoml deploy`` does; plus the request as ``dry_run`` shows it."""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.build import build_bento, is_project_folder
from bentocloud_jupyter.core.artifacts.progress import TextProgress
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.artifacts.transfer import Progress
from bentocloud_jupyter.core.deployments.options import DeployOptions, describe_request
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Bento
from bentocloud_jupyter.core.results import DryRun

__all__ = ["ProgressFactory", "dry_run", "local_kind", "progress_display", "resolve_bento", "secret_env_keys",
           "with_bento"]

ProgressFactory = Callable[[], Progress]
"""Makes the progress display of one transfer, called only once a transfer really starts."""


def progress_display(factory: ProgressFactory | None) -> Progress:
    """The display for a transfer that is starting now: the front end's, or a text line (bytes, rate, ETA)."""
    return factory() if factory is not None else TextProgress()


def local_kind(store: LocalStore, tag: str, required: bool = True) -> str | None:
    """Whether ``tag`` is a local bento or a local model (bentos win, as in ``bentoml push``).

    Raises:
        NotFoundError: neither, when ``required``.
    """
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


def resolve_bento(client: BentoCloudClient, tag: str, progress: ProgressFactory | None = None) -> Bento:
    """The bento on BentoCloud for ``tag``: a project folder is built and pushed, a local-only bento pushed.

    Raises:
        InvalidInputError: no tag, a path that is no project, a bento without a manifest. NotFoundError.
    """
    if not tag:
        raise InvalidInputError("Which bento? Give one like summarizer:v3.",
                                hint=Hint("bentos", why="to list the bentos on BentoCloud"))
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
        if local_kind(store, tag, required=False) != "bento":
            raise
        transfer.push(client, tag, kind="bento", store=store, progress=progress_display(progress))
        bento = client.get_bento(repo, store.get_bento(tag).version)
    if not bento.has_manifest:
        raise InvalidInputError(f"Bento {bento.tag} has no manifest on BentoCloud (its upload did not finish); "
                                "push it again.")
    return bento


def secret_env_keys(client: BentoCloudClient, names: Iterable[str], cluster: str | None) -> list[str]:
    """The env keys the named secrets provide (they satisfy the bento's required envs), once each is known
    to live in the deployment's cluster (BentoCloud refuses a secret of another cluster): checked before sending.

    Raises:
        NotFoundError: a secret that does not exist there (with a hint to list them).
    """
    keys: list[str] = []
    target = cluster
    for secret in names:
        try:
            found = client.get_secret(secret, cluster)
        except NotFoundError:
            found = None
        if found is not None and not cluster and found.cluster:
            if target is None:  # the default cluster is where a deployment without --cluster goes
                clusters = client.list_clusters()
                first = [c.name for c in clusters if c.is_first] or [c.name for c in clusters[:1]]
                target = first[0] if first else found.cluster
            found = found if found.cluster == target else None
        if found is None:
            where = f"cluster {target!r}" if target else "the target cluster"
            raise NotFoundError(f"No secret {secret!r} in {where}: a deployment can only use secrets of its own "
                                "cluster. Nothing was sent.", status=404, hint=Hint("secrets", why="to list them"))
        keys += found.env_keys
    return keys


def with_bento(options: DeployOptions, tag: str) -> DeployOptions:
    """The options with the resolved ``name:version`` (a config source accepts it as a fill-in)."""
    return dataclasses.replace(options, bento=tag)


def dry_run(body: Mapping[str, Any], cluster: str | None, service: str, method: str = "POST",
            path: str = "/api/v2/deployments") -> DryRun:
    """The request as ``dry_run`` shows it: envs' values masked, the service key it resolved."""
    masked = copy.deepcopy(dict(body))
    for env in masked.get("envs") or []:
        env["value"] = "***"
    return DryRun(body, cluster, service, describe_request(body, cluster), method, path, masked)
