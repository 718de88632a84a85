"""Verbs over bentos and models: push, pull, and what is on BentoCloud."""

from __future__ import annotations

from bentocloud_jupyter.core.api.bento_source import ProgressFactory, local_kind, progress_display
from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.progress import format_bytes
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.artifacts.transfer import PullResult, PushResult
from bentocloud_jupyter.core.display import format_time
from bentocloud_jupyter.core.errors import NotFoundError
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import TableView

__all__ = ["bentos", "models", "pull", "push"]


def push(tag: str, force: bool = False, context: str | None = None, *,
         progress: ProgressFactory | None = None) -> PushResult:
    """Push a bento (models first) or a model from the local store, with progress (bytes, rate, ETA).

    ``progress`` makes the display (default: a text line on stderr).

    Raises:
        NotFoundError: ``tag`` is in neither local store. APIError, TransportError: the upload failed.
    """
    client, _ = client_for(context)
    store = LocalStore()
    kind = "bento" if local_kind(store, tag) == "bento" else "model"
    return transfer.push(client, tag, kind=kind, force=force, store=store, progress=progress_display(progress))


def pull(tag: str, output: str | None = None, force: bool = False, context: str | None = None, *,
         progress: ProgressFactory | None = None) -> PullResult:
    """Pull a bento (with the models it needs) or a model into the local store, or into one ``output`` file.

    Raises:
        NotFoundError: no bento or model ``tag`` on BentoCloud. InvalidInputError: an unsafe archive or an
        invalid tag. ProtocolError: BentoCloud named a version or model that is not a safe tag (nothing is
        written).
    """
    client, _ = client_for(context)
    name, version = parse_tag(tag)
    try:
        client.get_bento(name, version)
        kind = "bento"
    except NotFoundError:
        client.get_model(name, version)  # raises NotFoundError naming the model when neither exists
        kind = "model"
    return transfer.pull(client, tag, kind=kind, output=output, force=force,
                         progress=progress_display(progress))


def bentos(context: str | None = None) -> TableView:
    """Bentos on BentoCloud, newest first: size, upload status, image build status, build time."""
    client, _ = client_for(context)
    rows = [[b.tag, format_bytes(b.size_bytes or 0), b.upload_status, b.image_build_status,
             format_time(b.created_at)] for b in client.list_bentos()]
    return TableView(["bento", "size", "upload", "image build", "built"], rows, "No bentos yet: push one.")


def models(context: str | None = None) -> TableView:
    """Models on BentoCloud, newest first: module, size, upload status, build time."""
    client, _ = client_for(context)
    rows = [[m.tag, m.module, format_bytes(m.size_bytes or 0), m.upload_status, format_time(m.created_at)]
            for m in client.list_models()]
    return TableView(["model", "module", "size", "upload", "built"], rows, "No models yet.")
