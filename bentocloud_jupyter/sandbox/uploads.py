"""Upload bookkeeping on bento/model records: status transitions, multipart validation, seed archives.

``upload_status`` moves ``pending`` (created) -> ``uploading`` (``start_upload`` or the first proxy
byte) -> ``success`` (proxy upload complete, or ``finish_upload`` success) / ``failed`` (``finish_upload``
failed with its reason, or a proxy upload cut off). Functions take the :class:`Store` and hold its lock;
errors are :class:`SandboxError` with S3-like codes in the message (``InvalidPart``, ``NoSuchUpload``).
"""

from __future__ import annotations

import io
import secrets
import tarfile
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.sandbox.records import ArtifactRecord, SandboxError, iso
from bentocloud_jupyter.sandbox.state import Store

MAX_PARTS = 10_000
TRANSFER_MODES = ("proxy", "presigned", "multipart")


def check_mode(mode: object) -> str:
    if mode not in TRANSFER_MODES:
        raise ValueError(f"transfer_mode must be one of {', '.join(TRANSFER_MODES)}, got {mode!r}")
    return str(mode)


def update_version(store: Store, rec: ArtifactRecord, body: object) -> ArtifactRecord:
    """UpdateBento ``{description, manifest, labels}``; null fields keep their value."""
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object")
    manifest, labels = body.get("manifest"), body.get("labels")
    if manifest is not None and not isinstance(manifest, dict):
        raise SandboxError(400, "manifest must be an object")
    if labels is not None and not isinstance(labels, list):
        raise SandboxError(400, "labels must be a list of {key, value}")
    with store.lock:
        if body.get("description") is not None:
            rec.description = str(body["description"])
        if manifest is not None:
            rec.manifest = manifest
        if labels is not None:
            rec.labels = list(labels)
        return rec


def start_upload(store: Store, rec: ArtifactRecord) -> ArtifactRecord:
    with store.lock:
        rec.upload_status = "uploading"
        rec.upload_started_at = store.clock()
        rec.upload_finished_at = None
        rec.upload_finished_reason = ""
        return rec


def mark(store: Store, rec: ArtifactRecord, status: str, reason: str = "") -> ArtifactRecord:
    """End an upload as ``success`` or ``failed`` (with a reason)."""
    with store.lock:
        rec.upload_status = status
        rec.upload_finished_at = store.clock()
        rec.upload_finished_reason = reason
        if rec.upload_started_at is None:
            rec.upload_started_at = rec.upload_finished_at
        return rec


def finish_upload(store: Store, rec: ArtifactRecord, body: object) -> ArtifactRecord:
    """``{"status": "success"|"failed"|null, "reason": str|null}``; null status means success."""
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object {status, reason}")
    status = body.get("status") or "success"
    if status not in ("success", "failed"):
        raise SandboxError(400, f"status must be 'success' or 'failed', got {status!r}")
    return mark(store, rec, status, str(body.get("reason") or ""))


def start_multipart(store: Store, rec: ArtifactRecord) -> ArtifactRecord:
    with store.lock:
        upload_id = "upload-" + secrets.token_hex(12)
        rec.multipart[upload_id] = {}
        rec.upload_id = upload_id
        return rec


def part_request(store: Store, rec: ArtifactRecord, body: object) -> tuple[str, int]:
    """Validate ``{"upload_id", "part_number"}`` of presign_multipart_upload_url."""
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object {upload_id, part_number}")
    upload_id, number = body.get("upload_id"), body.get("part_number")
    with store.lock:
        if not isinstance(upload_id, str) or upload_id not in rec.multipart:
            raise SandboxError(400, f"NoSuchUpload: upload_id {upload_id!r} is not an open multipart upload "
                                    "of this version (call start_multipart_upload)")
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_PARTS:
        raise SandboxError(400, f"part_number must be an integer from 1 to {MAX_PARTS}, got {number!r}")
    return upload_id, number


def record_part(store: Store, rec: ArtifactRecord, upload_id: str, number: int, etag: str, size: int) -> bool:
    """Remember an uploaded part; False if the upload is no longer open."""
    with store.lock:
        parts = rec.multipart.get(upload_id)
        if parts is None:
            return False
        parts[number] = (etag, size)
        return True


def complete_parts(store: Store, rec: ArtifactRecord, body: object) -> tuple[str, list[int]]:
    """Check ``{"upload_id", "parts": [{"part_number", "etag"}]}`` like S3; returns (id, part numbers)."""
    if not isinstance(body, dict):
        raise SandboxError(400, "request body must be a JSON object {upload_id, parts}")
    upload_id, parts = body.get("upload_id"), body.get("parts")
    with store.lock:
        uploaded = rec.multipart.get(upload_id) if isinstance(upload_id, str) else None
        if uploaded is None or not isinstance(upload_id, str):
            raise SandboxError(400, f"NoSuchUpload: upload_id {upload_id!r} is not an open multipart upload")
        if not isinstance(parts, list) or not parts:
            raise SandboxError(400, "MalformedXML: parts must list at least one {part_number, etag}")
        numbers: list[int] = []
        for item in parts:
            number = item.get("part_number") if isinstance(item, dict) else None
            etag = item.get("etag") if isinstance(item, dict) else None
            if isinstance(number, bool) or not isinstance(number, int):
                raise SandboxError(400, "InvalidPart: every part needs an integer part_number")
            if not isinstance(etag, str) or not etag.strip('"'):
                raise SandboxError(400, f"InvalidPart: part {number} has no etag")
            if number not in uploaded:
                raise SandboxError(400, f"InvalidPart: part {number} was never uploaded")
            if etag.strip('"') != uploaded[number][0].strip('"'):
                raise SandboxError(400, f"InvalidPart: etag {etag} of part {number} does not match the "
                                        "uploaded part")
            if numbers and number <= numbers[-1]:
                raise SandboxError(400, "InvalidPartOrder: parts must be listed in ascending part_number order")
            numbers.append(number)
        return upload_id, numbers


def close_multipart(store: Store, rec: ArtifactRecord, upload_id: str) -> None:
    with store.lock:
        rec.multipart.pop(upload_id, None)


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        root = tarfile.TarInfo(".")
        root.type, root.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(root)
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(f"./{name}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def seed_archive(kind: str, rec: ArtifactRecord, target: Path) -> None:
    """A small but well-formed archive for a seeded record that was never uploaded."""
    manifest = rec.manifest or {}
    created = iso(rec.build_at or rec.created_at)
    if kind == "model":
        info: dict[str, Any] = {
            "name": rec.repo, "version": rec.version, "module": manifest.get("module", ""), "labels": {},
            "options": {}, "metadata": manifest.get("metadata") or {}, "context": manifest.get("context") or {},
            "signatures": {"predict": {"batchable": False}}, "api_version": "v1", "creation_time": created}
        files = {"model.yaml": yaml.safe_dump(info, sort_keys=False).encode(),
                 "saved_model.pkl": f"sandbox weights of {rec.repo}:{rec.version}\n".encode()}
    else:
        entry = manifest.get("entry_service") or "Service"
        bento = {key: manifest.get(key) for key in ("service", "name", "version", "bentoml_version")}
        bento.update({"creation_time": created, "labels": {i["key"]: i["value"] for i in rec.labels},
                      "models": [], "entry_service": entry, "services": manifest.get("services") or [],
                      "envs": manifest.get("envs") or [], "schema": manifest.get("schema") or {}, "args": {},
                      "spec": manifest.get("spec") or 2, "image": manifest.get("image")})
        source = f"import bentoml\n\n\n@bentoml.service\nclass {entry}:\n    \"\"\"Sandbox stand-in.\"\"\"\n"
        files = {"bento.yaml": yaml.safe_dump(bento, sort_keys=False).encode(),
                 "README.md": rec.description.encode(), "src/service.py": source.encode(),
                 "env/python/requirements.txt": b"bentoml\n"}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.seed.partial")
    partial.write_bytes(_tar(files))
    partial.replace(target)
