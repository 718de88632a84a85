"""Pull bentos and models from BentoCloud into the local store, treating every server answer as hostile.

Names and versions the server chooses (the ``latest`` version, a bento manifest's models, the
``bento.yaml`` inside the archive) are checked as BentoML tags before they become paths, and every
folder written or replaced is checked to lie inside the store (:mod:`.tags`). Work happens in a staging
area outside what ``bentoml`` lists (:mod:`.staging`), so a kill -9 leaves nothing ``bentoml`` trips on;
the next pull removes what a dead one left.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.artifacts.archive import extract_safely
from bentocloud_jupyter.core.artifacts.progress import NoProgress, Progress, format_bytes
from bentocloud_jupyter.core.artifacts.ranged import ranged_download
from bentocloud_jupyter.core.artifacts.staging import clean_stale, remove, staging_area
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.artifacts.tags import is_tag_part, server_part, server_tag, shown, within
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import InvalidInputError, ProtocolError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.endpoints import item_path

__all__ = ["CHUNK_SIZE", "PullResult", "pull"]

CHUNK_SIZE = 1024 * 1024


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
        lines = [f"{self.kind} {self.tag} {verb} {self.path} ({format_bytes(self.size)})"]
        return "\n".join(lines + [repr(m) for m in self.models])

    def _repr_html_(self) -> str:
        return "<br>".join(esc(line) for line in repr(self).splitlines())


def pull(client: BentoCloudClient, tag: str, *, kind: str = "bento", output: str | os.PathLike[str] | None = None,
         force: bool = False, store: LocalStore | None = None, progress: Progress | None = None) -> PullResult:
    """Pull a bento (and the models it needs) or a model into the local store, or into one file.

    Raises:
        NotFoundError: no such item on BentoCloud. InvalidInputError: an unsafe or unusable archive, or a
        tag that is not valid. ProtocolError: BentoCloud named something that is not a safe tag (nothing
        is written).
    """
    puller = Puller(client, store or LocalStore(), progress or NoProgress())
    clean_stale(puller.store)
    return puller.item(kind, tag, output, force)


@dataclass
class Puller:
    client: BentoCloudClient
    store: LocalStore
    progress: Progress

    def item(self, kind: str, tag: str, output: str | os.PathLike[str] | None, force: bool) -> PullResult:
        """Pull one item, then (for a bento) the models it needs that the store lacks."""
        name, version = parse_tag(tag)
        if version is None:
            latest = self.client.get_bento(name) if kind == "bento" else self.client.get_model(name)
            version = server_part(latest.version, f"latest version of {kind} {name}")
        remote = self.client.get_item(kind, name, version)
        needed = manifest_models(remote) if kind == "bento" else []
        final, label = self.store.item_dir(kind, name, version), f"{name}:{version}"
        if output is None and final.is_dir() and not force:
            return PullResult(kind, label, final, 0, skipped=True)
        url = presign_download(self.client, kind, name, version, remote)
        if url is None:
            return PullResult(kind, label, final, 0, skipped=True)  # Hugging Face: nothing to fetch
        with staging_area(self.store) as area:
            archive = download(self.client, area, kind, name, version, url, self.progress)
            size = archive.stat().st_size
            if output is not None:
                destination = Path(output).expanduser()
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(str(archive), destination)
                return PullResult(kind, label, destination, size)
            extract_safely(archive, area, f"{kind}.yaml",
                           lambda staged: self.place(staged, final, kind, (name, version), force))
        update_latest(final.parent, version, kind)
        models = tuple(self.item("model", model, None, False) for model in needed if not self.store.has_model(model))
        return PullResult(kind, label, final, size, models=models)

    def place(self, staged: Path, final: Path, kind: str, tag: tuple[str, str], force: bool) -> None:
        """Move the checked extraction into ``final``, replacing it only with ``force``, never outside."""
        check_archive_metadata(staged / f"{kind}.yaml", kind, tag)
        root = self.store.bentos if kind == "bento" else self.store.models
        final.parent.mkdir(parents=True, exist_ok=True)
        within(final, root)  # again, now that the name folder exists: a symlink there must not lead out
        if final.exists() or final.is_symlink():
            if not force:
                raise InvalidInputError(f"{final} already exists; pass force=True (--force) to replace it.")
            remove(final)
        try:
            os.replace(staged, final)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            shutil.move(str(staged), final)  # the store's folder is on another filesystem


def manifest_models(remote: dict[str, Any]) -> list[str]:
    """The models a bento's manifest lists, each checked as a tag before anything is downloaded."""
    manifest = remote.get("manifest") or {}
    listed = manifest.get("models") if isinstance(manifest, dict) else None
    if listed is None:
        return []
    if not isinstance(listed, list):
        raise ProtocolError("BentoCloud sent a bento manifest whose models are not a list; refusing it.")
    tags = []
    for item in listed:
        name, version = server_tag(item, "model of the bento manifest")
        tags.append(name if version is None else f"{name}:{version}")
    return tags


def check_archive_metadata(path: Path, kind: str, tag: tuple[str, str]) -> None:
    """The archive's own ``bento.yaml``/``model.yaml`` must name the pulled tag, and only valid tags."""
    try:
        info = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        raise ProtocolError(f"The downloaded {kind} has an unreadable {path.name}; it is not usable.") from None
    if not isinstance(info, dict):
        raise ProtocolError(f"The downloaded {kind} has no usable {path.name}; it is not usable.")
    found = (server_part(scalar_text(info.get("name")), f"name in the archive's {path.name}"),
             server_part(scalar_text(info.get("version")), f"version in the archive's {path.name}"))
    if found != tag:
        raise ProtocolError(f"The downloaded archive holds {kind} {shown(':'.join(found))}, not {':'.join(tag)}; "
                            "refusing it.")
    for model in archive_model_tags(info):
        server_tag(model, f"model in the archive's {path.name}")


def scalar_text(value: object) -> object:
    """A YAML number read as the text it was written as (a version ``20240101`` parses as an int)."""
    return str(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def archive_model_tags(info: dict[str, Any]) -> list[object]:
    """Model tags a ``bento.yaml`` mentions (top-level and per service), whatever their shape."""
    services, models = info.get("services"), info.get("models")
    entries: list[object] = list(models) if isinstance(models, list) else []
    for service in services if isinstance(services, list) else []:
        if isinstance(service, dict) and isinstance(service.get("models"), list):
            entries += service["models"]
    return [entry.get("tag") if isinstance(entry, dict) else entry for entry in entries]


def presign_download(client: BentoCloudClient, kind: str, name: str, version: str,
                     remote: dict[str, Any]) -> str | None:
    """The presigned download URL ("" for proxy), or None for a Hugging Face model (nothing to download)."""
    if remote.get("transmission_strategy") == "proxy":
        return ""
    presigned = client.item_action(kind, name, version, "presign_download_url")
    manifest = presigned.get("manifest")
    metadata = manifest.get("metadata") if isinstance(manifest, dict) else None
    if kind == "model" and isinstance(metadata, dict) and metadata.get("registry") == "huggingface":
        return None
    return str(presigned.get("presigned_download_url") or "")


def download(client: BentoCloudClient, area: Path, kind: str, name: str, version: str,
             url: str, progress: Progress) -> Path:
    """Fetch the archive into the staging ``area``: presigned ``url`` ranged and parallel, else the proxy stream."""
    target = area / "archive.tar"
    label = f"{kind} {name}:{version}"
    try:
        if url:
            ranged_download(client, url, target, label, progress)
        else:
            with target.open("wb") as handle, client.download(item_path(kind, name, version, "download")) as response:
                progress.start(label, content_length(response.headers.get("content-length")))
                for chunk in response.iter_bytes(CHUNK_SIZE):
                    handle.write(chunk)
                    progress.advance(label, len(chunk))
    except BaseException:
        progress.finish(label, "failed")
        raise
    progress.finish(label, f"downloaded ({format_bytes(target.stat().st_size)})")
    return target


def content_length(value: str | None) -> int:
    """The announced size for progress only (0 when missing or nonsense)."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def update_latest(folder: Path, version: str, kind: str) -> None:
    """Point ``latest`` at ``version`` when there is none or this one is newer (as bentoml does)."""
    latest = folder / "latest"
    try:
        current = latest.read_text().strip()
        if is_tag_part(current) and current != version and \
                created(folder / current, kind) > created(folder / version, kind):
            return
    except OSError:
        pass
    if latest.is_symlink():
        latest.unlink()  # never write through a link to somewhere else
    latest.write_text(version)


def created(path: Path, kind: str) -> datetime:
    try:
        info = yaml.safe_load((path / f"{kind}.yaml").read_text()) or {}
        moment = datetime.fromisoformat(str(info.get("creation_time")).replace("Z", "+00:00"))
    except (OSError, ValueError, yaml.YAMLError, AttributeError, OverflowError):
        return datetime.min
    try:
        return moment.astimezone(timezone.utc).replace(tzinfo=None) if moment.tzinfo else moment
    except (OverflowError, ValueError):
        return datetime.min
