"""JSON builders: records -> the exact shapes bentoml's cattrs schemas require.

Every resource starts with the envelope (uid, created_at, updated_at, deleted_at, name,
resource_type, labels); required-but-nullable keys are always present, plain-string fields are
``""`` rather than null (bentoml would read null as the string "None").
"""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.sandbox import seed
from bentocloud_jupyter.sandbox.records import (
    ArtifactRecord,
    DeploymentRecord,
    RepoRecord,
    SecretRecord,
    TokenRecord,
    iso,
)
from bentocloud_jupyter.sandbox.state import Store


def envelope(uid: str, name: str, resource_type: str, created_at: float, updated_at: float | None = None,
             labels: list[dict[str, str]] | None = None, deleted_at: float | None = None) -> dict[str, Any]:
    """The keys every resource object starts with."""
    return {"uid": uid, "created_at": iso(created_at), "updated_at": iso(updated_at),
            "deleted_at": iso(deleted_at), "name": name, "resource_type": resource_type,
            "labels": list(labels or [])}


def list_envelope(items: list[Any], start: int, count: int, total: int) -> dict[str, Any]:
    return {"start": start, "count": count, "total": total, "items": items}


def user() -> dict[str, str]:
    return dict(seed.USER)


def organization(store: Store) -> dict[str, Any]:
    return {**envelope("org-sandbox", seed.ORG_NAME, "organization", store.seed_time, store.seed_time),
            "description": "Local BentoCloud sandbox organization"}


def cluster(store: Store, name: str) -> dict[str, Any]:
    c = store.clusters[name]
    return {**envelope(c["uid"], name, "cluster", store.seed_time, store.seed_time),
            "description": c["description"], "organization_name": seed.ORG_NAME, "creator": user(),
            "is_first": c["is_first"]}


def instance_type(store: Store, name: str) -> dict[str, Any]:
    it = store.instance_types[name]
    return {**envelope(it["uid"], name, "resource_instance", store.seed_time, None),
            "display_name": name, "description": it["description"], "config": it["config"]}


def cluster_full(store: Store, name: str) -> dict[str, Any]:
    return {**cluster(store, name), "organization": organization(store), "kube_config": "",
            "config": {"default_deployment_kube_namespace": seed.KUBE_NAMESPACE},
            "grafana_root_path": f"/grafana/{name}/",
            "resource_instances": [instance_type(store, i) for i in store.instance_types]}


STRATEGY = {"proxy": "proxy", "presigned": None, "multipart": "presigned_url"}


def _artifact(store: Store, a: ArtifactRecord, resource_type: str) -> dict[str, Any]:
    """A bento/model; ``transmission_strategy`` follows the sandbox's ``transfer_mode`` knob."""
    return {
        **envelope(a.uid, a.version, resource_type, a.created_at, a.upload_finished_at or a.created_at, a.labels),
        "description": a.description, "version": a.version, "image_build_status": a.image_build_status,
        "upload_status": a.upload_status, "upload_finished_reason": a.upload_finished_reason,
        "presigned_upload_url": "", "presigned_download_url": "", "manifest": a.manifest,
        "transmission_strategy": STRATEGY[store.transfer_mode], "upload_id": a.upload_id,
        "upload_started_at": iso(a.upload_started_at), "upload_finished_at": iso(a.upload_finished_at),
        "build_at": iso(a.build_at or a.created_at),
    }


def _repo(r: RepoRecord, resource_type: str, latest_key: str, latest: dict[str, Any] | None) -> dict[str, Any]:
    return {**envelope(r.uid, r.name, resource_type, r.created_at, r.created_at, r.labels),
            "description": r.description, latest_key: latest}


def bento(store: Store, a: ArtifactRecord, with_repository: bool = False) -> dict[str, Any]:
    """A bento; ``with_repository`` embeds its repository (deployment targets need it)."""
    out = _artifact(store, a, "bento")
    if with_repository:
        out["repository"] = _repo(store.bento_repos[a.repo], "bento_repository", "latest_bento", None)
    return out


def model(store: Store, a: ArtifactRecord, with_repository: bool = False) -> dict[str, Any]:
    out = _artifact(store, a, "model")
    if with_repository:
        out["repository"] = _repo(store.model_repos[a.repo], "model_repository", "latest_model", None)
    return out


def bento_repository(store: Store, r: RepoRecord, latest: ArtifactRecord | None) -> dict[str, Any]:
    return _repo(r, "bento_repository", "latest_bento", bento(store, latest) if latest else None)


def model_repository(store: Store, r: RepoRecord, latest: ArtifactRecord | None) -> dict[str, Any]:
    return _repo(r, "model_repository", "latest_model", model(store, latest) if latest else None)


def secret(store: Store, s: SecretRecord) -> dict[str, Any]:
    """A secret with its keys, stage, path and cluster; item values are never sent (``null``)."""
    c = s.content
    items = [{"key": i.get("key"), "sub_path": i.get("sub_path"), "value": None} for i in c.get("items") or []]
    content = {"type": c.get("type"), "path": c.get("path"), "stage": c.get("stage"), "items": items}
    return {**envelope(s.uid, s.name, "secret", s.created_at, s.updated_at or s.created_at),
            "description": s.description, "creator": user(), "content": content,
            "cluster": cluster(store, s.cluster)}


def api_token(store: Store, t: TokenRecord, reveal: bool = False) -> dict[str, Any]:
    """An API token; the secret value only when ``reveal`` (the create response)."""
    expired = t.expired or (t.expired_at is not None and t.expired_at <= store.clock())
    return {**envelope(t.uid, t.name, "api_token", t.created_at, t.created_at),
            "description": t.description, "scopes": list(t.scopes), "user": user(),
            "organization": organization(store), "expired_at": iso(t.expired_at),
            "last_used_at": iso(t.last_used_at), "is_expired": expired, "is_api_token": True,
            "is_organization_token": False, "is_global_access": False,
            "token": t.token if reveal else None}


def deployment_url(base_url: str, name: str) -> str:
    """Where a deployment "serves": a path on the sandbox itself."""
    return f"{base_url.rstrip('/')}/_svc/{name}"


def deployment(store: Store, dep: DeploymentRecord, base_url: str) -> dict[str, Any]:
    """DeploymentFull: status computed now; latest revision with its single ``main`` target."""
    status, entered = store.status(dep)
    rev = dep.latest
    bento_rec = store.bentos[rev.bento_repo][rev.bento_version]
    target = {**envelope(new_target_uid(rev.uid), "main", "deployment_target", rev.created_at, rev.created_at),
              "creator": user(), "config": rev.config, "bento": bento(store, bento_rec, with_repository=True),
              "kube_resource_uid": "", "kube_resource_version": ""}
    revision = {**envelope(rev.uid, rev.uid, "deployment_revision", rev.created_at, rev.created_at),
                "creator": user(), "status": "active", "targets": [target]}
    return {
        **envelope(dep.uid, dep.name, "deployment", dep.created_at, max(entered, dep.modified_at), dep.labels,
                   dep.deleted_at),
        "status": status, "kube_namespace": seed.KUBE_NAMESPACE, "creator": user(),
        "cluster": cluster(store, dep.cluster), "manifest": {"dev": dep.dev, "routing": None},
        "urls": [deployment_url(base_url, dep.name)], "latest_revision": revision,
    }


def revisions(dep: DeploymentRecord) -> list[dict[str, Any]]:
    """All revisions of a deployment with active/inactive status (for tests and debugging)."""
    last = len(dep.revisions) - 1
    return [{"uid": r.uid, "created_at": iso(r.created_at), "status": "active" if i == last else "inactive",
             "bento": f"{r.bento_repo}:{r.bento_version}", "config": r.config}
            for i, r in enumerate(dep.revisions)]


def new_target_uid(revision_uid: str) -> str:
    """Targets are derived from their revision, so their uid is too (stable across reads)."""
    return revision_uid.replace("rev-", "target-", 1)
