"""Typed views of BentoCloud's JSON: small frozen dataclasses built with ``from_api()``.

They keep what a notebook user looks at, ignore unknown fields and tolerate missing optional ones, and
keep the whole payload in ``raw`` (left out of the repr) for anything else. Every name, size, date and
number goes through :mod:`.fields` first: an odd value (a string size, a date that overflows once in
UTC, a list where an object belongs) becomes None or empty and the record stays usable. A payload
missing a field we cannot do without (or with a name that is no name) raises ``KeyError``/``TypeError``/
``ValueError``; the client turns that into one :class:`~.errors.ProtocolError` line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from bentocloud_jupyter.core.rest.fields import (
    MAX_SIZE,
    count,
    flag,
    labels,
    name,
    obj,
    optional_text,
    seq,
    text,
    texts,
    when,
)
from bentocloud_jupyter.core.rest.service_config import ServiceConfig, entry_service_name, env_pairs, service_configs

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
    "ServiceConfig",
    "User",
    "manifest_envs",
    "parse_time",
    "record",
]

T = TypeVar("T")
JSON = Mapping[str, Any]


READY_STATUSES = frozenset({"running", "scaled-to-zero"})
FAILED_STATUSES = frozenset({"failed", "image-build-failed", "unhealthy"})
STOPPED_STATUSES = frozenset({"terminated"})
SETTLED_STATUSES = READY_STATUSES | FAILED_STATUSES | STOPPED_STATUSES


def parse_time(value: Any) -> datetime | None:
    """ISO-8601 as BentoCloud sends it, in UTC; None when empty, malformed or out of range (:func:`.fields.when`)."""
    return when(value)


def record(raw: Any) -> JSON:
    """The JSON object a model is built from.

    Raises:
        TypeError: the answer is not an object (the client reports a ProtocolError).
    """
    if not isinstance(raw, Mapping):
        raise TypeError("expected an object")
    return raw


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
        raw = record(raw)
        return cls(name(raw["name"]), text(raw.get("email")), text(raw.get("first_name")),
                   text(raw.get("last_name")), raw)

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
        raw = record(raw)
        return cls(name(raw["name"]), text(raw.get("uid")), text(raw.get("description")), raw)


@dataclass(frozen=True)
class Cluster:
    name: str
    description: str = ""
    organization_name: str = ""
    is_first: bool | None = None
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Cluster:
        raw = record(raw)
        return cls(name(raw["name"]), text(raw.get("description")), text(raw.get("organization_name")),
                   flag(raw.get("is_first")), raw)


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
        raw = record(raw)
        config = obj(raw.get("config"))
        requests = obj(obj(config.get("resources")).get("requests"))
        return cls(text(raw.get("display_name")) or name(raw["name"]), text(raw.get("description")),
                   text(config.get("group")), text(config.get("price")), optional_text(requests.get("cpu")),
                   optional_text(requests.get("memory")), optional_text(requests.get("gpu")),
                   optional_text(obj(config.get("gpu_config")).get("type")), raw)


@dataclass(frozen=True)
class Deployment:
    """A deployment as the list and get endpoints return it, flattened to its main target.

    ``instance_type`` and the scaling are the bento's entry service's; ``services`` has every service
    (the entry first), ``envs``/``secrets`` the deployment-wide ones (secrets by name: values never come back).
    """

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
    entry_service: str = ""
    strategy: str | None = None
    services: tuple[ServiceConfig, ...] = ()
    envs: tuple[tuple[str, str], ...] = ()
    secrets: tuple[str, ...] = ()
    raw: JSON = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, raw: JSON) -> Deployment:
        raw = record(raw)
        revision = obj(raw.get("latest_revision"))
        target = _main_target(seq(revision.get("targets")))
        config = obj(target.get("config"))
        services = obj(config.get("services"))
        entry = entry_service_name(services, target)
        service = obj(services.get(entry))
        scaling = obj(service.get("scaling"))
        cluster = raw.get("cluster")
        return cls(
            name=name(raw["name"]),
            status=name(raw["status"], "status"),
            cluster=text(cluster.get("name")) if isinstance(cluster, Mapping) else text(cluster),
            bento=_bento_tag(target.get("bento")),
            urls=texts(raw.get("urls")),
            revision=text(revision.get("name")) or text(revision.get("uid")),
            instance_type=optional_text(service.get("instance_type")),
            scaling_min=count(scaling.get("min_replicas")),
            scaling_max=count(scaling.get("max_replicas")),
            access_authorization=flag(config.get("access_authorization")) is True,
            labels=labels(raw.get("labels")),
            creator=text(obj(raw.get("creator")).get("name")),
            created_at=when(raw.get("created_at")),
            updated_at=when(raw.get("updated_at")) or when(raw.get("created_at")),
            entry_service=entry, strategy=optional_text(service.get("deployment_strategy")),
            services=service_configs(services, entry), envs=env_pairs(config.get("envs")),
            secrets=texts(config.get("secrets")),
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
    present: list[JSON] = [t for t in targets if isinstance(t, Mapping) and t]
    if len(present) == 1:
        return present[0]
    return next((t for t in present if t.get("name") == "main"), present[0] if present else {})


def _bento_tag(bento: Any) -> str:
    if isinstance(bento, str):
        return text(bento)
    bento = obj(bento)
    repository = text(obj(bento.get("repository")).get("name"))
    version = text(bento.get("version")) or text(bento.get("name"))
    return f"{repository}:{version}" if repository else version


def manifest_envs(value: Any) -> tuple[dict[str, Any], ...]:
    """A manifest's ``envs`` as objects with a text ``name`` (and a text ``value``/``stage`` when given).

    Anything else a server may put there (a string, a number, an object instead of the list, items
    without a name) is skipped, so required-env checks and ``%deploy`` never trip over it.
    """
    out = []
    for item in seq(value):
        env = obj(item)
        env_name = text(env.get("name"))
        if not env_name:
            continue
        clean: dict[str, Any] = {"name": env_name}
        if text(env.get("value")):
            clean["value"] = text(env.get("value"))
        if text(env.get("stage")):
            clean["stage"] = text(env.get("stage"))
        out.append(clean)
    return tuple(out)


def _model_tags(value: Any) -> tuple[str, ...]:
    """A manifest's ``models``: tags as text, or objects carrying a ``tag``; anything else skipped."""
    tags = (item if isinstance(item, str) else obj(item).get("tag") for item in seq(value))
    return tuple(t for t in (text(tag) for tag in tags if isinstance(tag, str)) if t)


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
        raw = record(raw)
        manifest = obj(raw.get("manifest"))
        repo = repository or text(obj(raw.get("repository")).get("name")) or text(manifest.get("name"))
        return cls(
            repository=text(repo), version=text(raw.get("version")) or name(raw["name"], "version"),
            description=text(raw.get("description")), entry_service=text(manifest.get("entry_service")),
            envs=manifest_envs(manifest.get("envs")), models=_model_tags(manifest.get("models")),
            size_bytes=count(manifest.get("size_bytes"), MAX_SIZE), upload_status=text(raw.get("upload_status")),
            image_build_status=text(raw.get("image_build_status")),
            created_at=when(raw.get("created_at")), labels=labels(raw.get("labels")),
            has_manifest=bool(manifest), raw=raw)

    @property
    def required_envs(self) -> list[str]:
        """Manifest envs that a deployment must provide (no default value, needed at runtime)."""
        return [text(e.get("name")) for e in self.envs if isinstance(e, Mapping) and text(e.get("name"))
                and not e.get("value") and e.get("stage", "all") != "build"]


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
        raw = record(raw)
        manifest = obj(raw.get("manifest"))
        repo = repository or text(obj(raw.get("repository")).get("name"))
        return cls(text(repo), text(raw.get("version")) or name(raw["name"], "version"),
                   text(manifest.get("module")), count(manifest.get("size_bytes"), MAX_SIZE),
                   text(raw.get("upload_status")), when(raw.get("created_at")), labels(raw.get("labels")), raw)


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
        raw = record(raw)
        content = obj(raw.get("content"))
        keys = tuple(key for key in (text(obj(item).get("key")) for item in seq(content.get("items"))) if key)
        return cls(name(raw["name"]), text(content.get("type")) or "env", keys, text(raw.get("description")), raw)

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
        raw = record(raw)
        return cls(name(raw["name"]), text(raw.get("uid")), text(raw.get("description")),
                   texts(raw.get("scopes")), when(raw.get("expired_at")), when(raw.get("last_used_at")),
                   {k: v for k, v in raw.items() if k != "token"})
