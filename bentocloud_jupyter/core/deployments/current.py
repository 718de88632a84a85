"""A deployment as BentoCloud returns it, read back as the config that would recreate it.

``update`` merges flags into this config, ``apply`` compares a new config with it (the change plan), and
``start`` sends it unchanged. Split from :mod:`.options` so that module stays the flags-to-body mapping.
"""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.core.deployments.schema import finish_body, shape_object
from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["current_body", "current_config", "deep_merge"]


def current_config(current: dict[str, Any]) -> dict[str, Any]:
    """bentoml's reading of a deployment: the main target's config, other targets as canary versions.

    Raises:
        InvalidInputError: no main target with a config and a bento yet.
    """
    name = current.get("name", "?")
    targets = list((current.get("latest_revision") or {}).get("targets") or [])
    routing = (current.get("manifest") or {}).get("routing")
    canary = {"route_type": routing.get("route_type"), "route_by": routing.get("route_by")} if routing else None
    weights = (routing or {}).get("weights") or {}
    main = targets[0] if len(targets) == 1 else None
    for target in targets if len(targets) > 1 else []:
        if target is not None and target.get("name") == "main":
            main = target
        elif target is not None:
            config, bento = target.get("config") or {}, target.get("bento")
            canary = canary or {}
            canary.setdefault("versions", {})[target.get("name")] = {
                "services": config.get("services") or {}, "envs": config.get("envs"), "secrets": config.get("secrets"),
                "bento": f"{bento['repository']['name']}:{bento['version']}" if bento else None,
                "weight": weights.get(target.get("name"))}
    if main is None or not main.get("config") or not main.get("bento"):
        raise InvalidInputError(f"deployment {name!r} has no main target with a config and a bento yet; "
                                "wait until it has one, or create it again")
    config, bento = main["config"], main["bento"]
    return {"services": config.get("services") or {}, "access_authorization": config.get("access_authorization"),
            "envs": config.get("envs"), "secrets": config.get("secrets"),
            "bento": f"{bento['repository']['name']}:{bento['name']}", "canary": canary}



def deep_merge(base: Any, update: Any) -> Any:
    """``update`` merged into ``base`` key by key (mappings merge; lists and scalars are replaced)."""
    if not isinstance(base, dict) or not isinstance(update, dict):
        return update
    for key, value in update.items():
        base[key] = deep_merge(base[key], value) if isinstance(base.get(key), dict) else value
    return base


def current_body(current: dict[str, Any], *, fill: bool = False) -> tuple[dict[str, Any], str]:
    """The current config shaped as an update body (``fill``: every key, scaling normalised) and its cluster.

    Raises:
        InvalidInputError: a deployment without a cluster or a usable main target.
    """
    try:
        cluster = str(current["cluster"]["name"])
        base = {k: v for k, v in current_config(current).items() if v is not None}
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidInputError(f"the current deployment is missing {exc}; fetch it again") from None
    base = shape_object(base, "update", "current deployment", fill=fill, strict=False)
    return (finish_body(base) if fill else base), cluster
