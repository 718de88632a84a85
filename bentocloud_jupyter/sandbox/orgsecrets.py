"""Organisation secrets (``/api/v1/org_secrets``), with every field bentoml's ``SecretSchema`` reads and writes.

A secret has a name (unique in the organisation), a description, the cluster it was created in
(``?cluster=``, default cluster otherwise) and ``content``: ``type`` ``env`` or ``mountfile``, ``stage``
(``build`` | ``runtime`` | ``all`` | null), ``path`` (mountfile: where files go, bentoml's CLI sends
``$BENTOML_HOME`` by default) and ``items`` ``[{key, value, sub_path}]``. The store keeps the values;
no answer ever carries them (``value: null``): bentoml only reads keys, and a leak test then proves the
client, not the emulator. ``?cluster=`` on get/update/delete narrows to that cluster (404 elsewhere).
"""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from bentocloud_jupyter.sandbox import catalog, shapes
from bentocloud_jupyter.sandbox.api import arg, authed, body_json
from bentocloud_jupyter.sandbox.records import SandboxError, SecretRecord, new_uid, not_found
from bentocloud_jupyter.sandbox.state import Store

TYPES = ("env", "mountfile")
STAGES = ("build", "runtime", "all")
ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_item(item: object, index: int, kind: str) -> dict[str, Any]:
    """One ``{key, value, sub_path}``: env keys are variable names, values strings."""
    where = f"content.items[{index}]"
    if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
        raise SandboxError(400, f"{where}: a non-empty string 'key' is required")
    key = item["key"]
    if kind == "env" and not ENV_KEY.match(key):
        raise SandboxError(400, f"{where}: {key!r} is not an environment variable name (letters, digits, _)")
    if not isinstance(item.get("value"), str):
        raise SandboxError(400, f"{where}: 'value' must be a string")
    sub_path = item.get("sub_path")
    if sub_path is not None and not isinstance(sub_path, str):
        raise SandboxError(400, f"{where}: 'sub_path' must be a string or null")
    return {"key": key, "sub_path": sub_path, "value": item["value"]}


def check_content(value: object) -> dict[str, Any]:
    """A create/update ``content`` -> the stored content (400 names the bad field)."""
    if not isinstance(value, dict) or value.get("type") not in TYPES:
        raise SandboxError(400, "content.type must be 'env' or 'mountfile'")
    kind = value["type"]
    items = value.get("items")
    if not isinstance(items, list) or not items:
        raise SandboxError(400, "content.items must be a non-empty list of {key, value} objects")
    checked = [check_item(item, i, kind) for i, item in enumerate(items)]
    keys = [i["key"] for i in checked]
    if len(set(keys)) != len(keys):
        raise SandboxError(400, "content.items: every key must be unique")
    stage, path = value.get("stage"), value.get("path")
    if stage is not None and stage not in STAGES:
        raise SandboxError(400, f"content.stage must be one of {', '.join(STAGES)} (or null), got {stage!r}")
    if path is not None and not isinstance(path, str):
        raise SandboxError(400, "content.path must be a string or null")
    return {"type": kind, "path": path, "stage": stage, "items": checked}


def find(store: Store, name: str, cluster: str | None) -> SecretRecord:
    with store.lock:
        rec = store.secrets.get(name)
        if rec is None or (cluster and rec.cluster != cluster):
            where = f" in cluster {cluster!r}" if cluster else ""
            raise not_found(f"secret {name!r}{where}")
        return rec


def description_of(body: dict[str, Any]) -> str | None:
    value = body.get("description")
    if value is not None and not isinstance(value, str):
        raise SandboxError(400, "description must be a string or null")
    return value


async def list_secrets(request: Request, store: Store) -> Any:
    search, cluster = arg(request, "search"), arg(request, "cluster")
    with store.lock:
        items = sorted(store.secrets.values(), key=lambda s: s.created_at, reverse=True)
    items = [s for s in items if (not search or search.lower() in s.name.lower())
             and (not cluster or s.cluster == cluster)]
    chunk, start, count = catalog.page(items, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([shapes.secret(store, s) for s in chunk], start, count, len(items))


async def create_secret(request: Request, store: Store) -> Any:
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"]:
        raise SandboxError(400, "secret name is required")
    name, content, description = body["name"], check_content(body.get("content")), description_of(body)
    with store.lock:
        cluster = store.cluster_name(arg(request, "cluster"))
        if name in store.secrets:
            raise SandboxError(409, f"secret {name!r} already exists (in cluster {store.secrets[name].cluster!r})")
        rec = SecretRecord(uid=new_uid("secret"), name=name, created_at=store.clock(), content=content,
                           cluster=cluster, description=description or "")
        store.secrets[name] = rec
        return shapes.secret(store, rec)


async def get_secret(request: Request, store: Store) -> Any:
    return shapes.secret(store, find(store, request.path_params["name"], arg(request, "cluster")))


async def update_secret(request: Request, store: Store) -> Any:
    """PATCH: the content is replaced as a whole (bentoml's ``secret apply`` sends all of it)."""
    body = await body_json(request)
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object")
    content, description = check_content(body.get("content")), description_of(body)
    with store.lock:
        rec = find(store, request.path_params["name"], arg(request, "cluster"))
        rec.content = content
        if description is not None:
            rec.description = description
        rec.updated_at = store.clock()
        return shapes.secret(store, rec)


async def delete_secret(request: Request, store: Store) -> Any:
    with store.lock:
        rec = find(store, request.path_params["name"], arg(request, "cluster"))
        del store.secrets[rec.name]
        return shapes.secret(store, rec)


def secret_routes() -> list[Route]:
    base, one = "/api/v1/org_secrets", "/api/v1/org_secrets/{name}"
    return [Route(base, authed(list_secrets), methods=["GET"]),
            Route(base, authed(create_secret), methods=["POST"]),
            Route(one, authed(get_secret), methods=["GET"]),
            Route(one, authed(update_secret), methods=["PATCH"]),
            Route(one, authed(delete_secret), methods=["DELETE"])]
