"""Bento/model transfer routes: the PATCH actions, proxy upload/download and the presigned storage.

The sandbox knob ``transfer_mode`` decides what create/update/GET answer in ``transmission_strategy``
(bentoml 1.4 then picks its protocol, see bentoml's `BentoAPI.push` in `src/bentoml/_internal/cloud/bento.py`):

* ``proxy`` -> ``"proxy"``: ``PUT .../upload`` with the raw tar (marked ``success`` when complete, no
  ``finish_upload``), ``GET .../download``;
* ``presigned`` -> ``null``: ``presign_upload_url`` returns a single-PUT URL, ``finish_upload`` ends it;
  downloads via ``presign_download_url``;
* ``multipart`` -> ``"presigned_url"``: ``start_multipart_upload``, ``presign_multipart_upload_url`` per
  part (any part sizes), ``PUT`` parts (``ETag`` = quoted md5), ``complete_multipart_upload``,
  ``finish_upload``; downloads via ``presign_download_url``.

Storage URLs (``/_storage/...``) are unauthenticated and checked by signature only; errors there are
S3-style XML. Faults: ``drop_upload_after`` cuts any upload body (proxy or presigned) after N bytes by
aborting the TCP connection; ``presign_forbidden`` makes every storage request answer 403;
``storage_bandwidth``/``storage_rtt`` shape every storage transfer (:mod:`.network`). Presigned and
proxy GETs honour ``Range`` (206 with ``Content-Range``, as S3 does; starlette's ``FileResponse``).
"""

from __future__ import annotations

import html
import secrets
from pathlib import Path
from typing import Any

import anyio
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from bentocloud_jupyter.sandbox import catalog, shapes, uploads
from bentocloud_jupyter.sandbox.api import Context, auth, body_json, ctx, ok
from bentocloud_jupyter.sandbox.faults import drop_connection
from bentocloud_jupyter.sandbox.records import ArtifactRecord, SandboxError
from bentocloud_jupyter.sandbox.state import Store
from bentocloud_jupyter.sandbox.storage import UploadDropped, concatenate, receive_to


def _kind(request: Request) -> str:
    return "bento" if "/bento_repositories/" in request.url.path else "model"


def _record(request: Request) -> tuple[str, ArtifactRecord]:
    kind = _kind(request)
    store = ctx(request).store
    return kind, catalog.get_version(store, kind, request.path_params["repo"], request.path_params["version"])


def _json(store: Store, kind: str, rec: ArtifactRecord, **extra: Any) -> dict[str, Any]:
    with store.lock:
        out = (shapes.bento if kind == "bento" else shapes.model)(store, rec)
        out.update(extra)
        return out


def _presign(request: Request, method: str, kind: str, rec: ArtifactRecord, obj: str) -> str:
    c = ctx(request)
    return c.blobs.presign(str(request.base_url), method, kind, rec.repo, rec.version, obj, c.store.clock())


def _ensure_archive(c: Context, kind: str, rec: ArtifactRecord) -> bool:
    """True when there are bytes to serve; seeded records get a small generated archive."""
    if c.blobs.has_archive(rec.uid):
        return True
    if rec.seeded and rec.upload_status == "success":
        uploads.seed_archive(kind, rec, c.blobs.archive(rec.uid))
        return True
    return False


# ----- PATCH actions --------------------------------------------------------------------------------
async def update_version(request: Request) -> Response:
    auth(request)
    kind, rec = _record(request)
    store = ctx(request).store
    return ok(_json(store, kind, uploads.update_version(store, rec, await body_json(request))))


async def action(request: Request) -> Response:
    """Every ``PATCH .../{version}/<action>``."""
    auth(request)
    kind, rec = _record(request)
    c = ctx(request)
    store, name = c.store, request.path_params["action"]
    body = await body_json(request)
    if name == "start_upload":
        return ok(_json(store, kind, uploads.start_upload(store, rec)))
    if name == "finish_upload":
        return ok(_json(store, kind, uploads.finish_upload(store, rec, body)))
    if name == "presign_upload_url":
        url = "" if store.transfer_mode == "proxy" else _presign(request, "PUT", kind, rec, "archive.tar")
        return ok(_json(store, kind, rec, presigned_upload_url=url))
    if name == "presign_download_url":
        url = "" if store.transfer_mode == "proxy" else _presign(request, "GET", kind, rec, "archive.tar")
        return ok(_json(store, kind, rec, presigned_download_url=url))
    if name == "start_multipart_upload":
        return ok(_json(store, kind, uploads.start_multipart(store, rec)))
    if name == "presign_multipart_upload_url":
        upload_id, number = uploads.part_request(store, rec, body)
        url = _presign(request, "PUT", kind, rec, f"parts/{upload_id}/{number}")
        return ok(_json(store, kind, rec, presigned_upload_url=url, upload_id=upload_id))
    if name == "complete_multipart_upload":
        upload_id, numbers = uploads.complete_parts(store, rec, body)
        paths = [c.blobs.part(rec.uid, upload_id, n) for n in numbers]
        await anyio.to_thread.run_sync(concatenate, paths, c.blobs.archive(rec.uid))
        uploads.close_multipart(store, rec, upload_id)
        c.blobs.drop_parts(rec.uid, upload_id)
        return ok(_json(store, kind, rec))
    raise SandboxError(404, f"no route PATCH {request.url.path}: record not found")


# ----- proxy upload and download ------------------------------------------------------------------
async def proxy_upload(request: Request) -> Response:
    auth(request)
    kind, rec = _record(request)
    c = ctx(request)
    if rec.upload_status != "uploading":
        uploads.start_upload(c.store, rec)
    try:
        await receive_to(request.stream(), c.blobs.archive(rec.uid), c.get_faults().drop_upload_after,
                         c.blobs.count_received)
    except UploadDropped as exc:
        uploads.mark(c.store, rec, "failed", f"proxy upload interrupted: {exc}")
        await drop_connection(request.scope)
        return Response(status_code=400)  # the connection is gone: nobody reads this
    except ClientDisconnect:
        uploads.mark(c.store, rec, "failed", "proxy upload interrupted: the client disconnected")
        return Response(status_code=400)
    return ok(_json(c.store, kind, uploads.mark(c.store, rec, "success")))


async def proxy_download(request: Request) -> Response:
    auth(request)
    kind, rec = _record(request)
    c = ctx(request)
    if rec.upload_status != "success":
        raise SandboxError(400, f"{kind} {rec.repo}:{rec.version} cannot be downloaded: upload_status is "
                                f"{rec.upload_status!r}")
    if not _ensure_archive(c, kind, rec):
        raise SandboxError(400, f"{kind} {rec.repo}:{rec.version} has no uploaded content")
    return FileResponse(c.blobs.archive(rec.uid), media_type="application/x-tar")


# ----- presigned storage ----------------------------------------------------------------------------
def s3_error(status: int, code: str, message: str) -> Response:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{html.escape(message)}'
            f"</Message><RequestId>{secrets.token_hex(8).upper()}</RequestId></Error>")
    return Response(body, status_code=status, media_type="application/xml")


async def storage(request: Request) -> Response:
    c = ctx(request)
    raw = request.scope.get("raw_path") or request.url.path.encode()
    q = request.query_params
    reason = c.blobs.verify(request.method, raw.decode("latin-1"), q.get("expires"), q.get("signature"),
                            c.store.clock())
    if c.get_faults().presign_forbidden:
        reason = "Access Denied (sandbox fault injection: presign_forbidden)"
    if reason:
        return s3_error(403, "AccessDenied", reason)
    kinds = {"bentos": "bento", "models": "model"}
    kind, obj = kinds.get(request.path_params["kind"], ""), request.path_params["obj"]
    try:
        rec = catalog.get_version(c.store, kind, request.path_params["repo"], request.path_params["version"])
    except SandboxError:
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    if obj == "archive.tar" and request.method == "GET":
        if not _ensure_archive(c, kind, rec):
            return s3_error(404, "NoSuchKey", "The specified key does not exist.")
        return FileResponse(c.blobs.archive(rec.uid), media_type="application/x-tar")
    if obj == "archive.tar":
        return (await _storage_put(request, c, c.blobs.archive(rec.uid)))[0]
    pieces = obj.split("/")
    if len(pieces) != 3 or pieces[0] != "parts" or not pieces[2].isdigit() or request.method != "PUT":
        return s3_error(404, "NoSuchKey", "The specified key does not exist.")
    upload_id, number = pieces[1], int(pieces[2])
    if upload_id not in rec.multipart:
        return s3_error(404, "NoSuchUpload", "The specified multipart upload does not exist.")
    response, size = await _storage_put(request, c, c.blobs.part(rec.uid, upload_id, number))
    etag = response.headers.get("etag")
    if etag and not uploads.record_part(c.store, rec, upload_id, number, etag, size):
        return s3_error(404, "NoSuchUpload", "The multipart upload was completed or aborted meanwhile.")
    return response


async def _storage_put(request: Request, c: Context, target: Path) -> tuple[Response, int]:
    """(response, size): 200 with the object's ``ETag``, or a dropped connection."""
    try:
        size, etag = await receive_to(request.stream(), target, c.get_faults().drop_upload_after,
                                      c.blobs.count_received)
    except UploadDropped:
        await drop_connection(request.scope)
        return Response(status_code=400), 0  # the connection is gone: nobody reads this
    except ClientDisconnect:
        return Response(status_code=400), 0
    return Response(b"", status_code=200, headers={"ETag": etag}), size


def transfer_routes() -> list[Route]:
    """The transfer routes (registered before the generic catalogue routes)."""
    routes: list[Route] = []
    for kind, unit in (("bento", "bentos"), ("model", "models")):
        one = f"/api/v1/{kind}_repositories/{{repo}}/{unit}/{{version}}"
        if kind == "bento":
            routes.append(Route(one, update_version, methods=["PATCH"]))
        routes += [Route(one + "/upload", proxy_upload, methods=["PUT"]),
                   Route(one + "/download", proxy_download, methods=["GET"]),
                   Route(one + "/{action}", action, methods=["PATCH"])]
    routes.append(Route("/_storage/{kind}/{repo}/{version}/{obj:path}", storage, methods=["GET", "PUT"]))
    return routes
