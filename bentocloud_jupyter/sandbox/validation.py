"""Validation and normalisation of deployment create/update bodies, as BentoCloud would do it.

The store calls :func:`normalise_config` with lookups it owns; the result is the target config the
sandbox stores and echoes back. Errors are :class:`SandboxError` with the status the real service
uses for that mistake (400 bad input, 404 unknown reference).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from bentocloud_jupyter.sandbox.records import SandboxError, not_found

NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
DEFAULT_INSTANCE_TYPE = "cpu.1"


def check_name(name: object) -> str:
    """Deployment names are DNS labels: lowercase letters, digits and dashes."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise SandboxError(
            400,
            f"invalid deployment name {name!r}: use 1-63 lowercase letters, digits and dashes, "
            "starting and ending with a letter or digit",
        )
    return name


def dns_slug(text: str) -> str:
    """Turn a bento name such as ``iris_classifier`` into a name prefix (``iris-classifier``)."""
    slug = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    return slug[:50] or "deployment"


def _env_list(value: object, where: str) -> list[dict[str, str]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise SandboxError(400, f"{where} must be a list of {{name, value}} objects")
    out = []
    for item in value:
        if item is None:
            continue
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise SandboxError(400, f"{where}: every item needs a string 'name'")
        out.append({"name": item["name"], "value": "" if item.get("value") is None else str(item["value"])})
    return out


def _scaling(value: object, service: str) -> dict[str, Any]:
    if value is None:
        return {"min_replicas": 1, "max_replicas": 1, "policy": None}
    if not isinstance(value, dict):
        raise SandboxError(400, f"services.{service}.scaling must be an object")
    lo, hi = value.get("min_replicas"), value.get("max_replicas")
    for key, num in (("min_replicas", lo), ("max_replicas", hi)):
        if num is not None and (not isinstance(num, int) or isinstance(num, bool)):
            raise SandboxError(400, f"services.{service}.scaling.{key} must be an integer")
    if hi is None:
        hi = max(lo, 1) if lo is not None else 1
    if lo is not None and lo < 0:
        raise SandboxError(400, f"services.{service}: min_replicas must be >= 0, got {lo}")
    if hi <= 0:
        raise SandboxError(400, f"services.{service}: max_replicas must be > 0, got {hi}")
    if lo is not None and lo > hi:
        raise SandboxError(400, f"services.{service}: min_replicas ({lo}) is greater than max_replicas ({hi})")
    return {"min_replicas": lo, "max_replicas": hi, "policy": value.get("policy")}


def without_nulls(value: Any) -> Any:
    """Drop null-valued keys at every depth: bentoml reads e.g. ``imageBuildTimeout`` as a plain int."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


def extras(value: object, where: str) -> dict[str, Any] | None:
    """A service's ``extras`` (advanced overrides) as echoed back: no nulls, integers where bentoml wants them."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise SandboxError(400, f"{where}.extras must be an object")
    for key in ("bento_function_overrides", "bento_request_overrides"):
        if value.get(key) is not None and not isinstance(value[key], dict):
            raise SandboxError(400, f"{where}.extras.{key} must be an object")
    timeout = (value.get("bento_request_overrides") or {}).get("imageBuildTimeout")
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
        raise SandboxError(400, f"{where}.extras.bento_request_overrides.imageBuildTimeout must be an "
                                f"integer (seconds), got {timeout!r}")
    cleaned: dict[str, Any] = without_nulls(value)
    return cleaned


def canary(value: object) -> Any:
    """``canary`` is echoed as sent, except that its services' extras lose their nulls too."""
    if not isinstance(value, dict) or not isinstance(value.get("versions"), dict):
        return value
    out = dict(value, versions=dict(value["versions"]))
    for version, conf in out["versions"].items():
        if isinstance(conf, dict) and isinstance(conf.get("services"), dict):
            services = {name: dict(svc, extras=extras(svc.get("extras"), f"canary.versions.{version}.{name}"))
                        if isinstance(svc, dict) else svc for name, svc in conf["services"].items()}
            out["versions"][version] = dict(conf, services=services)
    return out


def _services(
    value: object, entry: str, known_services: Iterable[str], instance_types: Iterable[str]
) -> dict[str, dict[str, Any]]:
    if value is None or value == {}:
        value = {entry: {}}
    if not isinstance(value, dict):
        raise SandboxError(400, "services must be an object keyed by service name")
    known, types = set(known_services), set(instance_types)
    out: dict[str, dict[str, Any]] = {}
    for name, conf in value.items():
        if name not in known:
            raise SandboxError(400, f"service {name!r} is not part of the bento (services: {sorted(known)})")
        conf = dict(conf or {})
        itype = conf.get("instance_type") or DEFAULT_INSTANCE_TYPE
        if itype not in types:
            raise SandboxError(400, f"unknown instance type {itype!r}; available: {', '.join(sorted(types))}")
        conf["instance_type"] = itype
        conf["scaling"] = _scaling(conf.get("scaling"), name)
        timeout = conf.get("cold_start_timeout")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int)):
            raise SandboxError(400, f"services.{name}.cold_start_timeout must be an integer (seconds) or null")
        conf["envs"] = _env_list(conf.get("envs"), f"services.{name}.envs") or None
        for key in ("deployment_strategy", "cold_start_timeout"):
            conf.setdefault(key, None)
        conf["extras"] = extras(conf.get("extras"), f"services.{name}")
        conf["config_overrides"] = conf.get("config_overrides") or {}
        out[name] = conf
    return out


def _labels(value: object) -> list[dict[str, str]] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(i, dict) and "key" in i for i in value):
        raise SandboxError(400, "labels must be a list of {key, value} objects")
    return [{"key": str(i["key"]), "value": str(i.get("value") or "")} for i in value]


def _check_required_envs(manifest: dict[str, Any], provided: set[str], secrets: list[str],
                         secret_env_keys: Callable[[str], list[str] | None]) -> None:
    """Every runtime env the bento requires must come from envs or an attached secret (404 on a ghost secret)."""
    provided = set(provided)
    for name in secrets:
        keys = secret_env_keys(name)
        if keys is None:
            raise not_found(f"secret {name!r} in the deployment's cluster")
        provided.update(keys)
    missing = [
        e["name"] for e in manifest.get("envs") or []
        if not e.get("value") and e.get("stage", "all") != "build" and e["name"] not in provided
    ]
    if missing:
        raise SandboxError(
            400,
            f"missing required environment variables for bento: {', '.join(missing)}; "
            "set them with envs or attach an env secret that provides them",
        )


def normalise_config(
    body: dict[str, Any],
    manifest: dict[str, Any],
    instance_types: Iterable[str],
    secret_env_keys: Callable[[str], list[str] | None],
) -> dict[str, Any]:
    """Validate a create/update body against the bento and return the stored target config.

    ``secret_env_keys(name)`` returns the env keys an ``env`` secret provides ([] for mountfile
    secrets) or None when the secret does not exist.
    """
    entry = manifest.get("entry_service") or ""
    known = [s.get("name", "") for s in manifest.get("services") or []] or [entry]
    services = _services(body.get("services"), entry, known, instance_types)
    envs = _env_list(body.get("envs"), "envs")
    secrets = body.get("secrets") or []
    if not isinstance(secrets, list) or not all(isinstance(s, str) for s in secrets):
        raise SandboxError(400, "secrets must be a list of secret names")
    provided = {e["name"] for e in envs}
    for conf in services.values():
        provided.update(e["name"] for e in conf["envs"] or [])
    _check_required_envs(manifest, provided, secrets, secret_env_keys)
    return {
        "access_authorization": bool(body.get("access_authorization")),
        "envs": envs,
        "labels": _labels(body.get("labels")),
        "secrets": secrets,
        "services": services,
        "canary": canary(body.get("canary")),
    }


def entry_min_replicas(config: dict[str, Any], entry: str) -> int | None:
    """min_replicas of the entry service (or the only service): decides scale-to-zero."""
    services = config.get("services") or {}
    conf = services.get(entry) or (next(iter(services.values())) if len(services) == 1 else None)
    if not conf:
        return 1
    scaling = conf.get("scaling") or {}
    value = scaling.get("min_replicas")
    return value if isinstance(value, int) else None
