"""Fake deployed services at ``{sandbox url}/_svc/{name}``: probes, ``/docs.json`` and the bento's APIs.

* ``GET /readyz``, ``GET /livez``: 200 ``ok`` while running (traffic wakes a scaled-to-zero deployment),
  else 503; never need a token;
* ``GET /docs.json``: the OpenAPI 3 document of the bento's APIs (:mod:`.svcapis`);
* ``GET /schema.json``: BentoML's own service schema (``{name, type, routes, ...}``), what
  ``bentoml.SyncHTTPClient``/``AsyncHTTPClient`` and ``Deployment.get_client()`` fetch first;
* ``POST /<api route>``: JSON in, JSON out, deterministic (400 on a bad body, 501 for uploaded bentos,
  whose code the sandbox cannot run);
* a dev deployment (codespace) serves what :mod:`.codespaces` read from its synced files instead, and its
  readyz is 503 before ``.project_ready``, while it reloads and while its service file does not parse.

Everything but the probes (documents included) answers 503 ``{"error": ...}`` unless the deployment is running, and 401
without ``Authorization: Bearer <valid sandbox token>`` when the deployment has
``access_authorization: true``. Each call appends a bentoml-style access-log line that api-server pod
log tails show. Served API calls take as long as the per-API latency model says (:mod:`.latency`: base,
jitter, a concurrency limit per replica, a cold start after scale-to-zero); by default they answer at once.
"""

from __future__ import annotations

import json
import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bentocloud_jupyter.sandbox import codespaces, latency, svcapis
from bentocloud_jupyter.sandbox.api import ctx
from bentocloud_jupyter.sandbox.records import DeploymentRecord, SandboxError
from bentocloud_jupyter.sandbox.state import Store

LOG_LIMIT = 1000  # access-log lines kept per deployment
DOCUMENTS = ("/docs.json", "/schema.json")  # OpenAPI for people, BentoML's schema for its HTTP clients
MAX_CALL_BYTES = 64 * 2**20
"""Bytes of one API call's body at most (413 past it, before it is all read): files go in calls, not gigabytes."""


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def probe(request: Request) -> Response:
    """``/readyz``: 200 while the deployment serves (traffic wakes a scaled-to-zero one), else 503."""
    name = request.path_params["name"]
    store = ctx(request).store
    try:
        dep = store.get_deployment(name)
        with store.lock:
            cold = store.status(dep)[0] == "scaled-to-zero"
        status = store.touch_service(name)
    except SandboxError:
        return JSONResponse({"error": f"deployment {name!r}: record not found", "code": 404}, status_code=404)
    if cold:
        latency.model_for(store).woken(name)
    if status == "running" and dep.dev:
        codespaces.flush_log(store, dep)
        why = codespaces.readiness(store, dep)
        if why is not None:
            return Response(why, status_code=503, media_type="text/plain")
    if status == "running":
        await latency.model_for(store).warm(name, _bounds(store, dep))
        return Response("ok", media_type="text/plain")
    return Response(f"deployment is {status}", status_code=503, media_type="text/plain")


def _bounds(store: Store, dep: DeploymentRecord) -> tuple[int, int]:
    with store.lock:
        rev = dep.latest
        manifest = store.bentos[rev.bento_repo][rev.bento_version].manifest or {}
        return latency.scaling_bounds(rev.config, str(manifest.get("entry_service") or rev.bento_repo))


def _log(request: Request, dep: DeploymentRecord, entry: str, status: int, size: int, started: float) -> None:
    store = ctx(request).store
    client = request.client.host if request.client else "127.0.0.1"
    line = (f"[INFO] [entry_service:{entry}:1] {client}:0 (scheme=http,method={request.method},"
            f"path=/{request.path_params['path']},type={request.headers.get('content-type', '')},"
            f"length={request.headers.get('content-length', '0')}) (status={status},type=application/json,"
            f"length={size}) {(time.perf_counter() - started) * 1000:.1f}ms "
            f"(trace={secrets.token_hex(16)},span={secrets.token_hex(8)},sampled=0,service.name={entry})")
    with store.lock:
        lines = store.svc_logs.setdefault(dep.name, [])
        lines.append(line)
        del lines[:-LOG_LIMIT]


async def bounded_body(request: Request) -> bytes | None:
    """The call's body, or None past :data:`MAX_CALL_BYTES` (told by Content-Length, or counted while read)."""
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_CALL_BYTES:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CALL_BYTES:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


async def call(request: Request) -> Response:
    """One API call (or document) of a deployment, its body bounded, logged as bentoml's access log does."""
    started = time.perf_counter()
    store = ctx(request).store
    name, path = request.path_params["name"], "/" + request.path_params["path"]
    try:
        dep = store.get_deployment(name)
    except SandboxError:
        return _error(404, f"deployment {name!r}: record not found")
    with store.lock:
        cold = store.status(dep)[0] == "scaled-to-zero"
    status = store.touch_service(name)
    if cold:
        latency.model_for(store).woken(name)
    with store.lock:
        rev = dep.latest
        bento = store.bentos[rev.bento_repo][rev.bento_version]
        manifest = dict(bento.manifest or {})
        protected = bool(rev.config.get("access_authorization"))
    entry, body = str(manifest.get("entry_service") or rev.bento_repo), await bounded_body(request)
    if body is None:
        response: Response = _error(413, f"request body over {MAX_CALL_BYTES} bytes: send a smaller input")
    elif dep.dev:
        response = refusal(request, status, protected) or codespaces.answer(
            store, dep, request.method, path, body)
    else:
        response = _answer(request, path, status, protected, rev.bento_repo, rev.bento_version, manifest,
                           bento.description, body)
    if path not in DOCUMENTS and response.status_code in (200, 400):  # served: the latency model applies
        bounds = latency.scaling_bounds(rev.config, entry)
        await latency.model_for(store).serve(name, path, bounds)
    _log(request, dep, entry, response.status_code, len(response.body), started)
    return response


def refusal(request: Request, status: str, protected: bool) -> Response | None:
    """503 unless running; 401 without a live bearer token when the deployment is protected."""
    if status != "running":
        return _error(503, f"deployment {request.path_params['name']!r} is {status}, not running: "
                           "it cannot serve requests right now")
    if not protected:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer":
            raise SandboxError(401, "this deployment requires access authorization: send "
                                    "'Authorization: Bearer <API token>'")
        ctx(request).store.authenticate(token.strip(), ctx(request).get_faults().expire_tokens)
    except SandboxError as exc:
        return _error(401, exc.message, {"WWW-Authenticate": "Bearer"})
    return None


def _answer(request: Request, path: str, status: str, protected: bool, repo: str, version: str,
            manifest: dict[str, object], description: str, raw: bytes) -> Response:
    refused = refusal(request, status, protected)
    if refused is not None:
        return refused
    if path in DOCUMENTS:
        if request.method != "GET":
            return _error(405, f"method not allowed: use GET {path}")
        if path == "/schema.json":
            return JSONResponse(svcapis.service_schema(repo, manifest, description))
        return JSONResponse(svcapis.document(repo, version, manifest, description))
    apis = {a.route: a for a in svcapis.apis_of(repo)}
    schema = manifest.get("schema")
    routes = schema.get("routes") if isinstance(schema, dict) else None
    uploaded = {str(r.get("route")) for r in routes or [] if isinstance(r, dict)}
    if path not in apis and path not in uploaded:
        return _error(404, f"no API at {path}: see /docs.json")
    if request.method != "POST":
        return _error(405, f"method not allowed: use POST {path}")
    if path not in apis:
        return _error(501, f"the sandbox cannot run uploaded code: {repo}:{version} {path} is not emulated")
    api = apis[path]
    try:
        body = json.loads(raw or b"null")
        svcapis.check(body, api.input)
        return JSONResponse(api.handler(body))
    except ValueError as exc:  # bad JSON and BadInput
        message = str(exc) if isinstance(exc, svcapis.BadInput) else f"request body is not valid JSON: {exc}"
        return _error(400, message)


def service_routes() -> list[Route]:
    return [Route("/_svc/{name}/readyz", probe, methods=["GET"]),
            Route("/_svc/{name}/livez", probe, methods=["GET"]),
            Route("/_svc/{name}/{path:path}", call, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])]
