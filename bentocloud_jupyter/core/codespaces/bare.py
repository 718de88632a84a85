"""The bare push ``bentoml code`` does: the bento's record (manifest with ``dev: true``) and no archive, since
the codespace gets the project's files through the files API. Models the bento names are pushed first."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.build import build_bento
from bentocloud_jupyter.core.artifacts.store import LocalBento, LocalStore
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.models import Bento

__all__ = ["DEV_REASON", "build_and_push_bare", "push_bare"]

DEV_REASON = "bento for development"


def push_bare(client: BentoCloudClient, bento: LocalBento, store: LocalStore | None = None) -> Bento:
    """Create (or update) the bento's record with ``manifest.dev`` and mark its upload done; the bento."""
    store = store or LocalStore()
    for tag in bento.model_tags:
        if store.has_model(tag):
            transfer.push(client, tag, kind="model", store=store)
    try:
        client.get_repository("bento", bento.name)
    except NotFoundError:
        client.create_repository("bento", bento.name)
    body = store.bento_create_request(bento)
    body["manifest"]["dev"] = True
    try:
        client.get_item("bento", bento.name, bento.version)
        client.update_bento(bento.name, bento.version, {k: body[k] for k in ("description", "manifest", "labels")})
    except NotFoundError:
        client.create_item("bento", bento.name, body)
    client.item_action("bento", bento.name, bento.version, "finish_upload", {"status": "success",
                                                                             "reason": DEV_REASON})
    return client.get_bento(bento.name, bento.version)


def build_and_push_bare(client: BentoCloudClient, project: Path, echo: Callable[[str], None],
                        args: dict[str, object] | None = None) -> Bento:
    """Build a bare bento of ``project`` with bentoml, then push it bare.

    Raises:
        InvalidInputError: bentoml missing, or the build failed (one line).
    """
    with tempfile.TemporaryDirectory(prefix="bcj-bare-") as folder:
        tag = build_bento(str(project), echo, bare=True, args=args, info_dir=folder)
        name, _, version = tag.partition(":")
        bento = LocalBento(name, version, Path(folder), _info(Path(folder) / "bento.yaml", tag))
        return push_bare(client, bento)


def _info(path: Path, tag: str) -> dict[str, Any]:
    """The bento.yaml the bare build wrote (checked: it names the built bento)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, yaml.YAMLError) as exc:
        raise InvalidInputError(f"the bare build of {tag} left no readable bento.yaml ({type(exc).__name__}); "
                                "run code again.") from None
    if not isinstance(data, dict) or f"{data.get('name')}:{data.get('version')}" != tag:
        raise InvalidInputError(f"the bare build's bento.yaml does not describe {tag}; run code again.")
    return data
