"""Push bentos and models from the local store to BentoCloud, and pull them back, without ``bentoml``.

The call order is ``bentoml``'s (``BentoAPI.push`` / ``ModelAPI.push`` in ``src/bentoml/_internal/cloud/``):
models first (concurrently), repository get-or-create, record create or update, then one of three
transfer modes chosen by the server: proxy upload, a single presigned PUT, or multipart presigned upload
in 100 MiB parts with ETags, 10 at once and resumable (:mod:`.multipart`). Archives stream from disk in
1 MiB chunks, so memory stays flat whatever the size. An interrupted or failed transfer is reported to
BentoCloud (``finish_upload`` failed, with the reason), so nothing stays half-marked; a "finish upload
(success)" that meets a passing 5xx, 429 or dropped connection is retried a few times first. Archives
are written in a staging area (:mod:`.staging`), never in a folder ``bentoml`` reads. Pulls live in
:mod:`.pulling` (re-exported here).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.artifacts.archive import write_archive
from bentocloud_jupyter.core.artifacts.multipart import PART_ATTEMPTS, PART_THREADS, Multipart
from bentocloud_jupyter.core.artifacts.progress import NoProgress, Progress
from bentocloud_jupyter.core.artifacts.pulling import CHUNK_SIZE, PullResult, pull
from bentocloud_jupyter.core.artifacts.staging import clean_stale, staging_area
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.display import html_table, text_table
from bentocloud_jupyter.core.errors import (
    APIError,
    BentoCloudError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ServerError,
    TransportError,
)
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.endpoints import item_path

__all__ = ["CHUNK_SIZE", "FINISH_ATTEMPTS", "PART_ATTEMPTS", "PART_SIZE", "PART_THREADS",
           "NoProgress", "Progress", "PullResult", "PushResult",
           "pull", "push"]

PART_SIZE = 100 * 1024 * 1024
FINISH_ATTEMPTS = 4  # "finish upload (success)": a passing 5xx must not leave the remote `uploading`
FINISH_BACKOFF = 0.5  # seconds before the second attempt, doubled after each failure
FINISH_MAX_WAIT = 10.0  # the longest Retry-After honoured between two attempts


@dataclass(frozen=True)
class PushResult:
    """What a push did: ``mode`` is proxy, presigned, multipart, skipped (already there) or record-only."""

    kind: str
    tag: str
    mode: str
    size: int = 0
    models: tuple[PushResult, ...] = field(default=())

    def _rows(self) -> list[list[str]]:
        return [[item.kind, item.tag, item.mode, _size(item.size)] for item in (*self.models, self)]

    def __repr__(self) -> str:
        return text_table(["kind", "tag", "transfer", "size"], self._rows())

    def _repr_html_(self) -> str:
        return html_table(["kind", "tag", "transfer", "size"], self._rows())


def _size(nbytes: int) -> str:
    value = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover


def _chunks(path: Path, progress: Progress, label: str, start: int = 0, length: int | None = None,
            cancelled: threading.Event | None = None) -> Iterator[bytes]:
    """Read ``length`` bytes from ``start`` in 1 MiB chunks, reporting progress as they are sent."""
    remaining = os.path.getsize(path) - start if length is None else length
    with path.open("rb") as handle:
        handle.seek(start)
        while remaining > 0:
            if cancelled is not None and cancelled.is_set():
                raise InterruptedError("interrupted by the user")
            chunk = handle.read(min(CHUNK_SIZE, remaining))
            if not chunk:
                break
            remaining -= len(chunk)
            progress.advance(label, len(chunk))
            yield chunk


# -------------------------------------------------------------------------------------------------- push


@dataclass
class _Pusher:
    client: BentoCloudClient
    store: LocalStore
    progress: Progress
    force: bool = False
    threads: int = 4
    part_size: int = PART_SIZE
    part_threads: int = PART_THREADS
    _repo_lock: threading.Lock = field(default_factory=threading.Lock)
    cancelled: threading.Event = field(default_factory=threading.Event)

    def run_all(self, work: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        """Run ``work`` over ``items`` in threads; the main thread draws progress and handles Ctrl-C."""
        pool = ThreadPoolExecutor(max_workers=max(1, self.threads))
        futures = [pool.submit(work, item) for item in items]
        try:
            while futures and not wait(futures, timeout=0.25).done.issuperset(futures):
                self.progress.refresh()
        except BaseException:  # KeyboardInterrupt: stop the workers, which report the failure
            self.cancelled.set()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            self.progress.refresh(force=True)
        return [future.result() for future in futures]

    def chunks(self, path: Path, label: str, start: int = 0, length: int | None = None) -> Iterator[bytes]:
        return _chunks(path, self.progress, label, start, length, self.cancelled)

    def bento(self, tag: str) -> PushResult:
        bento = self.store.get_bento(tag)
        present = [t for t in bento.model_tags if self.store.has_model(t)]
        self._check_absent_models([t for t in bento.model_tags if t not in present], bento.tag)
        models = tuple(self.run_all(self.model, present))
        self._ensure_repository("bento", bento.name)
        remote = self._existing("bento", bento.name, bento.version)
        if remote is not None and remote.get("upload_status") == "success" and not self.force:
            return PushResult("bento", bento.tag, "skipped", 0, models)
        body = self.store.bento_create_request(bento)
        if remote is None:
            remote = self.client.create_item("bento", bento.name, body)
        else:
            update = {k: body[k] for k in ("description", "manifest", "labels")}
            remote = self.client.update_bento(bento.name, bento.version, update)
        with staging_area(self.store, "push") as area:
            archive = write_archive(bento.path, area, exclude_models=True)
            mode = self._transfer("bento", bento.name, bento.version, remote, archive, bento.path)
            return PushResult("bento", bento.tag, mode, archive.stat().st_size, models)

    def model(self, tag: str) -> PushResult:
        model = self.store.get_model(tag)
        with self._repo_lock:  # concurrent model pushes may share a repository
            self._ensure_repository("model", model.name)
        remote = self._existing("model", model.name, model.version)
        if remote is not None and remote.get("upload_status") == "success" and not self.force:
            return PushResult("model", model.tag, "skipped")
        if remote is None:
            remote = self.client.create_item("model", model.name, model.create_request())
        if model.is_huggingface:
            return PushResult("model", model.tag, "record-only")
        with staging_area(self.store, "push") as area:
            archive = write_archive(model.path, area, exclude_models=False)
            mode = self._transfer("model", model.name, model.version, remote, archive, model.path)
            return PushResult("model", model.tag, mode, archive.stat().st_size)

    def _check_absent_models(self, tags: list[str], bento: str) -> None:
        """A model missing locally is fine only if BentoCloud already has it (else the deployment would fail)."""
        for tag in tags:
            name, version = parse_tag(tag)
            remote = self._existing("model", name, version or "latest") if version else None
            if remote is None or remote.get("upload_status") != "success":
                raise InvalidInputError(f"Bento {bento} needs model {tag}, which is neither in the local store nor "
                                        "on BentoCloud; pull or save the model first.")

    def _ensure_repository(self, kind: str, name: str) -> None:
        try:
            self.client.get_repository(kind, name)
        except NotFoundError:
            self.client.create_repository(kind, name)

    def _existing(self, kind: str, name: str, version: str) -> dict[str, Any] | None:
        try:
            return self.client.get_item(kind, name, version)
        except NotFoundError:
            return None

    def _transfer(self, kind: str, name: str, version: str, remote: dict[str, Any], archive: Path,
                  source: Path) -> str:
        strategy, url, note = remote.get("transmission_strategy"), "", ""
        if strategy is None:
            url = str(self.client.item_action(kind, name, version, "presign_upload_url").get("presigned_upload_url")
                      or "")
        mode = "multipart" if strategy == "presigned_url" else ("presigned" if url else "proxy")
        label, size = f"{kind} {name}:{version}", archive.stat().st_size
        self.client.item_action(kind, name, version, "start_upload")
        self.progress.start(label, size)
        try:
            if mode == "proxy":
                self.client.upload(item_path(kind, name, version, "upload"), self.chunks(archive, label), size)
            elif mode == "presigned":
                self.client.storage_put(url, self.chunks(archive, label), size)
            else:
                note = self._multipart(kind, name, version, archive, label, source)
            if mode != "proxy":  # a proxy upload is marked done by the server itself (as bentoml expects)
                self._finish(kind, name, version)
        except BaseException as exc:
            interrupted = isinstance(exc, (KeyboardInterrupt, InterruptedError))
            reason = "interrupted by the user" if interrupted else str(exc) or repr(exc)
            with contextlib.suppress(BentoCloudError):
                self.client.item_action(kind, name, version, "finish_upload", {"status": "failed", "reason": reason})
            self.progress.finish(label, f"failed: {reason}")
            raise
        self.progress.finish(label, f"pushed ({mode}, {_size(size)}{'; ' + note if note else ''})")
        return mode

    def _finish(self, kind: str, name: str, version: str) -> None:
        """Tell BentoCloud the upload succeeded, retrying a passing failure (5xx, 429, no answer) a few times.

        Raises:
            APIError, TransportError: it could not be told; the caller then marks the upload failed.
        """
        delay = FINISH_BACKOFF
        for attempt in range(1, FINISH_ATTEMPTS + 1):
            try:
                self.client.item_action(kind, name, version, "finish_upload", {"status": "success", "reason": ""})
                return
            except (ServerError, RateLimitError, TransportError) as exc:
                if attempt == FINISH_ATTEMPTS or self.cancelled.is_set():
                    raise unfinished(exc, f"{kind} {name}:{version}", attempt) from None
                wait_for = next_wait(exc, delay)
            time.sleep(wait_for)
            delay *= 2

    def _multipart(self, kind: str, name: str, version: str, archive: Path, label: str, source: Path) -> str:
        upload = Multipart(self.client, self.store, self.progress, self.cancelled, self.chunks, (kind, name, version),
                           self.part_size, self.part_threads)
        return upload.run(archive, source, label)


def next_wait(exc: BentoCloudError, delay: float) -> float:
    """``delay``, or the server's ``Retry-After`` when longer, finite and at most FINISH_MAX_WAIT."""
    advised = getattr(exc, "retry_after", None)
    if isinstance(advised, (int, float)) and not isinstance(advised, bool) and math.isfinite(advised):
        return max(delay, min(max(float(advised), 0.0), FINISH_MAX_WAIT))
    return delay


def unfinished(exc: BentoCloudError, label: str, attempts: int) -> BentoCloudError:
    """One line for an upload whose bytes arrived but that BentoCloud would not mark finished."""
    cause = exc.message.split(". ")[0].rstrip(".")
    message = (f"The upload of {label} arrived, but BentoCloud did not confirm it after {attempts} attempts "
               f"({cause}); it was reported as failed: push it again.")
    if isinstance(exc, APIError):
        kind = ServerError if (exc.status or 0) >= 500 else APIError
        return kind(message, status=exc.status, endpoint=exc.endpoint, trace_id=exc.trace_id)
    return TransportError(message, endpoint=getattr(exc, "endpoint", None))


def push(client: BentoCloudClient, tag: str, *, kind: str = "bento", force: bool = False,
         store: LocalStore | None = None, progress: Progress | None = None, threads: int = 4,
         part_size: int = PART_SIZE, part_threads: int = PART_THREADS) -> PushResult:
    """Push a bento (with its models) or a model from the local store.

    ``threads`` models go at once, and ``part_threads`` parts of each multipart upload; an interrupted
    multipart push continues from its journal when pushed again (:mod:`.multipart`).

    Raises:
        NotFoundError: not in the local store. InvalidInputError: a corrupt ``bento.yaml``/``model.yaml``.
        APIError, TransportError: the upload failed (BentoCloud was told, with the reason).
    """
    pusher = _Pusher(client, store or LocalStore(), progress or NoProgress(), force, threads, part_size, part_threads)
    clean_stale(pusher.store)
    return pusher.bento(tag) if kind == "bento" else pusher.model(tag)
