"""The local bento and model store that ``bentoml`` keeps under ``$BENTOML_HOME``, read without bentoml.

Layout (``bentos/<name>/latest``, ``bentos/<name>/<version>/bento.yaml``, ``models/<name>/<version>/
model.yaml``) and the create-request payloads built from it follow ``bentoml`` 1.4
(``src/bentoml/_internal/cloud/bento.py`` and ``model.py``), so what we push is what ``bentoml push``
would push. Pulled items are written in the same layout, so ``bentoml list`` and ``bentoml models list`` show them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.artifacts.tags import is_tag_part, shown, tag_part, within
from bentocloud_jupyter.core.credentials.config import bentoml_home
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError

__all__ = ["LocalBento", "LocalModel", "LocalStore", "parse_tag"]

MAX_README_BYTES = 3 * 1024 * 1024
STAGING_FOLDER = ".bentocloud-jupyter-staging"


def parse_tag(tag: str) -> tuple[str, str | None]:
    """``name:version`` -> (name, version); ``name`` or ``name:latest`` -> (name, None).

    Both parts are lowercased and must be valid BentoML tag parts (they become folder names).

    Raises:
        InvalidInputError: an empty name, more than one colon, or a part that is not a valid tag.
    """
    name, _, version = tag.strip().partition(":")
    if not name or ":" in version or any(c in name for c in "/\\ "):
        raise InvalidInputError(f"{shown(tag)} is not a tag; use name:version (or name for the latest).")
    name = tag_part(name, "tag name", tag)
    return name, (None if version in ("", "latest") else tag_part(version, "tag version", tag))


def naive_utc(value: Any) -> str | None:
    """``bentoml``'s request time format: ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, no zone."""
    if value is None:
        return None
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


def folder_size(path: Path, skip: str | None = None) -> int:
    """Total size of regular files under ``path`` (skipping the top-level ``skip`` folder)."""
    total = 0
    for root, dirs, files in os.walk(path):
        if skip and Path(root) == path and skip in dirs:
            dirs.remove(skip)
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files
                     if os.path.isfile(os.path.join(root, f)) and not os.path.islink(os.path.join(root, f)))
    return total


@dataclass(frozen=True)
class _StoredItem:
    """A version folder of the local store and its parsed metadata file."""

    name: str
    version: str
    path: Path
    info: dict[str, Any] = field(repr=False)

    @property
    def tag(self) -> str:
        return f"{self.name}:{self.version}"


@dataclass(frozen=True)
class LocalModel(_StoredItem):
    @property
    def is_huggingface(self) -> bool:
        return (self.info.get("metadata") or {}).get("registry") == "huggingface"

    def create_request(self) -> dict[str, Any]:
        """The CreateModel body, as bentoml sends it."""
        context = self.info.get("context") or {}
        return {"description": "", "version": self.version, "build_at": naive_utc(self.info.get("creation_time")),
                "labels": [{"key": str(k), "value": str(v)} for k, v in (self.info.get("labels") or {}).items()],
                "manifest": {"module": self.info.get("module") or "", "api_version": str(self.info.get("api_version")
                                                                                         or "v1"),
                             "bentoml_version": str(context.get("bentoml_version") or ""),
                             "size_bytes": folder_size(self.path), "metadata": self.info.get("metadata") or {},
                             "context": context, "options": self.info.get("options") or {}}}


@dataclass(frozen=True)
class LocalBento(_StoredItem):
    @property
    def model_tags(self) -> list[str]:
        """Models the bento needs: top-level first, then per service, without duplicates."""
        tags: list[str] = []
        for item in [*(self.info.get("models") or []),
                     *(m for s in self.info.get("services") or [] for m in s.get("models") or [])]:
            tag = item if isinstance(item, str) else str(item.get("tag", ""))
            if tag and tag not in tags:
                tags.append(tag)
        return tags

    @property
    def description(self) -> str:
        readme = self.path / "README.md"
        try:
            return readme.read_text(encoding="utf-8") if readme.stat().st_size <= MAX_README_BYTES else ""
        except OSError:
            return ""


class LocalStore:
    """Reads (and, for pulls, places) bentos and models in ``$BENTOML_HOME``."""

    def __init__(self, home: Path | None = None) -> None:
        self.home = home or bentoml_home()

    @property
    def bentos(self) -> Path:
        return self.home / "bentos"

    @property
    def models(self) -> Path:
        return self.home / "models"

    @property
    def tmp(self) -> Path:
        return self.home / "tmp"

    @property
    def staging(self) -> Path:
        """Where pulls and pushes keep their work in progress: never inside a folder ``bentoml`` lists."""
        return self.home / STAGING_FOLDER

    def item_dir(self, kind: str, name: str, version: str) -> Path:
        """``bentos|models/<name>/<version>``, checked (resolved) to lie inside the store; parts must be tags.

        Raises:
            InvalidInputError: a part is not a valid tag, or the folder would land outside the store.
        """
        if not (is_tag_part(name) and is_tag_part(version)):
            raise InvalidInputError(f"{shown(f'{name}:{version}')} is not a valid {kind} tag; refusing it.")
        root = self.bentos if kind == "bento" else self.models
        within(root / name / version, root)
        return root / name / version

    def _version_dir(self, root: Path, kind: str, tag: str) -> tuple[str, str, Path]:
        name, version = parse_tag(tag)
        if version is None:
            try:
                version = (root / name / "latest").read_text().strip()
            except OSError:
                raise NotFoundError(f"No {kind} named {name!r} in the local store {root}; build it first "
                                    f"(`bentoml build`) or check `bentoml list`.") from None
            if not is_tag_part(version):
                raise InvalidInputError(f"{root / name / 'latest'} names {shown(version)}, not a version; "
                                        "rebuild or pull the item again.")
        path = root / name / version
        if not path.is_dir():
            raise NotFoundError(f"{kind.capitalize()} {name}:{version} is not in the local store {root}.")
        return name, version, path

    def get_bento(self, tag: str) -> LocalBento:
        """The local bento ``tag``.

        Raises:
            NotFoundError: not in the store. InvalidInputError: its ``bento.yaml`` is unreadable.
        """
        name, version, path = self._version_dir(self.bentos, "bento", tag)
        return LocalBento(name, version, path, _read_yaml(path / "bento.yaml"))

    def get_model(self, tag: str) -> LocalModel:
        """The local model ``tag`` (same errors as :meth:`get_bento`)."""
        name, version, path = self._version_dir(self.models, "model", tag)
        return LocalModel(name, version, path, _read_yaml(path / "model.yaml"))

    def has_model(self, tag: str) -> bool:
        try:
            self.get_model(tag)
        except (NotFoundError, InvalidInputError):
            return False
        return True

    def bento_create_request(self, bento: LocalBento) -> dict[str, Any]:
        """The CreateBento body, manifest included, as bentoml sends it."""
        labels = [{"key": str(k), "value": str(v)} for k, v in (bento.info.get("labels") or {}).items()]
        return {"description": bento.description, "version": bento.version,
                "build_at": naive_utc(bento.info.get("creation_time")), "labels": labels,
                "manifest": self.bento_manifest(bento)}

    def bento_manifest(self, bento: LocalBento) -> dict[str, Any]:
        info = bento.info
        spec = int(info.get("spec") or 1)
        size = folder_size(bento.path)
        for tag in bento.model_tags:
            if self.has_model(tag) and not self.get_model(tag).is_huggingface:
                size += folder_size(self.get_model(tag).path)
        return {"service": str(info.get("service") or ""), "bentoml_version": str(info.get("bentoml_version") or ""),
                "size_bytes": size, "entry_service": str(info.get("entry_service") or ""), "name": info.get("name"),
                "version": info.get("version"), "apis": {}, "models": bento.model_tags,
                "runners": [] if spec == 2 else _runners(info), "services": _services(info),
                "envs": [{"name": str(e["name"]), "value": str(e.get("value") or ""),
                          "stage": str(e.get("stage") or "all")} for e in info.get("envs") or []],
                "schema": info.get("schema") or {}, "dev": False,
                "image": info.get("image") if spec == 2 else None, "spec": spec}


def _services(info: dict[str, Any]) -> list[dict[str, Any]]:
    services = []
    for service in info.get("services") or []:
        models = [{"tag": m.get("tag"), "module": m.get("module"), "creation_time": naive_utc(m.get("creation_time")),
                   "alias": m.get("alias"), "registry": m.get("registry") or "bentoml", "metadata": m.get("metadata")}
                  for m in service.get("models") or [] if isinstance(m, dict)]
        dependencies = [{"service": d, "deployment": None, "cluster": None, "url": None} if isinstance(d, str) else
                        {k: d.get(k) for k in ("service", "deployment", "cluster", "url")}
                        for d in service.get("dependencies") or []]
        services.append({"name": service.get("name"), "service": service.get("service", ""), "models": models,
                         "dependencies": dependencies, "config": service.get("config") or {}})
    return services


def _runners(info: dict[str, Any]) -> list[dict[str, Any]]:
    runners = []
    for runner in info.get("runners") or []:
        resources = runner.get("resource_config")
        runners.append({"name": runner.get("name"), "runnable_type": runner.get("runnable_type"),
                        "models": runner.get("models") or [],
                        "resource_config": {"cpu": resources.get("cpu"), "nvidia_gpu": resources.get("nvidia.com/gpu"),
                                            "custom_resources": resources.get("custom_resources")}
                        if resources else None})
    return runners


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidInputError(f"{path} is missing: the store entry is incomplete; rebuild it.") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"{path} cannot be read ({type(exc).__name__}); rebuild the bento or model.") from None
    if not isinstance(data, dict) or not data.get("name") or not data.get("version"):
        raise InvalidInputError(f"{path} is not a valid bentoml metadata file (no name/version); rebuild it.")
    return data
