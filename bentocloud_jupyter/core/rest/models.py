"""Typed views of BentoCloud's JSON: small frozen dataclasses built with ``from_api()``.

They keep what a notebook user looks at, ignore unknown fields and tolerate missing optional ones, and
keep the whole payload in ``raw`` (left out of the repr) for anything else. A payload missing a field
we cannot do without raises ``KeyError``/``TypeError``; the client turns that into a
:class:`~.errors.ProtocolError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Generic, TypeVar

__all__ = [
    "ApiToken",
    "Bento",
    "Cluster",
    "Deployment",
    "InstanceType",
    "Model",
    "Organization",
    "Page",
    "Secret",
    "User",
    "parse_time",
]

T = TypeVar("T")
JSON = Mapping[str, Any]


READY_STATUSES = frozenset({"running", "scaled-to-zero"})
FAILED_STATUSES = frozenset({"failed", "image-build-failed", "unhealthy"})
STOPPED_STATUSES = frozenset({"terminated"})
SETTLED_STATUSES = READY_STATUSES | FAILED_STATUSES | STOPPED_STATUSES


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 as BentoCloud sends it (``Z``, offsets, up to 9 fractional digits); None when empty."""
    if not value:
        return None
    text = str(value).strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    if "." in text:  # Python < 3.11 accepts at most 6 fractional digits
        head, _, rest = text.partition(".")
        digits = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:min(digits, 6)]:0<6}{rest[digits:]}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _labels(raw: JSON) -> dict[str, str]:
    return {str(item["key"]): str(item.get("value", "")) for item in raw.get("labels") or []}


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list endpoint: ``items`` plus the server's paging numbers."""

    items: list[T]
    start: int
    count: int
    total: int


@dataclass(frozen=True)
class User:
    name: str
    email: str
    first_name: str = ""
    last_name: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> User:
        return cls(str(raw["name"]), str(raw.get("email") or ""), str(raw.get("first_name") or ""),
                   str(raw.get("last_name") or ""), raw)

    @property
    def display_name(self) -> str:
        """"First Last", or the login name when both are empty (as bentoml shows it)."""
        return f"{self.first_name} {self.last_name}".strip() or self.name


@dataclass(frozen=True)
class Organization:
    name: str
    uid: str = ""
    description: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Organization:
        return cls(str(raw["name"]), str(raw.get("uid") or ""), str(raw.get("description") or ""), raw)


@dataclass(frozen=True)
class Cluster:
    name: str
    description: str = ""
    organization_name: str = ""
    is_first: bool | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Cluster:
        return cls(str(raw["name"]), str(raw.get("description") or ""),
                   str(raw.get("organization_name") or ""), raw.get("is_first"), raw)


@dataclass(frozen=True)
class InstanceType:
    name: str
    description: str = ""
    group: str = ""
    price: str = ""
    cpu: str | None = None
    memory: str | None = None
    gpu: str | None = None
    gpu_type: str | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> InstanceType:
        config = raw.get("config") or {}
        requests = (config.get("resources") or {}).get("requests") or {}
        gpu_config = config.get("gpu_config") or {}
        return cls(str(raw.get("display_name") or raw["name"]), str(raw.get("description") or ""),
                   str(config.get("group") or ""), str(config.get("price") or ""), requests.get("cpu"),
                   requests.get("memory"), requests.get("gpu"), gpu_config.get("type"), raw)


@dataclass(frozen=True)
class Deployment:
    """A deployment as the list and get endpoints return it, flattened to its main target."""

    name: str
    status: str
    cluster: str
    bento: str = ""
    urls: tuple[str, ...] = ()
    revision: str = ""
    instance_type: str | None = None
    scaling_min: int | None = None
    scaling_max: int | None = None
    access_authorization: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)
    creator: str = ""
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Deployment:
        revision = raw.get("latest_revision") or {}
        target = _main_target(revision.get("targets") or [])
        config = target.get("config") or {}
        service = _entry_service_config(config.get("services") or {})
        scaling = service.get("scaling") or {}
        cluster = raw.get("cluster")
        return cls(
            name=str(raw["name"]),
            status=str(raw["status"]),
            cluster=str(cluster.get("name", "")) if isinstance(cluster, Mapping) else str(cluster or ""),
            bento=_bento_tag(target.get("bento")),
            urls=tuple(str(u) for u in raw.get("urls") or ()),
            revision=str(revision.get("name") or revision.get("uid") or ""),
            instance_type=service.get("instance_type"),
            scaling_min=scaling.get("min_replicas"),
            scaling_max=scaling.get("max_replicas"),
            access_authorization=bool(config.get("access_authorization")),
            labels=_labels(raw),
            creator=str((raw.get("creator") or {}).get("name") or ""),
            created_at=parse_time(raw.get("created_at")),
            updated_at=parse_time(raw.get("updated_at")) or parse_time(raw.get("created_at")),
            raw=raw,
        )

    @property
    def is_ready(self) -> bool:
        return self.status in READY_STATUSES

    @property
    def is_failed(self) -> bool:
        return self.status in FAILED_STATUSES

    @property
    def is_settled(self) -> bool:
        """Nothing more will change without a user action (ready, failed or terminated)."""
        return self.status in SETTLED_STATUSES

    @property
    def url(self) -> str | None:
        """The endpoint URL once there is exactly one (as bentoml requires)."""
        return self.urls[0] if len(self.urls) == 1 else None


def _main_target(targets: list[Any]) -> JSON:
    present = [t for t in targets if t]
    if len(present) == 1:
        return present[0]  # type: ignore[no-any-return]
    return next((t for t in present if t.get("name") == "main"), present[0] if present else {})


def _entry_service_config(services: Mapping[str, Any]) -> JSON:
    return next(iter(services.values()), None) or {}


def _bento_tag(bento: Any) -> str:
    if not bento:
        return ""
    repository = (bento.get("repository") or {}).get("name", "")
    version = bento.get("version") or bento.get("name") or ""
    return f"{repository}:{version}" if repository else str(version)


@dataclass(frozen=True)
class Bento:
    """A bento on BentoCloud; ``entry_service`` is the key its deployments' ``services`` use."""

    repository: str
    version: str
    description: str = ""
    entry_service: str = ""
    envs: tuple[Mapping[str, Any], ...] = ()
    models: tuple[str, ...] = ()
    size_bytes: int | None = None
    upload_status: str = ""
    image_build_status: str = ""
    created_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    has_manifest: bool = False
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def tag(self) -> str:
        return f"{self.repository}:{self.version}"

    @classmethod
    def from_api(cls, raw: JSON, repository: str | None = None) -> Bento:
        manifest = raw.get("manifest") or {}
        repo = repository or (raw.get("repository") or {}).get("name") or manifest.get("name") or ""
        return cls(
            repository=str(repo), version=str(raw.get("version") or raw["name"]),
            description=str(raw.get("description") or ""),
            entry_service=str(manifest.get("entry_service") or ""),
            envs=tuple(manifest.get("envs") or ()), models=tuple(manifest.get("models") or ()),
            size_bytes=manifest.get("size_bytes"), upload_status=str(raw.get("upload_status") or ""),
            image_build_status=str(raw.get("image_build_status") or ""),
            created_at=parse_time(raw.get("created_at")), labels=_labels(raw),
            has_manifest=bool(raw.get("manifest")), raw=raw)

    @property
    def required_envs(self) -> list[str]:
        """Manifest envs that a deployment must provide (no default value, needed at runtime)."""
        return [str(e["name"]) for e in self.envs
                if not e.get("value") and e.get("stage", "all") != "build"]


@dataclass(frozen=True)
class Model:
    repository: str
    version: str
    module: str = ""
    size_bytes: int | None = None
    upload_status: str = ""
    created_at: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @property
    def tag(self) -> str:
        return f"{self.repository}:{self.version}"

    @classmethod
    def from_api(cls, raw: JSON, repository: str | None = None) -> Model:
        manifest = raw.get("manifest") or {}
        repo = repository or (raw.get("repository") or {}).get("name") or ""
        return cls(str(repo), str(raw.get("version") or raw["name"]), str(manifest.get("module") or ""),
                   manifest.get("size_bytes"), str(raw.get("upload_status") or ""),
                   parse_time(raw.get("created_at")), _labels(raw), raw)


@dataclass(frozen=True)
class Secret:
    """An organisation secret: its keys are shown, never its values."""

    name: str
    type: str = "env"
    keys: tuple[str, ...] = ()
    description: str = ""
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Secret:
        content = raw.get("content") or {}
        return cls(str(raw["name"]), str(content.get("type") or "env"),
                   tuple(str(item["key"]) for item in content.get("items") or ()),
                   str(raw.get("description") or ""), raw)

    @property
    def env_keys(self) -> tuple[str, ...]:
        """Keys this secret provides as environment variables (counts for required envs)."""
        return self.keys if self.type == "env" else ()


@dataclass(frozen=True)
class ApiToken:
    """An API token's metadata (listings never carry the token itself)."""

    name: str
    uid: str = ""
    description: str = ""
    scopes: tuple[str, ...] = ()
    expired_at: datetime | None = None
    last_used_at: datetime | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> ApiToken:
        return cls(str(raw["name"]), str(raw.get("uid") or ""), str(raw.get("description") or ""),
                   tuple(raw.get("scopes") or ()), parse_time(raw.get("expired_at")),
                   parse_time(raw.get("last_used_at")), {k: v for k, v in raw.items() if k != "token"})
