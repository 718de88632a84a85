"""The ASGI app: REST routes from :mod:`.api` plus the unauthenticated and admin routes.

* login code flow: ``/api/v1/auth/code``, ``/api/v1/auth/token``; its ``/api_tokens`` page and the
  ``/deployments/{name}`` dashboard page live in :mod:`.pages`;
* secrets (:mod:`.orgsecrets`) and API tokens (:mod:`.tokens`), with scopes enforced (:mod:`.scopes`);
* transfers (:mod:`.transfers`): PATCH actions, proxy upload/download, presigned ``/_storage``;
* websockets (:mod:`.ws`): pod lists and log tails;
* fake deployed services (:mod:`.services`): ``/_svc/{name}/...``;
* codespace files and reloads (:mod:`.codespaces`): ``/api/v2/deployments/{name}/files``;
* admin (no auth, loopback clients only, exempt from faults): ``/_sandbox/faults``, ``/_sandbox/config``,
  ``/_sandbox/reset``, ``/_sandbox/stats``, ``/_sandbox/deployments/{name}``, ``/_sandbox/latency`` (the
  services' latency model, :mod:`.latency`: GET rules and counters, POST ``{"deployment", "api", "base",
  "jitter", "per_replica", "cold_start", "seed"}`` sets one rule, DELETE clears rules and counters).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from bentocloud_jupyter.sandbox import latency, shapes, uploads
from bentocloud_jupyter.sandbox.api import Context, api_routes, arg, body_json, ctx
from bentocloud_jupyter.sandbox.codespaces import codespace_routes
from bentocloud_jupyter.sandbox.faults import FaultMiddleware, Faults, Stats
from bentocloud_jupyter.sandbox.orgsecrets import secret_routes
from bentocloud_jupyter.sandbox.pages import page_routes
from bentocloud_jupyter.sandbox.records import SandboxError, iso, not_found
from bentocloud_jupyter.sandbox.services import service_routes
from bentocloud_jupyter.sandbox.state import Store
from bentocloud_jupyter.sandbox.storage import Blobs
from bentocloud_jupyter.sandbox.tokens import token_routes
from bentocloud_jupyter.sandbox.transfers import transfer_routes
from bentocloud_jupyter.sandbox.ws import ws_routes


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The one error body shape: ``{"error": message, "code": status}``."""
    return JSONResponse({"error": message, "code": status}, status_code=status, headers=headers)


async def on_sandbox_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SandboxError)
    return error_response(exc.status, exc.message, exc.headers)


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return error_response(404, f"no route {request.method} {request.url.path}: record not found")
    return error_response(exc.status_code, str(exc.detail))


# ----- browser login flow -----------------------------------------------------------------------
async def auth_code(request: Request) -> Response:
    return JSONResponse({"code": ctx(request).store.new_login_code()})


async def auth_token(request: Request) -> Response:
    rec = ctx(request).store.login_code(arg(request, "code"))
    if rec.token is None:
        return error_response(425, "login not approved yet: open the /api_tokens page and press Approve")
    return JSONResponse({"token": rec.token})


# ----- admin --------------------------------------------------------------------------------
def _loopback_only(request: Request) -> None:
    host = request.client.host if request.client else ""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise SandboxError(403, "sandbox admin routes only answer loopback clients")


async def admin_faults(request: Request) -> Response:
    _loopback_only(request)
    faults = ctx(request).get_faults()
    if request.method == "POST":
        values = await body_json(request)
        if not isinstance(values, dict):
            raise SandboxError(400, "send a JSON object of fault knobs")
        try:
            faults.update(values)
        except ValueError as exc:
            raise SandboxError(400, str(exc)) from None
    return JSONResponse(faults.to_dict())


async def admin_config(request: Request) -> Response:
    """``{"transfer_mode": "proxy"|"presigned"|"multipart"}``: read, or set with POST."""
    _loopback_only(request)
    store = ctx(request).store
    if request.method == "POST":
        values = await body_json(request)
        if not isinstance(values, dict) or set(values) - {"transfer_mode"}:
            raise SandboxError(400, "send a JSON object with the known config keys: transfer_mode")
        if "transfer_mode" in values:
            try:
                store.transfer_mode = uploads.check_mode(values["transfer_mode"])
            except ValueError as exc:
                raise SandboxError(400, str(exc)) from None
    return JSONResponse({"transfer_mode": store.transfer_mode})


async def admin_latency(request: Request) -> Response:
    """The services' latency model: read it, set one rule (POST), or clear it (DELETE)."""
    _loopback_only(request)
    model = latency.model_for(ctx(request).store)
    if request.method == "DELETE":
        model.reset()
    elif request.method == "POST":
        values = await body_json(request)
        if not isinstance(values, dict):
            raise SandboxError(400, "send a JSON object: {\"deployment\": \"*\", \"api\": \"*\", \"base\": 0.05, ...}")
        target = {k: values.pop(k, "*") for k in ("deployment", "api")}
        seed = values.pop("seed", None)
        if not all(isinstance(v, str) and v for v in target.values()) or not (
                seed is None or (isinstance(seed, int) and not isinstance(seed, bool))):
            raise SandboxError(400, "deployment and api must be names (or \"*\"), seed an integer")
        try:
            model.set(target["deployment"], target["api"], seed=seed, **values)
        except (TypeError, ValueError) as exc:
            raise SandboxError(400, str(exc)) from None
    return JSONResponse(model.snapshot())


async def admin_reset(request: Request) -> Response:
    """Faults back to defaults; with ``{"state": true}`` the store is reseeded too."""
    _loopback_only(request)
    c = ctx(request)
    body = await body_json(request)
    c.get_faults().reset()
    latency.model_for(c.store).reset()
    if isinstance(body, dict) and body.get("state"):
        c.store.reset()
        c.blobs.clear()
    return JSONResponse({"faults": c.get_faults().to_dict(), "state_reset": bool(isinstance(body, dict)
                                                                                 and body.get("state"))})


async def admin_stats(request: Request) -> Response:
    _loopback_only(request)
    c = ctx(request)
    if request.method == "DELETE":
        c.stats.reset()
    return JSONResponse(c.stats.snapshot())


async def admin_deployment(request: Request) -> Response:
    """Status history and all revisions of one deployment (debugging aid, not a BentoCloud route)."""
    _loopback_only(request)
    store = ctx(request).store
    name = request.path_params["name"]
    with store.lock:
        if name not in store.deployments:
            raise not_found(f"deployment {name!r}")
        dep = store.deployments[name]
        data: dict[str, Any] = {"history": [{"status": s, "at": iso(t)} for s, t in store.history(name)],
                                "revisions": shapes.revisions(dep)}
    return JSONResponse(data)


def create_app(store: Store, get_faults: Callable[[], Faults], stats: Stats, blobs: Blobs | None = None
               ) -> ASGIApp:
    """Build the sandbox ASGI app around a store, a faults getter, a stats collector and blob storage."""
    routes: list[BaseRoute] = [
        Route("/api/v1/auth/code", auth_code, methods=["GET"]),
        Route("/api/v1/auth/token", auth_token, methods=["GET"]),
        *transfer_routes(),
        *api_routes(),
        *codespace_routes(),
        *secret_routes(),
        *token_routes(),
        *ws_routes(),
        *service_routes(),
        *page_routes(),
        Route("/_sandbox/faults", admin_faults, methods=["GET", "POST"]),
        Route("/_sandbox/config", admin_config, methods=["GET", "POST"]),
        Route("/_sandbox/reset", admin_reset, methods=["POST"]),
        Route("/_sandbox/stats", admin_stats, methods=["GET", "DELETE"]),
        Route("/_sandbox/deployments/{name}", admin_deployment, methods=["GET"]),
        Route("/_sandbox/latency", admin_latency, methods=["GET", "POST", "DELETE"]),
    ]
    app = Starlette(routes=routes, exception_handlers={SandboxError: on_sandbox_error,
                                                       HTTPException: on_http_error})
    app.state.sandbox = Context(store=store, get_faults=get_faults, stats=stats, blobs=blobs or Blobs())
    return FaultMiddleware(app, get_faults, stats, routes)
