"""REST routes of the emulated BentoCloud API (``/api/v1``, ``/api/v2``), all answering 200 on success.

Handlers are thin: read the query/body, call the store, build JSON with :mod:`.shapes`. Errors are
raised as :class:`SandboxError` and rendered by the handler registered in :mod:`.app`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bentocloud_jupyter.sandbox import catalog, scopes, shapes
from bentocloud_jupyter.sandbox.faults import Faults, Stats
from bentocloud_jupyter.sandbox.records import SandboxError, TokenRecord, not_found
from bentocloud_jupyter.sandbox.state import Store
from bentocloud_jupyter.sandbox.storage import Blobs

Handler = Callable[[Request], Awaitable[Response]]


@dataclass
class Context:
    """What handlers need, stored on ``app.state.sandbox``."""

    store: Store
    get_faults: Callable[[], Faults]
    stats: Stats
    blobs: Blobs = field(default_factory=Blobs)


def ctx(request: Request) -> Context:
    context: Context = request.app.state.sandbox
    return context


def auth(request: Request) -> TokenRecord:
    """401 unless ``X-YATAI-API-TOKEN`` names a live token; 403 when a write lacks a write scope."""
    c = ctx(request)
    rec = c.store.authenticate(request.headers.get("x-yatai-api-token"), c.get_faults().expire_tokens)
    scopes.require_write(rec, request.method, request.url.path)
    return rec


def arg(request: Request, name: str) -> str | None:
    """A query parameter; empty values mean absent (bentoml sends ``?cluster=&count=``)."""
    value = request.query_params.get(name)
    return value or None


async def body_json(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise SandboxError(400, "request body is not valid JSON") from None


def ok(data: Any) -> JSONResponse:
    return JSONResponse(data, status_code=200)


def authed(handler: Callable[[Request, Store], Awaitable[Any]]) -> Handler:
    """Wrap a handler: authenticate, run it with the store, answer its result as JSON 200."""

    async def endpoint(request: Request) -> Response:
        auth(request)
        return ok(await handler(request, ctx(request).store))

    return endpoint


# ----- identity ---------------------------------------------------------------------------------
async def current_user(request: Request, store: Store) -> Any:
    return shapes.user()


async def current_org(request: Request, store: Store) -> Any:
    return shapes.organization(store)


# ----- deployments ------------------------------------------------------------------------------
def _dep(request: Request, store: Store, dep: Any) -> Any:
    with store.lock:
        return shapes.deployment(store, dep, str(request.base_url))


async def create_deployment(request: Request, store: Store) -> Any:
    dep = store.create_deployment(await body_json(request), arg(request, "cluster"))
    return _dep(request, store, dep)


async def list_deployments(request: Request, store: Store) -> Any:
    items = store.list_deployments(arg(request, "cluster"), arg(request, "all") == "true",
                                   arg(request, "search"), arg(request, "q"))
    chunk, start, count = catalog.page(items, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([_dep(request, store, d) for d in chunk], start, count, len(items))


async def get_deployment(request: Request, store: Store) -> Any:
    return _dep(request, store, store.get_deployment(request.path_params["name"], arg(request, "cluster")))


async def update_deployment(request: Request, store: Store) -> Any:
    dep = store.update_deployment(request.path_params["name"], await body_json(request), arg(request, "cluster"))
    return _dep(request, store, dep)


async def delete_deployment(request: Request, store: Store) -> Any:
    return _dep(request, store, store.delete(request.path_params["name"], arg(request, "cluster")))


async def void_update(request: Request, store: Store) -> Any:
    return _dep(request, store, store.void_update(request.path_params["name"], arg(request, "cluster")))


async def terminate(request: Request, store: Store) -> Any:
    return _dep(request, store, store.terminate(request.path_params["name"], arg(request, "cluster")))


# ----- clusters and instance types --------------------------------------------------------------
async def instance_types(request: Request, store: Store) -> Any:
    store.cluster_name(arg(request, "cluster"))
    return [shapes.instance_type(store, name) for name in store.instance_types]


async def list_clusters(request: Request, store: Store) -> Any:
    names = list(store.clusters)
    chunk, start, count = catalog.page(names, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([shapes.cluster(store, n) for n in chunk], start, count, len(names))


async def get_cluster(request: Request, store: Store) -> Any:
    name = request.path_params["name"]
    if name not in store.clusters:
        raise not_found(f"cluster {name!r}")
    return shapes.cluster_full(store, name)


# ----- bentos and models ------------------------------------------------------------------------
def _kind(request: Request) -> str:
    return "bento" if request.url.path.startswith("/api/v1/bento") else "model"


def _one(store: Store, kind: str, a: Any, with_repository: bool = False) -> Any:
    build = shapes.bento if kind == "bento" else shapes.model
    return build(store, a, with_repository)


def _repo_json(store: Store, kind: str, name: str) -> Any:
    repo = catalog.get_repo(store, kind, name)
    latest = next(iter(catalog.versions(store, kind, name)), None)
    build = shapes.bento_repository if kind == "bento" else shapes.model_repository
    return build(store, repo, latest)


async def list_repos(request: Request, store: Store) -> Any:
    kind = _kind(request)
    table = store.bento_repos if kind == "bento" else store.model_repos
    names = sorted(table)
    search = arg(request, "search")
    names = [n for n in names if not search or search.lower() in n.lower()]
    chunk, start, count = catalog.page(names, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([_repo_json(store, kind, n) for n in chunk], start, count, len(names))


async def get_repo(request: Request, store: Store) -> Any:
    return _repo_json(store, _kind(request), request.path_params["repo"])


async def create_repo(request: Request, store: Store) -> Any:
    kind = _kind(request)
    repo = catalog.create_repo(store, kind, await body_json(request))
    return _repo_json(store, kind, repo.name)


async def list_versions(request: Request, store: Store) -> Any:
    kind = _kind(request)
    items = catalog.versions(store, kind, request.path_params["repo"])
    chunk, start, count = catalog.page(items, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([_one(store, kind, a) for a in chunk], start, count, len(items))


async def get_version(request: Request, store: Store) -> Any:
    kind = _kind(request)
    return _one(store, kind, catalog.get_version(store, kind, request.path_params["repo"],
                                                 request.path_params["version"]))


async def create_version(request: Request, store: Store) -> Any:
    kind = _kind(request)
    return _one(store, kind, catalog.create_version(store, kind, request.path_params["repo"],
                                                    await body_json(request)))


async def list_all_versions(request: Request, store: Store) -> Any:
    kind = "bento" if request.url.path == "/api/v1/bentos" else "model"
    items = catalog.all_versions(store, kind)
    chunk, start, count = catalog.page(items, arg(request, "start"), arg(request, "count"))
    return shapes.list_envelope([_one(store, kind, a, True) for a in chunk], start, count, len(items))


def api_routes() -> list[Route]:
    """The authenticated REST routes of deployments, clusters, bentos and models (secrets: :mod:`.orgsecrets`,
    tokens: :mod:`.tokens`)."""
    a = authed
    v2, dep = "/api/v2/deployments", "/api/v2/deployments/{name}"
    routes = [
        ("/api/v1/auth/current", current_user, ["GET"]),
        ("/api/v1/current_org", current_org, ["GET"]),
        (v2, create_deployment, ["POST"]),
        (v2, list_deployments, ["GET"]),
        (dep, get_deployment, ["GET"]),
        (dep, update_deployment, ["PUT"]),
        (dep, delete_deployment, ["DELETE"]),
        (dep + "/void_update", void_update, ["PUT"]),
        (dep + "/terminate", terminate, ["POST"]),
        ("/api/v1/instance_types", instance_types, ["GET"]),
        ("/api/v1/clusters", list_clusters, ["GET"]),
        ("/api/v1/clusters/{name}", get_cluster, ["GET"]),
        ("/api/v1/bentos", list_all_versions, ["GET"]),
        ("/api/v1/models", list_all_versions, ["GET"]),
    ]
    for kind, unit in (("bento", "bentos"), ("model", "models")):
        base = f"/api/v1/{kind}_repositories"
        routes += [
            (base, list_repos, ["GET"]),
            (base, create_repo, ["POST"]),
            (base + "/{repo}", get_repo, ["GET"]),
            (base + "/{repo}/" + unit, list_versions, ["GET"]),
            (base + "/{repo}/" + unit, create_version, ["POST"]),
            (base + "/{repo}/" + unit + "/{version}", get_version, ["GET"]),
        ]
    return [Route(path, a(handler), methods=methods) for path, handler, methods in routes]
