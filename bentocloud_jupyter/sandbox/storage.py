"""On-disk blob storage of uploaded archives, presigned-URL signing, and streaming body reception.

A :class:`Blobs` owns one temporary directory (created by ``Sandbox.start``, removed by ``stop``).
Each bento/model version keeps its archive at ``<root>/<record uid>/archive.tar`` and open multipart
parts at ``<root>/<record uid>/parts/<upload id>/<n>``. Bodies are written chunk by chunk from
``request.stream()``, never held in memory.

Presigned URLs point at the sandbox itself::

    {base}/_storage/{bentos|models}/{repo}/{version}/archive.tar?expires=<epoch>&signature=<hex>
    {base}/_storage/{bentos|models}/{repo}/{version}/parts/{upload_id}/{n}?expires=...&signature=...

``signature`` is an HMAC-SHA256 (random per-sandbox secret) of ``METHOD\\npath\\nexpires``: a GET URL
cannot be used to PUT, and a changed path, method or expiry answers 403.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import shutil
import tempfile
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlencode

PRESIGN_TTL = 3600.0  # seconds a presigned URL stays valid (store clock)


class UploadDropped(Exception):
    """The ``drop_upload_after`` fault cut the body after ``received`` bytes."""

    def __init__(self, received: int) -> None:
        super().__init__(f"connection closed after {received} bytes of the upload body")
        self.received = received


class Blobs:
    """Archives on disk plus URL signing; ``root`` is None until :meth:`open`.

    ``received`` counts every upload body byte that reached storage (cut-off bodies included), so a
    test can prove how much a resumed push sent again.
    """

    def __init__(self) -> None:
        self.secret = secrets.token_bytes(32)
        self.root: Path | None = None
        self.received = 0
        self._count_lock = threading.Lock()

    def count_received(self, nbytes: int) -> None:
        with self._count_lock:
            self.received += nbytes

    def open(self) -> None:
        if self.root is None:
            self.root = Path(tempfile.mkdtemp(prefix="bentocloud-sandbox-blobs-"))
            # A sandbox never stopped (a kernel shut down with it running) still cleans up at exit.
            self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.root), True)

    def close(self) -> None:
        """Delete every stored byte (idempotent)."""
        root, self.root = self.root, None
        if root is not None:
            self._cleanup()

    def clear(self) -> None:
        """Forget all archives (the store was reseeded) but keep the directory."""
        if self.root is not None:
            for child in self.root.iterdir():
                shutil.rmtree(child, ignore_errors=True)

    def _dir(self, uid: str) -> Path:
        if self.root is None:
            raise RuntimeError("blob storage is not open (the sandbox is not running)")
        return self.root / uid

    def archive(self, uid: str) -> Path:
        return self._dir(uid) / "archive.tar"

    def part(self, uid: str, upload_id: str, number: int) -> Path:
        return self._dir(uid) / "parts" / upload_id / str(number)

    def drop_parts(self, uid: str, upload_id: str) -> None:
        shutil.rmtree(self._dir(uid) / "parts" / upload_id, ignore_errors=True)

    def has_archive(self, uid: str) -> bool:
        return self.root is not None and self.archive(uid).is_file()

    # ----- signing ------------------------------------------------------------------------------
    def _signature(self, method: str, path: str, expires: int) -> str:
        message = f"{method}\n{path}\n{expires}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def presign(self, base_url: str, method: str, kind: str, repo: str, version: str, obj: str,
                now: float) -> str:
        """A URL that allows exactly ``method`` on that object until ``now + PRESIGN_TTL``."""
        path = f"/_storage/{kind}s/{quote(repo, safe='')}/{quote(version, safe='')}/{obj}"
        expires = int(now + PRESIGN_TTL)
        query = urlencode({"expires": expires, "signature": self._signature(method, path, expires)})
        return f"{base_url.rstrip('/')}{path}?{query}"

    def verify(self, method: str, raw_path: str, expires: str | None, signature: str | None, now: float) -> str:
        """'' when valid, else the S3-style reason (``AccessDenied`` message)."""
        if not expires or not signature:
            return "Request is missing the expires or signature query parameter"
        try:
            when = int(expires)
        except ValueError:
            return "Invalid expires value"
        if not hmac.compare_digest(self._signature(method, raw_path, when), signature):
            return "The request signature we calculated does not match the signature you provided"
        if when < now:
            return "Request has expired"
        return ""


async def receive_to(stream: AsyncIterator[bytes], target: Path, limit: int,
                     count: Callable[[int], None] | None = None) -> tuple[int, str]:
    """Write a request body to ``target`` atomically; returns (size, quoted md5 ETag).

    ``count`` is told the size of every chunk received (the byte counter of :class:`Blobs`).

    ``limit`` > 0 raises :class:`UploadDropped` once the body grows past that many bytes (the caller
    then aborts the connection); the partial file is always removed on failure.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    digest = hashlib.md5()  # noqa: S324 (an ETag, as S3 computes it; not a security use)
    size = 0
    try:
        with open(partial, "wb") as out:
            async for chunk in stream:
                if count is not None:
                    count(len(chunk) if not limit else min(len(chunk), max(0, limit - size)))
                if limit and size + len(chunk) > limit:
                    keep = chunk[: limit - size]
                    out.write(keep)
                    raise UploadDropped(size + len(keep))
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return size, f'"{digest.hexdigest()}"'


def copy_into(src: BinaryIO, out: BinaryIO) -> None:
    """Append ``src`` to ``out``: in the kernel where it can (``copy_file_range``), else a streamed copy.

    Completing a multi-GB upload is an in-place join on S3; here a user-space copy of every byte took
    seconds per GB and weighed on every push benchmark alike.
    """
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is not None:
        out.flush()
        start = os.lseek(out.fileno(), 0, os.SEEK_CUR)
        try:
            while copy_range(src.fileno(), out.fileno(), 64 * 1024 * 1024):
                pass
            return
        except OSError:  # not supported here: undo whatever was copied, then copy in user space
            os.ftruncate(out.fileno(), start)
            os.lseek(out.fileno(), start, os.SEEK_SET)
            src.seek(0)
            out.seek(start)
    shutil.copyfileobj(src, out, 1024 * 1024)


def concatenate(parts: list[Path], target: Path) -> int:
    """Join multipart parts into ``target``; returns the total size."""
    partial = target.with_name(f".{target.name}.{secrets.token_hex(4)}.partial")
    try:
        with open(partial, "wb") as out:
            for part in parts:
                with open(part, "rb") as src:
                    copy_into(src, out)
        os.replace(partial, target)
    finally:
        if partial.exists():
            partial.unlink()
    return target.stat().st_size
