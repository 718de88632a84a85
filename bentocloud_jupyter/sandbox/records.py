"""In-memory records of the sandbox and the one error type every layer raises.

Records hold raw facts only (timestamps as epoch floats, configs as plain dicts); the JSON the
API sends is built from them in :mod:`.shapes`, and statuses are derived in :mod:`.lifecycle`, so
there is exactly one place for each rule.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any


class SandboxError(Exception):
    """An API error: carries the HTTP status and the message put in the JSON body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def not_found(what: str) -> SandboxError:
    """404 whose text contains ``record not found``, the phrase bentoml's client looks for."""
    return SandboxError(404, f"{what}: record not found")


def new_uid(prefix: str) -> str:
    """Random resource id; the prefix makes ids readable in test failures."""
    return f"{prefix}-{secrets.token_hex(6)}"


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> ISO-8601 UTC with ``Z``: what bentoml's dateutil parsing accepts."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


ALL_SCOPES = ("api", "read_organization", "write_organization", "read_cluster", "write_cluster")


def parse_time(text: str | None) -> float | None:
    """ISO or bentoml's naive ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC) -> epoch seconds."""
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.timestamp()


def parse_local_time(text: str | None) -> float | None:
    """Like :func:`parse_time`, but a naive value is local time: bentoml's CLI sends ``--expires`` that way
    (``datetime.now() + 30d``, no zone), and the sandbox runs on the machine that typed it."""
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.timestamp()  # naive datetimes are taken as local time by timestamp()


@dataclass
class RepoRecord:
    """A bento or model repository: the container of versions."""

    uid: str
    name: str
    created_at: float
    description: str = ""
    labels: list[dict[str, str]] = field(default_factory=list)


@dataclass
class ArtifactRecord:
    """One bento or model version; ``name`` on the wire equals ``version``."""

    uid: str
    repo: str
    version: str
    created_at: float
    manifest: dict[str, Any] | None
    description: str = ""
    labels: list[dict[str, str]] = field(default_factory=list)
    build_at: float | None = None
    upload_status: str = "success"
    image_build_status: str = "success"
    upload_started_at: float | None = None
    upload_finished_at: float | None = None
    upload_finished_reason: str = ""
    upload_id: str | None = None
    # open multipart uploads: upload id -> {part number: (quoted md5 ETag, size)}
    multipart: dict[str, dict[int, tuple[str, int]]] = field(default_factory=dict)
    seeded: bool = False  # seed data: downloads serve a small generated archive


@dataclass
class SecretRecord:
    """An organisation secret (env or mountfile)."""

    uid: str
    name: str
    created_at: float
    content: dict[str, Any]
    cluster: str
    description: str = ""
    updated_at: float | None = None


@dataclass
class TokenRecord:
    """An API token; ``token`` is the secret value and never appears in listings."""

    uid: str
    name: str
    token: str = field(repr=False)
    created_at: float = 0.0
    description: str = ""
    scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    expired_at: float | None = None
    expired: bool = False
    last_used_at: float | None = None


@dataclass
class LoginCode:
    """A pending browser login: approved once someone presses the button on the page."""

    code: str
    created_at: float
    token: str | None = field(default=None, repr=False)


@dataclass
class Revision:
    """A rollout of one config: PUT, void_update and restarts each add one."""

    uid: str
    created_at: float
    config: dict[str, Any]
    bento_repo: str
    bento_version: str


@dataclass
class Segment:
    """A lifecycle plan started at wall time ``start``: (status, offset at speed 1) pairs."""

    start: float
    plan: tuple[tuple[str, float], ...]


@dataclass
class DeploymentRecord:
    """A deployment: its revisions and the lifecycle segments its status is computed from."""

    uid: str
    name: str
    cluster: str
    created_at: float
    labels: list[dict[str, str]]
    dev: bool = False
    revisions: list[Revision] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    modified_at: float = 0.0
    deleted_at: float | None = None

    @property
    def latest(self) -> Revision:
        """The active revision (there is always at least one)."""
        return self.revisions[-1]
