"""Push bentos and models from the local store to BentoCloud, and pull them back, without ``bentoml``.

The call order is ``bentoml``'s (``BentoAPI.push`` / ``ModelAPI.push`` in ``src/bentoml/_internal/cloud/``):
models first (concurrently), repository get-or-create, record create or update, then one of three
transfer modes chosen by the server: proxy upload, a single presigned PUT, or multipart presigned upload
in 100 MiB parts with ETags. Archives stream from disk in 1 MiB chunks, so memory stays flat whatever
the size. An interrupted or failed transfer is reported to BentoCloud (``finish_upload`` failed, with the
reason), so nothing stays half-marked.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from bentocloud_jupyter.core.artifacts.archive import extract_safely, write_archive
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.display import esc, html_table, text_table
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.endpoints import item_path

__all__ = ["CHUNK_SIZE", "PART_SIZE", "Progress", "PullResult", "PushResult", "pull", "push"]

PART_SIZE = 100 * 1024 * 1024
CHUNK_SIZE = 1024 * 1024
PART_ATTEMPTS = 3


class Progress(Protocol):
    """Where transfers report bytes (a text line, a widget, or nothing); must be thread-safe."""

    def start(self, label: str, total: int) -> None: ...

    def advance(self, label: str, nbytes: int) -> None: ...

    def finish(self, label: str, message: str) -> None: ...

    def refresh(self, force: bool = False) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, label: str, nbytes: int) -> None:
        pass

    def finish(self, label: str, message: str) -> None:
        pass

    def refresh(self, force: bool = False) -> None:
        pass


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


@dataclass(frozen=True)
class PullResult:
    kind: str
    tag: str
    path: Path
    size: int = 0
    skipped: bool = False
    models: tuple[PullResult, ...] = field(default=())

    def __repr__(self) -> str:
        verb = "already in" if self.skipped else "pulled into"
        lines = [f"{self.kind} {self.tag} {verb} {self.path} ({_size(self.size)})"]
        return "\n".join(lines + [repr(m) for m in self.models])

    def _repr_html_(self) -> str:
        return "<br>".join(esc(line) for line in repr(self).splitlines())


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
        archive = write_archive(bento.path, self.store.tmp, exclude_models=True)
        try:
            mode = self._transfer("bento", bento.name, bento.version, remote, archive)
            return PushResult("bento", bento.tag, mode, archive.stat().st_size, models)
        finally:
            archive.unlink(missing_ok=True)

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
        archive = write_archive(model.path, self.store.tmp, exclude_models=False)
        try:
            mode = self._transfer("model", model.name, model.version, remote, archive)
            return PushResult("model", model.tag, mode, archive.stat().st_size)
        finally:
            archive.unlink(missing_ok=True)

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

    def _transfer(self, kind: str, name: str, version: str, remote: dict[str, Any], archive: Path) -> str:
        strategy, url = remote.get("transmission_strategy"), ""
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
                self._multipart(kind, name, version, archive, label)
        except BaseException as exc:
            interrupted = isinstance(exc, (KeyboardInterrupt, InterruptedError))
            reason = "interrupted by the user" if interrupted else str(exc) or repr(exc)
            with contextlib.suppress(BentoCloudError):
                self.client.item_action(kind, name, version, "finish_upload", {"status": "failed", "reason": reason})
            self.progress.finish(label, f"failed: {reason}")
            raise
        if mode != "proxy":  # a proxy upload is marked done by the server itself (as bentoml expects)
            self.client.item_action(kind, name, version, "finish_upload", {"status": "success", "reason": ""})
        self.progress.finish(label, f"pushed ({mode}, {_size(size)})")
        return mode

    def _multipart(self, kind: str, name: str, version: str, archive: Path, label: str) -> None:
        upload_id = str(self.client.item_action(kind, name, version, "start_multipart_upload").get("upload_id") or "")
        if not upload_id:
            raise InvalidInputError("BentoCloud did not start the multipart upload (no upload id); try again.")
        size = archive.stat().st_size
        count = max(1, -(-size // self.part_size))

        def send(number: int) -> dict[str, Any]:
            start = (number - 1) * self.part_size
            length = min(self.part_size, size - start)
            for attempt in range(1, PART_ATTEMPTS + 1):
                url = str(self.client.item_action(kind, name, version, "presign_multipart_upload_url",
                                                  {"upload_id": upload_id, "part_number": number})
                          .get("presigned_upload_url") or "")
                try:
                    etag = self.client.storage_put(url, self.chunks(archive, label, start, length), length)
                    return {"part_number": number, "etag": etag}
                except BentoCloudError:
                    self.progress.advance(label, -length)  # the retry sends these bytes again
                    if attempt == PART_ATTEMPTS:
                        raise
            raise AssertionError("unreachable")  # pragma: no cover

        parts = self.run_all(send, range(1, count + 1))
        self.client.item_action(kind, name, version, "complete_multipart_upload",
                                {"parts": parts, "upload_id": upload_id})


def push(client: BentoCloudClient, tag: str, *, kind: str = "bento", force: bool = False,
         store: LocalStore | None = None, progress: Progress | None = None, threads: int = 4,
         part_size: int = PART_SIZE) -> PushResult:
    """Push a bento (with its models) or a model from the local store.

    Raises:
        NotFoundError: not in the local store. InvalidInputError: a corrupt ``bento.yaml``/``model.yaml``.
        APIError, TransportError: the upload failed (BentoCloud was told, with the reason).
    """
    pusher = _Pusher(client, store or LocalStore(), progress or NoProgress(), force, threads, part_size)
    return pusher.bento(tag) if kind == "bento" else pusher.model(tag)


# -------------------------------------------------------------------------------------------------- pull


def pull(client: BentoCloudClient, tag: str, *, kind: str = "bento", output: str | os.PathLike[str] | None = None,
         force: bool = False, store: LocalStore | None = None, progress: Progress | None = None) -> PullResult:
    """Pull a bento (and the models it needs) or a model into the local store, or into one file.

    Raises:
        NotFoundError: no such item on BentoCloud. InvalidInputError: an unsafe or unusable archive
        (nothing is left in the local store).
    """
    store = store or LocalStore()
    progress = progress or NoProgress()
    name, version = parse_tag(tag)
    if version is None:
        latest = client.get_bento(name) if kind == "bento" else client.get_model(name)
        version = latest.version
    remote = client.get_item(kind, name, version)
    root = store.bentos if kind == "bento" else store.models
    final = root / name / version
    if output is None and final.is_dir() and not force:
        return PullResult(kind, f"{name}:{version}", final, 0, skipped=True)
    url = _presign_download(client, kind, name, version, remote)
    if url is None:
        return PullResult(kind, f"{name}:{version}", final, 0, skipped=True)  # Hugging Face: nothing to fetch
    archive = _download(client, store, kind, name, version, url, progress)
    try:
        size = archive.stat().st_size
        if output is not None:
            destination = Path(output).expanduser()
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(archive), destination)
            return PullResult(kind, f"{name}:{version}", destination, size)
        extract_safely(archive, root / name, f"{kind}.yaml", lambda staged: _place(staged, final, force))
        _update_latest(root / name, version, kind)
    finally:
        archive.unlink(missing_ok=True)
    models: tuple[PullResult, ...] = ()
    if kind == "bento":
        needed = [t for t in (remote.get("manifest") or {}).get("models") or [] if not store.has_model(t)]
        models = tuple(pull(client, t, kind="model", store=store, progress=progress) for t in needed)
    return PullResult(kind, f"{name}:{version}", final, size, models=models)


def _presign_download(client: BentoCloudClient, kind: str, name: str, version: str,
                      remote: dict[str, Any]) -> str | None:
    """The presigned download URL ("" for proxy), or None for a Hugging Face model (nothing to download)."""
    if remote.get("transmission_strategy") == "proxy":
        return ""
    presigned = client.item_action(kind, name, version, "presign_download_url")
    if kind == "model" and ((presigned.get("manifest") or {}).get("metadata") or {}).get("registry") == "huggingface":
        return None
    return str(presigned.get("presigned_download_url") or "")


def _download(client: BentoCloudClient, store: LocalStore, kind: str, name: str, version: str,
              url: str, progress: Progress) -> Path:
    """Stream the archive to a temp file (presigned ``url``, or the proxy download when empty)."""
    store.tmp.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix="bentocloud-pull-", suffix=".tar", dir=store.tmp)
    label = f"{kind} {name}:{version}"
    try:
        with os.fdopen(fd, "wb") as handle, client.download(url or item_path(kind, name, version, "download"),
                                                            presigned=bool(url)) as response:
            progress.start(label, int(response.headers.get("content-length") or 0))
            for chunk in response.iter_bytes(CHUNK_SIZE):
                handle.write(chunk)
                progress.advance(label, len(chunk))
    except BaseException:
        os.unlink(temp)
        progress.finish(label, "failed")
        raise
    progress.finish(label, "downloaded")
    return Path(temp)


def _place(staged: Path, final: Path, force: bool) -> None:
    if final.exists():
        if not force:
            raise InvalidInputError(f"{final} already exists; pass force=True (--force) to replace it.")
        shutil.rmtree(final)
    os.replace(staged, final)


def _update_latest(folder: Path, version: str, kind: str) -> None:
    """Point ``latest`` at ``version`` when there is none or this one is newer (as bentoml does)."""
    latest = folder / "latest"
    try:
        current = latest.read_text().strip()
        if current != version and _created(folder / current, kind) > _created(folder / version, kind):
            return
    except OSError:
        pass
    latest.write_text(version)


def _created(path: Path, kind: str) -> datetime:
    import yaml

    try:
        info = yaml.safe_load((path / f"{kind}.yaml").read_text()) or {}
        moment = datetime.fromisoformat(str(info.get("creation_time")).replace("Z", "+00:00"))
    except (OSError, ValueError, yaml.YAMLError, AttributeError):
        return datetime.min
    return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
