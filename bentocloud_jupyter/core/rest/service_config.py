"""The per-service part of a deployment's configuration, read the way :mod:`.fields` reads everything.

A deployment of a multi-service bento (``Frontend`` calling ``Backend``) carries one entry per service
under ``config.services``; what a user looks at first is the bento's *entry* service, named in the
target bento's manifest. Split from :mod:`.models` so that module stays a list of records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.rest.fields import count, obj, optional_text, seq, text

__all__ = ["ServiceConfig", "entry_service_name", "env_pairs", "service_configs"]


@dataclass(frozen=True)
class ServiceConfig:
    """One service of a deployment: instance type, scaling, rollout strategy and the envs the user set."""

    name: str
    instance_type: str | None = None
    scaling_min: int | None = None
    scaling_max: int | None = None
    strategy: str | None = None
    envs: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_api(cls, key: str, raw: Any) -> ServiceConfig:
        conf = obj(raw)
        scaling = obj(conf.get("scaling"))
        return cls(key, optional_text(conf.get("instance_type")), count(scaling.get("min_replicas")),
                   count(scaling.get("max_replicas")), optional_text(conf.get("deployment_strategy")),
                   env_pairs(conf.get("envs")))

    @property
    def scaling(self) -> str:
        """``1..3 replicas`` (``-`` for a bound the server left out)."""
        low = "-" if self.scaling_min is None else str(self.scaling_min)
        high = "-" if self.scaling_max is None else str(self.scaling_max)
        return f"{low}..{high} replicas"

    def summary(self) -> dict[str, Any]:
        """The machine-readable fields of ``-o json|yaml``."""
        return {"instance_type": self.instance_type,
                "scaling": {"min_replicas": self.scaling_min, "max_replicas": self.scaling_max},
                "strategy": self.strategy, "envs": [{"name": k, "value": v} for k, v in self.envs]}


def env_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    """``[{"name": K, "value": V}]`` as ``((K, V), ...)``; items without a text name are skipped."""
    pairs = ((text(obj(item).get("name")), text(obj(item).get("value"))) for item in seq(value))
    return tuple((key, val) for key, val in pairs if key)


def entry_service_name(services: Mapping[str, Any], target: Mapping[str, Any]) -> str:
    """The bento's entry service as named in ``services``: the manifest's ``entry_service`` when the config
    has it, else the only service, else the first one (a config written before the manifest was known)."""
    manifest = obj(obj(target.get("bento")).get("manifest"))
    entry = text(manifest.get("entry_service"))
    keys = [str(key) for key in services]
    if entry in keys:
        return entry
    return keys[0] if keys else entry


def service_configs(services: Mapping[str, Any], entry: str) -> tuple[ServiceConfig, ...]:
    """Every service of the config, the entry service first."""
    ordered = sorted((str(key) for key in services), key=lambda key: key != entry)
    return tuple(ServiceConfig.from_api(key, services.get(key)) for key in ordered)
