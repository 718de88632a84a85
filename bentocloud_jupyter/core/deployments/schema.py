"""BentoCloud's v2 deployment body: its schema, the per-field checks, and shaping a dict to it.

Split from :mod:`.options` so that module only turns flags and config sources into a body, while
this one owns what a valid body *is*: bentoml's attrs field order and defaults (so bodies match the
``bentoml`` CLI key for key), unknown-key refusal with a path, and the scaling and bento-tag rules.
It depends on nothing but :mod:`.errors`, so :mod:`.options` can build on it without a cycle.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Callable
from typing import Any

from bentocloud_jupyter.core.defaults import STRATEGIES
from bentocloud_jupyter.core.errors import InvalidInputError

ROUTE_TYPES = ("random", "header", "query")
_TRUE, _FALSE = ("true", "yes", "1", "on", "t", "y"), ("false", "no", "0", "off", "f", "n")  # click.BOOL's words
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_PART = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_REQUIRED = object()

# Body schemas in bentoml's attrs field order. Kinds: str/int/bool/any, a schema name, [kind] for a
# list, {kind} for a map keyed by name; a trailing "?" allows null.
_SCHEMA: dict[str, dict[str, tuple[str, Any]]] = {
    "update": {"access_authorization": ("bool", False), "envs": ("[env]?", None), "labels": ("[label]?", None),
               "secrets": ("[str]?", None), "services": ("{service}", {}), "canary": ("canary?", None),
               "bento": ("str", _REQUIRED)},
    "service": {"instance_type": ("str?", None), "scaling": ("hpa?", None), "envs": ("[env?]?", None),
                "deployment_strategy": ("str?", None), "extras": ("extras?", None),
                "cold_start_timeout": ("int?", None), "config_overrides": ("any", {})},
    "hpa": {"min_replicas": ("int?", None), "max_replicas": ("int?", None), "policy": ("policy?", None)},
    "policy": {"metrics": ("[metric]?", None), "scale_down_behavior": ("str?", None),
               "scale_up_behavior": ("str?", None), "scale_down_stabilization_window": ("int?", None),
               "scale_up_stabilization_window": ("int?", None)},
    "metric": {"type": ("str", _REQUIRED), "value": ("any", _REQUIRED)},
    "extras": {"bento_function_overrides": ("fn_overrides?", None),
               "bento_request_overrides": ("request_overrides?", None)},
    "fn_overrides": dict.fromkeys(("annotations", "monitorExporter", "extraPodMetadata", "extraPodSpec"),
                                  ("any", None)),
    "request_overrides": {"imageBuildTimeout": ("int?", None), **dict.fromkeys((
        "imageBuilderExtraPodMetadata", "imageBuilderExtraPodSpec", "imageBuilderExtraContainerEnv",
        "imageBuilderContainerResources"), ("any", None)), "dockerConfigJsonSecretName": ("str?", None),
        "downloaderContainerEnvFrom": ("any", None)},
    "canary": {"route_type": ("str?", None), "route_by": ("str?", None), "versions": ("{version}?", None)},
    "version": {"envs": ("[env]?", None), "secrets": ("[str]?", None), "services": ("{service}", {}),
                "bento": ("str?", None), "weight": ("int?", None)},
    "env": {"name": ("str", _REQUIRED), "value": ("str", _REQUIRED)},
    "label": {"key": ("str", _REQUIRED), "value": ("str", _REQUIRED)},
}
_SCHEMA["create"] = {**_SCHEMA["update"], "name": ("str?", None), "dev": ("bool", False)}


def parse_bool(text: str | bool, what: str = "--access-authorization") -> bool:
    """Read true/false/yes/no/1/0/on/off/t/f/y/n (any case), because ``bool("false")`` is True.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(text, bool):
        return text
    word = str(text).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise InvalidInputError(f"{what} expects true or false (also yes/no, 1/0, on/off), not {text!r}")


def check_env_name(key: str, where: str = "--env") -> str:
    if not key:
        raise InvalidInputError(f"{where} needs a name before '=': use --env NAME=value")
    if not _ENV_NAME.match(key):
        raise InvalidInputError(f"{where} {key!r} is not a valid environment variable name: use letters, digits, "
                                "'_', '-' or '.', not starting with a digit")
    return key


def check_label_key(key: str, where: str) -> str:
    prefix, _, name = key.rpartition("/")
    if not name or not _LABEL_PART.match(name) or (prefix and not _LABEL_PREFIX.match(prefix)) or "/" in prefix:
        raise InvalidInputError(f"{where}: label key {key!r} is not valid: use up to 63 letters, digits, '-', "
                                "'_' or '.', starting and ending with a letter or digit (after an optional "
                                "'domain/' prefix)")
    return key


def check_label_value(value: str, where: str) -> str:
    if not _LABEL_PART.match(value):
        raise InvalidInputError(f"{where}: label value {value!r} is not valid: use up to 63 letters, digits, '-', "
                                "'_' or '.', starting and ending with a letter or digit (or leave it empty)")
    return value


def check_strategy(value: str, where: str = "--strategy") -> str:
    for choice in STRATEGIES:
        if str(value).strip().lower() == choice.lower():
            return choice
    raise InvalidInputError(f"{where} {value!r} is not a deployment strategy; choose one of {', '.join(STRATEGIES)}")


def check_name(name: str, where: str = "--name") -> str:
    if not _DNS_LABEL.match(name):
        raise InvalidInputError(f"{where} {name!r} is not a valid deployment name: use 1-63 lowercase letters, "
                                "digits and '-', starting and ending with a letter or digit")
    return name


def _check_route(value: str, where: str) -> str:
    if value not in ROUTE_TYPES:
        raise InvalidInputError(f"{where} {value!r} is not a route type; choose one of {', '.join(ROUTE_TYPES)}")
    return value


def check_int(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise InvalidInputError(f"{where} expects a whole number, not {value!r}")


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def check_scalar(value: object, kind: str, where: str) -> Any:
    if kind == "any":
        return value
    if kind == "bool":
        return value is not None and parse_bool(value if isinstance(value, bool) else str(value), where)
    if kind == "int":
        return check_int(value, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise InvalidInputError(f"{where} expects text, not {type(value).__name__}; quote it")
    return value


def _shape(value: object, kind: str, where: str, *, fill: bool, strict: bool) -> Any:
    """Check ``value`` against ``kind``; ``fill`` adds missing keys, ``strict`` refuses unknown ones."""
    base = kind.rstrip("?")
    if value is None and (kind.endswith("?") or base == "any"):
        return None
    if value is None and base in _SCHEMA:
        value = {}
    if value is None and base != "bool":
        raise InvalidInputError(f"{where} must not be null; give a value or remove the key")
    if base[0] in "[{":
        want, inner = (list, "a list") if base[0] == "[" else (dict, "a mapping")
        if not isinstance(value, want):
            raise InvalidInputError(f"{where} must be {inner}, not {type(value).__name__}")
        if isinstance(value, list):
            return [_shape(v, base[1:-1], f"{where}[{i}]", fill=fill, strict=strict) for i, v in enumerate(value)]
        return {str(k): _shape(v, base[1:-1], _join(where, k), fill=fill, strict=strict) for k, v in value.items()}
    if base in _SCHEMA:
        return shape_object(value, base, where, fill=fill, strict=strict)
    return check_scalar(value, base, where)


def shape_object(value: object, schema: str, where: str, *, fill: bool, strict: bool) -> dict[str, Any]:
    fields = _SCHEMA[schema]
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where or 'the config'} must be a mapping, not {type(value).__name__}")
    unknown = [str(k) for k in value if k not in fields]
    if unknown and strict:
        close = difflib.get_close_matches(unknown[0], list(fields), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise InvalidInputError(f"unknown key {_join(where, unknown[0])!r}; {hint}keys allowed here: "
                                f"{', '.join(fields)}")
    out: dict[str, Any] = {}
    for key, (kind, default) in fields.items():
        here = _join(where, key)
        if key in value:
            out[key] = _shape(value[key], kind, here, fill=fill, strict=strict)
            check = _CHECKS.get((schema, key))
            if strict and check is not None and out[key] is not None:
                out[key] = check(out[key], here)
        elif fill and default is _REQUIRED:
            raise InvalidInputError(f"{here} is missing; add it")
        elif fill:
            out[key] = copy.deepcopy(default)
    return out


_CHECKS: dict[tuple[str, str], Callable[[Any, str], Any]] = {
    ("create", "name"): check_name, ("service", "deployment_strategy"): check_strategy,
    ("canary", "route_type"): _check_route, ("env", "name"): check_env_name,
    ("label", "key"): check_label_key, ("label", "value"): check_label_value,
}


def _fix_scaling(scaling: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """bentoml's rule: no scaling is 1..1; a missing max is max(min, 1); min may stay null."""
    if scaling is None:
        return {"min_replicas": 1, "max_replicas": 1, "policy": None}
    lo, hi = scaling["min_replicas"], scaling["max_replicas"]
    if hi is None:
        hi = max(lo, 1) if lo is not None else 1
    if lo is not None and lo > hi:
        raise InvalidInputError(f"{where}: min_replicas ({lo}) is greater than max_replicas ({hi}); "
                                "raise max_replicas (--scaling-max) or lower min_replicas (--scaling-min)")
    if lo is not None and lo < 0:
        raise InvalidInputError(f"{where}: min_replicas must be 0 or more, not {lo}")
    if hi <= 0:
        raise InvalidInputError(f"{where}: max_replicas must be at least 1, not {hi}")
    return {**scaling, "max_replicas": hi}


def finish_body(body: dict[str, Any]) -> dict[str, Any]:
    """Normalise the scaling of every service (canary versions too) and check the bento tag."""
    groups = [("services", body["services"])]
    versions = (body["canary"] or {}).get("versions") or {}
    groups += [(f"canary.versions.{name}.services", v["services"]) for name, v in versions.items()]
    for prefix, services in groups:
        for name, svc in services.items():
            svc["scaling"] = _fix_scaling(svc["scaling"], f"{prefix}.{name}.scaling")
    name, _, version = body["bento"].partition(":")
    if not name or not version or version == "latest" or any(c.isspace() for c in body["bento"]):
        raise InvalidInputError(f"bento {body['bento']!r} must be a resolved 'name:version' tag; "
                                "look the bento up first")
    return body
