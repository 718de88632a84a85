"""Store operations on the simple catalogue resources: repositories, bento/model records, paging.

Kept apart from :mod:`.state` so the deployment lifecycle module stays small; these functions take
the :class:`Store` and hold its lock. Upload bookkeeping lives in :mod:`.uploads`, routes in :mod:`.transfers`.
"""

from __future__ import annotations

from typing import TypeVar

from bentocloud_jupyter.sandbox.records import (
    ArtifactRecord,
    RepoRecord,
    SandboxError,
    new_uid,
    not_found,
    parse_time,
)
from bentocloud_jupyter.sandbox.state import Store

T = TypeVar("T")
DEFAULT_PAGE = 20


def query_int(value: str | None, name: str, default: int) -> int:
    """Query integers; empty means absent (bentoml sends ``?count=``)."""
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise SandboxError(400, f"query parameter {name} must be an integer, got {value!r}") from None
    if number < 0:
        raise SandboxError(400, f"query parameter {name} must be >= 0")
    return number


def page(items: list[T], start: str | None, count: str | None, default: int = DEFAULT_PAGE) -> tuple[
        list[T], int, int]:
    """Slice by ``start``/``count``; returns (page, start, count asked for)."""
    first = query_int(start, "start", 0)
    size = query_int(count, "count", default)
    return items[first:first + size], first, size


def _tables(store: Store, kind: str) -> tuple[dict[str, RepoRecord], dict[str, dict[str, ArtifactRecord]]]:
    return (store.bento_repos, store.bentos) if kind == "bento" else (store.model_repos, store.models)


def get_repo(store: Store, kind: str, name: str) -> RepoRecord:
    repos, _ = _tables(store, kind)
    with store.lock:
        if name not in repos:
            raise not_found(f"{kind} repository {name!r}")
        return repos[name]


def create_repo(store: Store, kind: str, body: object) -> RepoRecord:
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise SandboxError(400, "repository name is required")
    repos, artifacts = _tables(store, kind)
    with store.lock:
        if body["name"] in repos:
            raise SandboxError(409, f"{kind} repository {body['name']!r} already exists")
        rec = RepoRecord(new_uid(f"{kind[0]}repo"), body["name"], store.clock(), body.get("description") or "")
        repos[rec.name] = rec
        artifacts[rec.name] = {}
        return rec


def versions(store: Store, kind: str, repo: str) -> list[ArtifactRecord]:
    """Versions of a repository, newest first (bentoml reads ``items[0]`` as the latest)."""
    get_repo(store, kind, repo)
    _, artifacts = _tables(store, kind)
    with store.lock:
        return sorted(artifacts.get(repo, {}).values(), key=lambda a: a.created_at, reverse=True)


def all_versions(store: Store, kind: str) -> list[ArtifactRecord]:
    _, artifacts = _tables(store, kind)
    with store.lock:
        items = [a for per_repo in artifacts.values() for a in per_repo.values()]
    return sorted(items, key=lambda a: a.created_at, reverse=True)


def get_version(store: Store, kind: str, repo: str, version: str) -> ArtifactRecord:
    _, artifacts = _tables(store, kind)
    with store.lock:
        found = artifacts.get(repo, {}).get(version)
        if found is None:
            raise not_found(f"{kind} {repo}:{version}")
        return found


def create_version(store: Store, kind: str, repo: str, body: object) -> ArtifactRecord:
    """Register a bento/model version (``upload_status`` pending until its bytes arrive, see .transfers)."""
    if not isinstance(body, dict) or not isinstance(body.get("version"), str) or not body["version"]:
        raise SandboxError(400, "version is required")
    manifest = body.get("manifest")
    if kind == "model" and not isinstance(manifest, dict):
        raise SandboxError(400, "model manifest is required")
    get_repo(store, kind, repo)
    _, artifacts = _tables(store, kind)
    with store.lock:
        if body["version"] in artifacts[repo]:
            raise SandboxError(409, f"{kind} {repo}:{body['version']} already exists")
        now = store.clock()
        try:
            build_at = parse_time(body.get("build_at")) or now
        except ValueError:
            raise SandboxError(400, "build_at is not a valid timestamp") from None
        rec = ArtifactRecord(
            uid=new_uid(kind), repo=repo, version=body["version"], created_at=now,
            manifest=manifest if isinstance(manifest, dict) else None,
            description=body.get("description") or "", labels=list(body.get("labels") or []),
            build_at=build_at, upload_status="pending", image_build_status="pending" if kind == "bento" else "")
        artifacts[repo][rec.version] = rec
        return rec

