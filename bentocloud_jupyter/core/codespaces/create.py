"""Making a codespace the way ``bentoml code`` does: a bare bento built with bentoml and pushed, a dev
deployment created with our labels (and in this kernel's ledger), then the wait for the api-server pod.
Blocking work: the handle runs it in a worker thread when a loop runs."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bentocloud_jupyter.core.codespaces.bare import build_and_push_bare
from bentocloud_jupyter.core.codespaces.engine import ABORTED, API_SERVER_LABEL
from bentocloud_jupyter.core.codespaces.handle import Codespace
from bentocloud_jupyter.core.deployments.options import DeployOptions, build_create_request
from bentocloud_jupyter.core.errors import DeploymentFailed, NotFoundError, TransportError, WatchTimeout
from bentocloud_jupyter.core.guardrails import ledger
from bentocloud_jupyter.core.logs.pods import PodPlace
from bentocloud_jupyter.core.logs.protocol import WsEndpoint, deployment_pods_sync
from bentocloud_jupyter.core.rest.models import Bento, Deployment
from bentocloud_jupyter.core.rest.session import client_for

__all__ = ["POD_INTERVAL", "POD_TIMEOUT", "Creation", "is_dev", "new_name", "wait_for_api_server"]

POD_TIMEOUT = 600.0
"""How long to wait for the api-server pod to run (bentoml: 600 s)."""
POD_INTERVAL = 2.0


def is_dev(deployment: Deployment) -> bool:
    """Whether a deployment is a codespace (``manifest.dev``, as BentoCloud marks one)."""
    manifest = deployment.raw.get("manifest")
    return isinstance(manifest, Mapping) and manifest.get("dev") is True


def new_name(project: str) -> str:
    """A codespace name from the project folder's name and a random suffix (a valid deployment name)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", project.lower()).strip("-")[:40].strip("-") or "codespace"
    return f"{slug}-{secrets.token_hex(3)}"


def _log(handle: Codespace, line: str) -> None:
    handle.state.logs.append(line)
    handle.state.changed()


def wait_for_api_server(handle: Codespace, interval: float | None = None, timeout: float = POD_TIMEOUT) -> None:
    """Until the api-server pod runs (its status in ``state.pod_status``).

    Raises:
        DeploymentFailed: the codespace failed or was terminated. WatchTimeout: no pod within ``timeout``.
    """
    state = handle.state
    client, _ = client_for(handle.resolved.context.name)
    ws, deadline = WsEndpoint.for_context(handle.resolved), time.monotonic() + timeout
    while time.monotonic() < deadline:
        deployment = client.get_deployment(state.name, state.cluster)
        if deployment.status in ABORTED:
            raise DeploymentFailed(f"Codespace {state.name!r} is {deployment.status}; terminate it and start "
                                   "a new one.", name=state.name, status=deployment.status)
        try:
            pods = deployment_pods_sync(ws, PodPlace.of(deployment))
        except (NotFoundError, TransportError):
            pods = []
        server = next((p for p in pods if p.labels.get(API_SERVER_LABEL) == "api-server"
                       or not p.is_image_builder), None)
        if server is not None and server.phase:
            state.pod_status = server.phase
            state.changed()
        if server is not None and server.phase == "Running":
            return
        time.sleep(POD_INTERVAL if interval is None else interval)
    raise WatchTimeout(f"The api-server pod of codespace {state.name!r} did not run within {timeout:g} s; "
                       "look at its logs, or attach again later.", name=state.name)


@dataclass
class Creation:
    """What :meth:`prepare` needs to make the codespace (checked by the verb before anything is sent)."""

    cluster: str | None = None
    instance_type: str | None = None
    envs: Sequence[str] = ()
    secrets: Sequence[str] = ()
    bento_args: Mapping[str, Any] = field(default_factory=dict)
    expires_at: float | None = None

    def build(self, handle: Codespace) -> Bento:
        """A bare bento of the project, pushed bare (as ``bentoml code``); the bento on BentoCloud."""
        client, _ = client_for(handle.resolved.context.name)
        return build_and_push_bare(client, handle.state.project, lambda line: _log(handle, line),
                                   dict(self.bento_args))

    def prepare(self, handle: Codespace) -> None:
        """Build, push, create the dev deployment (our labels, the ledger), then wait for its api-server."""
        from bentocloud_jupyter.core.api.bento_source import secret_env_keys

        state = handle.state
        client, resolved = client_for(handle.resolved.context.name)
        remote = self.build(handle)
        options = DeployOptions(bento=remote.tag, name=state.name, cluster=self.cluster,
                                instance_type=self.instance_type, envs=tuple(self.envs), secrets=tuple(self.secrets))
        keys = secret_env_keys(client, options.secrets, self.cluster)
        body, target = build_create_request(options, remote.entry_service, [dict(e) for e in remote.envs], keys)
        body["dev"] = True
        body["labels"] = [*(body.get("labels") or []), *ledger.labels_for(self.expires_at)]
        created = client.create_deployment(body, target)
        state.cluster = created.cluster or state.cluster
        state.changed()
        ledger.record(resolved.context.name, created.name, created.cluster or "", kind="codespace",
                      expires_at=self.expires_at)
        wait_for_api_server(handle)

    def rebuild(self, handle: Codespace) -> None:
        """The dependency update ``bentoml code`` does: a new bare bento, the codespace updated to it."""
        from bentocloud_jupyter.core.api.deployments import update

        update(handle.state.name, bento=self.build(handle).tag, cluster=handle.state.cluster,
               context=handle.resolved.context.name)
        ledger.record(handle.resolved.context.name, handle.state.name, handle.state.cluster or "",
                      kind="codespace", action="updated")
        wait_for_api_server(handle)
