"""Where a deployment's logs come from: its pods' place, the pods, and which containers to read.

Plain data read from BentoCloud's JSON, no I/O; :mod:`.protocol` asks the websockets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bentocloud_jupyter.core.errors import NotFoundError
from bentocloud_jupyter.core.rest.models import Deployment

__all__ = ["BUILDER_LABEL", "BUILD_STATUSES", "LogSource", "Pod", "PodPlace", "needs_builder", "pick_builder",
           "pick_sources"]

BUILDER_LABEL = "yatai.ai/is-bento-image-builder"
BUILD_STATUSES = frozenset({"image-building", "image-build-failed"})


@dataclass(frozen=True)
class PodPlace:
    """Where a deployment's pods live, read from its JSON: cluster, organisation, namespace, first bento."""

    deployment: str
    cluster: str
    organization: str
    namespace: str
    repository: str
    version: str

    @classmethod
    def of(cls, deployment: Deployment) -> PodPlace:
        """The place of ``deployment``'s pods (its JSON must be a full or list item, as ``raw``).

        Raises:
            NotFoundError: the deployment has no revision with a bento yet.
        """
        raw = deployment.raw
        cluster: Mapping[str, Any] = raw["cluster"] if isinstance(raw.get("cluster"), Mapping) else {}
        targets = [t for t in ((raw.get("latest_revision") or {}).get("targets") or []) if t]
        bento = (targets[0].get("bento") if targets else None) or {}
        repository = (bento.get("repository") or {}).get("name") or ""
        version = bento.get("version") or bento.get("name") or ""
        if not repository or not version:
            raise NotFoundError(f"Deployment {deployment.name!r} has no bento revision yet, so no pods to read "
                                "logs from.")
        return cls(deployment.name, str(cluster.get("name") or deployment.cluster),
                   str(cluster.get("organization_name") or ""), str(raw.get("kube_namespace") or ""),
                   str(repository), str(version))

    def bento_pods(self) -> tuple[str, dict[str, str]]:
        return (f"/ws/v1/clusters/{quote(self.cluster, safe='')}/pods",
                {"organization_name": self.organization, "namespace": self.namespace,
                 "selector": f"yatai.ai/bento-repository={self.repository},yatai.ai/bento={self.version}"})

    def deployment_pods(self) -> tuple[str, dict[str, str]]:
        return (f"/ws/v2/deployments/{quote(self.deployment, safe='')}/pods",
                {"organization_name": self.organization, "cluster": self.cluster})

    def tail(self, pod: str, namespace: str = "") -> tuple[str, dict[str, str]]:
        return (f"/ws/v1/clusters/{quote(self.cluster, safe='')}/tail",
                {"namespace": namespace or self.namespace, "pod_name": pod, "timestamps": "false"})


@dataclass(frozen=True)
class Pod:
    name: str
    namespace: str = ""
    runner_name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    phase: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: Mapping[str, Any]) -> Pod:
        return cls(str(raw["name"]), str(raw.get("namespace") or ""), str(raw.get("runner_name") or ""),
                   {str(k): str(v) for k, v in (raw.get("labels") or {}).items()},
                   str((raw.get("status") or {}).get("phase") or ""), raw)

    @property
    def is_image_builder(self) -> bool:
        return self.labels.get(BUILDER_LABEL) == "true"


@dataclass(frozen=True)
class LogSource:
    """One container's log: the image builder's ``builder`` or a replica's ``main``."""

    pod: Pod
    container: str

    @property
    def label(self) -> str:
        return f"{self.pod.name} ({self.container})"


def needs_builder(deployment: Deployment, pods: Sequence[Pod]) -> bool:
    return deployment.status in BUILD_STATUSES or not [p for p in pods if not p.is_image_builder]


def pick_sources(deployment: Deployment, pods: Sequence[Pod], builder: Pod | None) -> list[LogSource]:
    """Replicas' ``main`` containers, led by the image builder's ``builder`` while the image builds, after a
    failed build, or when no replica runs."""
    builder = builder or next((p for p in pods if p.is_image_builder), None)
    sources = [LogSource(p, "main") for p in pods if not p.is_image_builder]
    if builder is not None and needs_builder(deployment, pods):
        sources.insert(0, LogSource(builder, "builder"))
    return sources


def pick_builder(pods: list[Pod], deployment: str) -> Pod | None:
    """The first image builder, preferring one labelled with the deployment (a bento may be built for several)."""
    builders = [pod for pod in pods if pod.is_image_builder]
    return next((p for p in builders if p.labels.get("yatai.ai/deployment") == deployment), None) or \
        next(iter(builders), None)
