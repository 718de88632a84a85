"""Codespaces: the files of dev deployments (``bentoml code``) and the reload a sync causes.

* ``GET /api/v2/deployments/{name}/files?cluster=`` -> ``{"files": [{path, size, md5}]}``;
* ``POST`` the same path ``{"files": [{path, b64_encoded_content}]}``; ``DELETE`` ``{"paths": [...]}``
  (a folder's path deletes what is in it; unknown paths are ignored, as a re-sync after a local delete
  needs). 404 for an unknown deployment or one created without ``dev: true``; 400 for a path that is
  absolute, escapes the project root or holds a NUL, a backslash, a control or line-separator character,
  bad base64 or a bad shape; 413 above :data:`MAX_REQUEST_BYTES` or :data:`MAX_JSON_VALUES` per request,
  :data:`MAX_TOTAL_BYTES` / :data:`MAX_FILES` per codespace or :data:`MAX_SANDBOX_BYTES` over all of them.
  Files live in memory per deployment; the service file is read off the event loop and outside the lock.

A dev deployment serves nothing until ``.project_ready`` (uploaded last by bentoml) arrives. Every sync
after that is a reload: the api-server log says which files changed, ``/readyz`` answers 503 for
:data:`RELOAD` seconds (divided by the speed), then the log says the service is initialized and readyz
answers 200. The service is read from the synced files with :mod:`.devschema` (never run); a service
file that does not parse keeps readyz at 503 (the log names the error and its line) while
``/schema.json`` and ``/docs.json`` keep the last good service, as a dev server that failed to reload.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import posixpath
import threading
import unicodedata
import weakref
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bentocloud_jupyter.sandbox import svcapis
from bentocloud_jupyter.sandbox.api import arg, authed
from bentocloud_jupyter.sandbox.devschema import DevSchemaError, DevService, printable, read_service
from bentocloud_jupyter.sandbox.records import DeploymentRecord, SandboxError, iso, not_found
from bentocloud_jupyter.sandbox.state import Store

READY_MARKER = ".project_ready"
RELOAD = 1.0  # seconds at speed 1 that readyz answers 503 after a sync
MAX_REQUEST_BYTES = 96 * 2**20  # bentoml batches at 64 MiB of base64 (plus the file that crossed it)
MAX_TOTAL_BYTES = 256 * 2**20  # decoded bytes kept per codespace
MAX_SANDBOX_BYTES = 1024 * 2**20  # decoded bytes kept over every live codespace of one sandbox
MAX_FILES = 10_000
MAX_JSON_VALUES = 16 * MAX_FILES  # ',', '{' and '[' in one body: base64 has none, a batch needs ~3 a file
MAX_PATH = 1024
LOG_LIMIT = 1000  # api-server log lines kept (as for access lines)
DOCUMENTS = ("/docs.json", "/schema.json")


@dataclass
class Space:
    """One codespace's synced files, the last good service read from them, and its reload state."""

    files: dict[str, bytes] = field(default_factory=dict)
    project_ready: bool = False
    reload_until: float = 0.0
    service: DevService | None = None
    error: str | None = None
    pending: list[tuple[float, str]] = field(default_factory=list)  # (store-clock time due, log line)
    generation: int = 0  # reloads begun; a read finished for an older one is dropped
    reading: bool = False  # the service file of the newest reload is being read (outside the lock)


_SPACES: weakref.WeakKeyDictionary[object, dict[str, Space]] = weakref.WeakKeyDictionary()
_SPACES_LOCK = threading.Lock()


def space_of(store: Store, dep: DeploymentRecord, create: bool = False) -> Space | None:
    """The codespace of a deployment (by uid, so a recreated name starts empty)."""
    with _SPACES_LOCK:
        spaces = _SPACES.setdefault(store, {})
        if create and dep.uid not in spaces:
            live = {d.uid for d in store.deployments.values()}
            for uid in [u for u in spaces if u not in live]:
                del spaces[uid]
            spaces[dep.uid] = Space()
        return spaces.get(dep.uid)


def _unsafe(c: str) -> bool:
    """Control characters (C1 too), line and paragraph separators, bidi overrides: what forges or hides a
    log line (``str.splitlines`` breaks on NEL and U+2028 as on newlines)."""
    return unicodedata.category(c) in ("Cc", "Zl", "Zp") or "\u202a" <= c <= "\u202e" or "\u2066" <= c <= "\u2069"


def check_path(path: object) -> str:
    """A relative POSIX path inside the project root, normalised; else 400 saying why."""
    if not isinstance(path, str) or not path.strip():
        raise SandboxError(400, "each file needs a non-empty string 'path'")
    if len(path) > MAX_PATH or "\\" in path or any(_unsafe(c) for c in path):
        raise SandboxError(400, f"path {path[:80]!r} is refused: at most {MAX_PATH} characters, "
                                "'/' separators, no NUL, line separators or other control characters")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        raise SandboxError(400, f"path {path!r} is absolute: send it relative to the project root")
    clean = posixpath.normpath(path)
    if clean == ".." or clean.startswith("../") or clean == ".":
        raise SandboxError(400, f"path {path!r} escapes the project root")
    return clean


def dev_deployment(store: Store, name: str, cluster: str | None) -> DeploymentRecord:
    dep = store.get_deployment(name, cluster)
    if not dep.dev:
        raise not_found(f"codespace {name!r} (deployment {name!r} was not created with dev: true)")
    return dep


async def bounded_json(request: Request) -> Any:
    """The JSON body, refused with 413 past :data:`MAX_REQUEST_BYTES` before it is all read, or past
    :data:`MAX_JSON_VALUES` before it is parsed (Python objects take some 25 times the bytes they came in)."""
    too_big = SandboxError(413, f"request body over {MAX_REQUEST_BYTES} bytes: send the files in smaller batches")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_REQUEST_BYTES:
        raise too_big
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_REQUEST_BYTES:
            raise too_big
        chunks.append(chunk)
    raw = b"".join(chunks)
    if sum(raw.count(c) for c in (b",", b"{", b"[")) > MAX_JSON_VALUES:  # 96 MB of "{}," is 2 GB of dicts
        raise SandboxError(413, f"request body holds over {MAX_JSON_VALUES} JSON values: send the files in "
                                "smaller batches")
    try:
        return json.loads(raw or b"null")
    except (ValueError, RecursionError):
        raise SandboxError(400, "request body is not valid JSON") from None


def decode_files(body: Any) -> dict[str, bytes]:
    """``{"files": [{path, b64_encoded_content}]}`` -> {clean path: bytes}; 400 on any bad entry."""
    items = body.get("files") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise SandboxError(400, "send {\"files\": [{\"path\": ..., \"b64_encoded_content\": ...}]}")
    out: dict[str, bytes] = {}
    for item in items:
        if not isinstance(item, dict):
            raise SandboxError(400, "each file must be an object {path, b64_encoded_content}")
        path = check_path(item.get("path"))
        content = item.get("b64_encoded_content")
        if not isinstance(content, str):
            raise SandboxError(400, f"file {path!r}: b64_encoded_content must be a base64 string")
        try:
            out[path] = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise SandboxError(400, f"file {path!r}: b64_encoded_content is not valid base64") from None
    return out


def decode_paths(body: Any) -> list[str]:
    paths = body.get("paths") if isinstance(body, dict) else None
    if not isinstance(paths, list):
        raise SandboxError(400, "send {\"paths\": [\"relative/path\", ...]}")
    return [check_path(p) for p in paths]


def _check_bounds(store: Store, dep: DeploymentRecord, files: dict[str, bytes]) -> None:
    """Per codespace and over the whole sandbox (many codespaces of 256 MiB each would exhaust memory)."""
    if len(files) > MAX_FILES:
        raise SandboxError(413, f"a codespace holds at most {MAX_FILES} files: exclude the rest in bentofile.yaml")
    size = sum(len(v) for v in files.values())
    if size > MAX_TOTAL_BYTES:
        raise SandboxError(413, f"a codespace holds at most {MAX_TOTAL_BYTES} bytes: exclude large files "
                                "in bentofile.yaml")
    with _SPACES_LOCK:  # a deleted deployment's files are freed here, not kept until the next create
        spaces = _SPACES.setdefault(store, {})
        live = {d.uid for d in store.deployments.values()}
        for uid in [u for u in spaces if u not in live and u != dep.uid]:
            del spaces[uid]
        others = [s for uid, s in spaces.items() if uid != dep.uid]
    if size + sum(len(v) for s in others for v in s.files.values()) > MAX_SANDBOX_BYTES:
        raise SandboxError(413, f"the sandbox keeps at most {MAX_SANDBOX_BYTES} bytes over all codespaces: "
                                "terminate or delete codespaces you no longer use")


def under(path: str, gone: set[str]) -> bool:
    """``path`` is one of ``gone`` or inside one of them: bentoml sends a deleted folder as its own path
    (watchfiles reports the folder, not always each file in it)."""
    parts = path.split("/")
    return any("/".join(parts[:i]) in gone for i in range(1, len(parts) + 1))


def sync(store: Store, dep: DeploymentRecord, upload: dict[str, bytes], delete: list[str]) -> None:
    """Apply one sync (all or nothing), then reload once the project is complete.

    The service file is read outside the store's lock (a big one takes a second to parse, and every
    request of the sandbox needs the lock); a newer sync that started meanwhile makes this read stale.
    """
    with store.lock:
        space = space_of(store, dep, create=True)
        assert space is not None
        files = dict(space.files)
        files.update(upload)
        if delete:
            gone = set(delete)
            files = {path: data for path, data in files.items() if not under(path, gone)}
        _check_bounds(store, dep, files)
        space.files = files
        was_ready = space.project_ready
        space.project_ready = READY_MARKER in files
        if not space.project_ready:
            return
        changed = sorted(p for p in [*upload, *delete] if p != READY_MARKER)
        started = begin_reload(store, space, changed if was_ready else [])
    found = read_safely(files)
    with store.lock:
        finish_reload(space, started, found)


def reload(store: Store, dep: DeploymentRecord, space: Space, changed: list[str]) -> None:
    """What a dev server prints and does when its files change, in one go (call with the store lock held)."""
    finish_reload(space, begin_reload(store, space, changed), read_safely(space.files))


def begin_reload(store: Store, space: Space, changed: list[str]) -> tuple[int, float]:
    """Log the change and start the 503 window (lock held); (this reload's generation, its start)."""
    now = store.clock()
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        space.pending.append((now, f"{iso(now)} [INFO] [cli] Detected changes in {shown}; reloading..."))
    else:
        space.pending.append((now, f"{iso(now)} [INFO] [cli] Project files ready; starting the dev server"))
    space.reload_until = now + RELOAD / store.speed
    del space.pending[:-LOG_LIMIT]  # nobody may be reading the log
    space.generation += 1
    space.reading = True
    return space.generation, now


def read_safely(files: dict[str, bytes]) -> DevService | str:
    """The service, or why it cannot be read: DevSchemaError's words, or a reader bug named by its kind."""
    try:
        return read_service(files)
    except Exception as exc:  # the sync stands whatever the reader does; the reload failed
        why = str(exc) if isinstance(exc, DevSchemaError) else f"the sandbox could not read it ({type(exc).__name__})"
        return printable(why)


def finish_reload(space: Space, started: tuple[int, float], found: DevService | str) -> None:
    """Apply what the read found (lock held), unless a newer sync began its own reload meanwhile."""
    generation, now = started
    if generation != space.generation:
        return
    space.reading = False
    if isinstance(found, str):
        space.error = found
        space.pending.append((now, f"{iso(now)} [ERROR] [cli] Failed to reload the service: {found}"))
        return
    space.service, space.error = found, None
    done = space.reload_until
    names = ", ".join(a.route for a in found.apis) or "no APIs"
    space.pending.append((done, f"{iso(done)} [INFO] [entry_service:{found.name}:1] Service {found.name} "
                                f"initialized ({names})"))


def flush_log(store: Store, dep: DeploymentRecord) -> None:
    """Move the reload lines that are due into the api-server log (``store.svc_logs``)."""
    with store.lock:
        space = space_of(store, dep)
        if space is None or not space.pending:
            return
        now = store.clock()
        due = [line for at, line in space.pending if at <= now]
        space.pending = [(at, line) for at, line in space.pending if at > now]
        lines = store.svc_logs.setdefault(dep.name, [])
        lines.extend(due)
        del lines[:-LOG_LIMIT]


def readiness(store: Store, dep: DeploymentRecord) -> str | None:
    """None when the codespace serves; else why not (a dev deployment serves nothing before its files)."""
    with store.lock:
        space = space_of(store, dep)
        if space is None or not space.project_ready:
            return "codespace is waiting for its project files (.project_ready not uploaded yet)"
        if space.reading:
            return "the dev server is reloading"
        if space.error:
            return f"the dev server failed to reload: {space.error}"
        if store.clock() < space.reload_until:
            return "the dev server is reloading"
        return None


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _documents(service: DevService, dep: DeploymentRecord, path: str) -> dict[str, Any]:
    routes = [{"name": a.name, "route": a.route, "description": a.description, "batchable": False,
               "input": a.input, "output": a.output, "is_task": False} for a in service.apis]
    manifest = {"entry_service": service.name, "schema": {"name": service.name, "type": "service",
                                                          "routes": routes}}
    if path == "/schema.json":
        return svcapis.service_schema("", manifest, f"Codespace {dep.name} (read from {service.path})")
    return svcapis.document("", "dev", manifest, f"Codespace {dep.name} (read from {service.path})")


def answer(store: Store, dep: DeploymentRecord, method: str, path: str, raw: bytes) -> Response:
    """A call into a running dev deployment: documents from the last good service, APIs while ready."""
    with store.lock:
        space = space_of(store, dep)
        service = space.service if space else None
        why = readiness(store, dep)
    if path in DOCUMENTS and service is not None:
        if method != "GET":
            return _error(405, f"method not allowed: use GET {path}")
        return JSONResponse(_documents(service, dep, path))
    if why is not None or service is None:
        return _error(503, why or "the dev server has no service loaded")
    apis = {a.route: a for a in service.apis}
    if path not in apis:
        return _error(404, f"no API at {path}: see /docs.json")
    if method != "POST":
        return _error(405, f"method not allowed: use POST {path}")
    try:
        body = json.loads(raw or b"null")
        svcapis.check(body, apis[path].input)
        value = apis[path].handler(body)
    except RecursionError:
        return _error(400, "request body is nested too deeply")
    except ValueError as exc:
        message = str(exc) if isinstance(exc, svcapis.BadInput) else f"request body is not valid JSON: {exc}"
        return _error(400, message)
    if isinstance(value, str):  # a str-returning BentoML API answers text/plain
        return Response(value, media_type="text/plain")
    return JSONResponse(value)


# ----- routes ---------------------------------------------------------------------------------
async def list_files(request: Request, store: Store) -> Any:
    dep = dev_deployment(store, request.path_params["name"], arg(request, "cluster"))
    with store.lock:
        space = space_of(store, dep)
        files = dict(space.files) if space else {}
    return {"files": [{"path": p, "size": len(b), "md5": hashlib.md5(b, usedforsecurity=False).hexdigest()}
                      for p, b in sorted(files.items())]}


async def upload_files(request: Request, store: Store) -> Any:
    dep = dev_deployment(store, request.path_params["name"], arg(request, "cluster"))
    body = await bounded_json(request)
    await run_in_threadpool(lambda: sync(store, dep, decode_files(body), []))  # the event loop keeps serving
    return {}


async def delete_files(request: Request, store: Store) -> Any:
    dep = dev_deployment(store, request.path_params["name"], arg(request, "cluster"))
    body = await bounded_json(request)
    await run_in_threadpool(lambda: sync(store, dep, {}, decode_paths(body)))
    return {}


def codespace_routes() -> list[Route]:
    path = "/api/v2/deployments/{name}/files"
    return [Route(path, authed(list_files), methods=["GET"]),
            Route(path, authed(upload_files), methods=["POST"]),
            Route(path, authed(delete_files), methods=["DELETE"])]
