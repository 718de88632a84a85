"""The ``bentoml deploy`` flags turned into BentoCloud's v2 create/update JSON, for every front end.

Magics, widgets and the Python API all build a :class:`DeployOptions` and call
:func:`build_create_request` / :func:`build_update_request`, so a flag has one meaning everywhere.
Bodies are the ones ``bentoml`` 1.4 sends (every key present, nulls included, same key order), with
these deliberate differences, each turning a silent surprise into an :class:`InvalidInputError`:

* Individual flags next to ``config_file``/``config_dict`` are rejected (bentoml drops them).
  ``name``, ``bento`` and ``cluster`` may accompany a config source when the source lacks them (they
  fill in), repeats the same value, or (``bento`` only) names the same bento without a version.
* Unknown keys in a config source are rejected with the path (bentoml drops ``scalling`` silently).
* Strings in bool fields go through :func:`parse_bool` (bentoml makes ``"false"`` true).
* The required-env check counts the envs and secrets that will really be sent (bentoml looks only
  at the flags, even when a config source is used); the user's dict is never mutated.

Bento resolution (local store, push, ``GET`` of the manifest, secret lookups) is the caller's I/O;
this module only computes.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import InvalidInputError

__all__ = [
    "STRATEGIES",
    "DeployOptions",
    "build_create_request",
    "build_update_request",
    "describe_request",
    "load_config_source",
    "parse_bool",
    "parse_envs",
    "parse_labels",
]

STRATEGIES = ("RollingUpdate", "Recreate", "RampedSlowRollout", "BestEffortControlledRollout")
ROUTE_TYPES = ("random", "header", "query")
_TRUE, _FALSE = ("true", "yes", "1", "on"), ("false", "no", "0", "off")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_LABEL_PART = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
_LABEL_PREFIX = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_FLAGS = {"access_authorization": "--access-authorization", "scaling_min": "--scaling-min",
          "scaling_max": "--scaling-max", "instance_type": "--instance-type", "strategy": "--strategy",
          "envs": "--env", "labels": "--label", "secrets": "--secret"}
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
    "fn_overrides": {k: ("any", None) for k in ("annotations", "monitorExporter", "extraPodMetadata",
                                                "extraPodSpec")},
    "request_overrides": {"imageBuildTimeout": ("int?", None), **{k: ("any", None) for k in (
        "imageBuilderExtraPodMetadata", "imageBuilderExtraPodSpec", "imageBuilderExtraContainerEnv",
        "imageBuilderContainerResources")}, "dockerConfigJsonSecretName": ("str?", None),
        "downloaderContainerEnvFrom": ("any", None)},
    "canary": {"route_type": ("str?", None), "route_by": ("str?", None), "versions": ("{version}?", None)},
    "version": {"envs": ("[env]?", None), "secrets": ("[str]?", None), "services": ("{service}", {}),
                "bento": ("str?", None), "weight": ("int?", None)},
    "env": {"name": ("str", _REQUIRED), "value": ("str", _REQUIRED)},
    "label": {"key": ("str", _REQUIRED), "value": ("str", _REQUIRED)},
}
_SCHEMA["create"] = {**_SCHEMA["update"], "name": ("str?", None), "dev": ("bool", False)}


def _fail(message: str) -> InvalidInputError:
    return InvalidInputError(message)


def parse_bool(text: str | bool, what: str = "--access-authorization") -> bool:
    """Read true/false/yes/no/1/0/on/off (any case), because ``bool("false")`` is True.

    Raises:
        InvalidInputError: anything else.
    """
    if isinstance(text, bool):
        return text
    word = str(text).strip().lower()
    if word in _TRUE or word in _FALSE:
        return word in _TRUE
    raise _fail(f"{what} expects true or false (also yes/no, 1/0, on/off), not {text!r}")


def _split_env(item: str) -> tuple[str, str | None]:
    if not isinstance(item, str):
        raise _fail(f"--env expects text such as NAME=value, not {type(item).__name__}")
    key, sep, value = item.partition("=")
    if not key:
        raise _fail("--env needs a name before '=': use --env NAME=value")
    if not _ENV_NAME.match(key):
        raise _fail(f"--env name {key!r} is not valid: use letters, digits, '_', '-' or '.', "
                    "not starting with a digit")
    return key, (value if sep else None)


def parse_envs(items: Iterable[str], environ: Mapping[str, str] | None = None) -> list[dict[str, str]]:
    """``K=V`` -> ``{"name": K, "value": V}``; a bare ``K`` copies its value from ``environ``.

    Raises:
        InvalidInputError: an empty or malformed name, or a bare ``K`` that ``environ`` lacks.
    """
    env = os.environ if environ is None else environ
    out = []
    for item in items:
        key, value = _split_env(item)
        if value is None:
            if key not in env:
                raise _fail(f"--env {key} takes its value from the environment, but {key} is not set there; "
                            f"use --env {key}=value")
            value = env[key]
        out.append({"name": key, "value": value})
    return out


def _check_label_key(key: str, where: str) -> None:
    prefix, _, name = key.rpartition("/")
    if not name or not _LABEL_PART.match(name) or (prefix and not _LABEL_PREFIX.match(prefix)) or "/" in prefix:
        raise _fail(f"{where}: label key {key!r} is not valid: use up to 63 letters, digits, '-', '_' or '.', "
                    "starting and ending with a letter or digit (optionally after a 'domain/' prefix)")


def _check_label_value(value: str, where: str) -> None:
    if not _LABEL_PART.match(value):
        raise _fail(f"{where}: label value {value!r} is not valid: use up to 63 letters, digits, '-', '_' or "
                    "'.', starting and ending with a letter or digit (or leave it empty)")


def parse_labels(items: Iterable[str]) -> list[dict[str, str]]:
    """``k=v`` -> ``{"key": k, "value": v}``, checked against Kubernetes label rules.

    Raises:
        InvalidInputError: an item without ``=`` or a malformed key or value.
    """
    out = []
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise _fail(f"--label {item!r} has no '=': use --label key=value")
        _check_label_key(key, "--label")
        _check_label_value(value, "--label")
        out.append({"key": key, "value": value})
    return out


def _strategy(value: str, where: str = "--strategy") -> str:
    for choice in STRATEGIES:
        if str(value).strip().lower() == choice.lower():
            return choice
    raise _fail(f"{where} {value!r} is not a deployment strategy; choose one of {', '.join(STRATEGIES)}")


def _check_name(name: str, where: str = "--name") -> str:
    if not _DNS_LABEL.match(name):
        raise _fail(f"{where} {name!r} is not a valid deployment name: use 1-63 lowercase letters, digits "
                    "and '-', starting and ending with a letter or digit")
    return name


def _as_int(value: object, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise _fail(f"{where} expects a whole number, not {value!r}")


def _items(value: object, flag: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise _fail(f"{flag} expects a list of text items, not {type(value).__name__}")
    return tuple(value)


@dataclass(frozen=True)
class DeployOptions:
    """Everything ``bentoml deploy`` accepts; validated and normalised on construction.

    Empty strings count as "not given"; ``envs``/``labels``/``secrets`` accept any iterable (or one
    string). ``config_dict`` (a dict or JSON text) wins over ``config_file`` (a YAML path); an empty
    dict counts as not given.

    Raises:
        InvalidInputError: a malformed value, or individual flags next to a config source.
    """

    bento: str | None = None
    name: str | None = None
    cluster: str | None = None
    access_authorization: bool | None = None
    scaling_min: int | None = None
    scaling_max: int | None = None
    instance_type: str | None = None
    strategy: str | None = None
    envs: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    secrets: tuple[str, ...] = ()
    config_file: str | None = None
    config_dict: dict[str, Any] | str | None = None

    def __post_init__(self) -> None:
        put = object.__setattr__
        for key in ("bento", "name", "cluster", "instance_type", "strategy", "config_file", "config_dict"):
            value = getattr(self, key)
            if isinstance(value, os.PathLike):
                value = os.fspath(value)
            put(self, key, None if value in ("", {}) or (isinstance(value, str) and not value.strip()) else value)
        for key in ("envs", "labels", "secrets"):
            put(self, key, _items(getattr(self, key), _FLAGS[key]))
        if self.access_authorization is not None:
            put(self, "access_authorization", parse_bool(self.access_authorization))
        for key in ("scaling_min", "scaling_max"):
            if getattr(self, key) is not None:
                put(self, key, _as_int(getattr(self, key), _FLAGS[key]))
        if self.strategy is not None:
            put(self, "strategy", _strategy(self.strategy))
        self._validate()

    def _validate(self) -> None:
        if self.name is not None:
            _check_name(self.name)
        lo, hi = self.scaling_min, self.scaling_max
        if lo is not None and lo < 0:
            raise _fail(f"--scaling-min must be 0 or more, not {lo}")
        if hi is not None and hi <= 0:
            raise _fail(f"--scaling-max must be at least 1, not {hi}")
        if lo is not None and hi is not None and lo > hi:
            raise _fail(f"--scaling-min ({lo}) is greater than --scaling-max ({hi}); raise --scaling-max")
        for item in self.envs:
            _split_env(item)
        parse_labels(self.labels)
        for secret in self.secrets:
            if not isinstance(secret, str) or not secret.strip() or any(c.isspace() for c in secret):
                raise _fail(f"--secret expects a secret name without spaces, not {secret!r}")
        for key in ("bento", "cluster", "instance_type", "config_file"):
            if getattr(self, key) is not None and not isinstance(getattr(self, key), str):
                raise _fail(f"{key} expects text, not {type(getattr(self, key)).__name__}")
        source = self._source_flag()
        mixed = [flag for key, flag in _FLAGS.items() if getattr(self, key) not in (None, ())]
        if source and mixed:
            verb, it = ("is", "it") if len(mixed) == 1 else ("are", "them")
            where = "the file" if source == "--config-file" else "the dict"
            raise _fail(f"{', '.join(mixed)} {verb} ignored when {source} is given; put {it} in {where}")

    def _source_flag(self) -> str | None:
        if self.config_dict is not None:
            return "--config-dict"
        return "--config-file" if self.config_file is not None else None


def _read_source(options: DeployOptions) -> dict[str, Any] | None:
    if options.config_dict is not None:
        data: object = options.config_dict
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except json.JSONDecodeError as exc:
                raise _fail(f"--config-dict is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}; "
                            "check the quotes, commas and braces") from None
        if not isinstance(data, dict):
            raise _fail("--config-dict must be a JSON object such as {\"services\": {...}}")
        return copy.deepcopy(data)
    if options.config_file is None:
        return None
    path = os.path.expandvars(os.path.expanduser(options.config_file))
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise _fail(f"config file {path} does not exist (relative paths start at {os.getcwd()}); "
                    "check the path") from None
    except OSError as exc:
        raise _fail(f"cannot read config file {path}: {exc.strerror}; check its permissions") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be parsed"
        raise _fail(f"config file {path} is not valid YAML{at}: {problem}; fix the file and retry") from None
    if not isinstance(data, dict):
        raise _fail(f"config file {path} must hold a mapping such as 'bento: name:version'; it is "
                    f"{'empty' if data is None else type(data).__name__}")
    return data


def _same_bento(have: object, given: str) -> bool:
    name, _, version = str(have).partition(":")
    return have == given or (version in ("", "latest") and given.partition(":")[0] == name)


def load_config_source(options: DeployOptions) -> dict[str, Any] | None:
    """The config dict/file as a fresh dict (``name``, ``bento``, ``cluster`` filled from the options).

    Returns None when neither ``config_dict`` nor ``config_file`` is given. An option fills in a key
    the source lacks; it may also repeat the source's value, or (``bento``) give the resolved
    ``name:version`` of a source bento that has no version.

    Raises:
        InvalidInputError: bad JSON/YAML (with line and column), a missing file, or a name, bento or
            cluster that contradicts the source.
    """
    source = _read_source(options)
    if source is None:
        return None
    for key in ("name", "bento", "cluster"):
        given = getattr(options, key)
        have = source.get(key)
        if given is None or have == given:
            continue
        if have is not None and not (key == "bento" and _same_bento(have, given)):
            raise _fail(f"--{key} {given!r} contradicts {key}: {have!r} in {options._source_flag()}; "
                        "remove one of them")
        source[key] = given
    return source


def _join(where: str, key: object) -> str:
    return f"{where}.{key}" if where else str(key)


def _scalar(value: object, kind: str, where: str) -> Any:
    if kind == "any":
        return value
    if kind == "bool":
        return parse_bool(value if isinstance(value, bool) else str(value), where)
    if kind == "int":
        return _as_int(value, where)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise _fail(f"{where} expects text, not {type(value).__name__}; quote it")
    return value


def _shape(value: object, kind: str, where: str, *, fill: bool, strict: bool) -> Any:
    """Check ``value`` against ``kind``; ``fill`` adds missing keys, ``strict`` rejects unknown ones."""
    base = kind.rstrip("?")
    if value is None and (kind.endswith("?") or base == "any"):
        return None
    if value is None and base in _SCHEMA:
        value = {}
    if value is None and base != "bool":
        raise _fail(f"{where} must not be null; give a value or remove the key")
    if base[0] in "[{":
        want, inner = (list, "a list") if base[0] == "[" else (dict, "a mapping")
        if not isinstance(value, want):
            raise _fail(f"{where} must be {inner}, not {type(value).__name__}")
        if isinstance(value, list):
            return [_shape(v, base[1:-1], f"{where}[{i}]", fill=fill, strict=strict) for i, v in enumerate(value)]
        return {str(k): _shape(v, base[1:-1], _join(where, k), fill=fill, strict=strict) for k, v in value.items()}
    if base in _SCHEMA:
        return _shape_object(value, base, where, fill=fill, strict=strict)
    return _scalar(value, base, where)


def _shape_object(value: object, schema: str, where: str, *, fill: bool, strict: bool) -> dict[str, Any]:
    fields = _SCHEMA[schema]
    if not isinstance(value, dict):
        raise _fail(f"{where or 'the config'} must be a mapping, not {type(value).__name__}")
    unknown = [str(k) for k in value if k not in fields]
    if unknown and strict:
        close = difflib.get_close_matches(unknown[0], list(fields), n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise _fail(f"unknown key {_join(where, unknown[0])!r}; {hint}known keys here: {', '.join(fields)}")
    out: dict[str, Any] = {}
    for key, (kind, default) in fields.items():
        here = _join(where, key)
        if key in value:
            out[key] = _shape(value[key], kind, here, fill=fill, strict=strict)
            check = _CHECKS.get((schema, key))
            if strict and check is not None and out[key] is not None:
                out[key] = check(out[key], here)
        elif fill and default is _REQUIRED:
            raise _fail(f"{here} is missing; add it")
        elif fill:
            out[key] = copy.deepcopy(default)
    return out


def _check_route(value: str, where: str) -> str:
    if value not in ROUTE_TYPES:
        raise _fail(f"{where} {value!r} is not a route type; choose one of {', '.join(ROUTE_TYPES)}")
    return value


def _checked(check: Callable[[str, str], object]) -> Callable[[Any, str], Any]:
    def run(value: Any, where: str) -> Any:
        check(value, where)
        return value
    return run


_CHECKS: dict[tuple[str, str], Callable[[Any, str], Any]] = {
    ("create", "name"): _check_name, ("service", "deployment_strategy"): _strategy,
    ("canary", "route_type"): _check_route, ("env", "name"): _checked(lambda v, w: _split_env(v)),
    ("label", "key"): _checked(_check_label_key), ("label", "value"): _checked(_check_label_value),
}


def _fix_scaling(scaling: dict[str, Any] | None, where: str) -> dict[str, Any]:
    """bentoml's rule: no scaling is 1..1; a missing max is max(min, 1); min may stay null."""
    if scaling is None:
        return {"min_replicas": 1, "max_replicas": 1, "policy": None}
    lo, hi = scaling["min_replicas"], scaling["max_replicas"]
    if hi is None:
        hi = max(lo, 1) if lo is not None else 1
    if lo is not None and lo > hi:
        raise _fail(f"{where}: min_replicas ({lo}) is greater than max_replicas ({hi}); "
                    "raise --scaling-max or lower --scaling-min")
    if lo is not None and lo < 0:
        raise _fail(f"{where}: min_replicas must be 0 or more, not {lo}")
    if hi <= 0:
        raise _fail(f"{where}: max_replicas must be at least 1, not {hi}")
    return {**scaling, "max_replicas": hi}


def _finish(body: dict[str, Any]) -> dict[str, Any]:
    """Normalise scaling of every service (canary versions too) and check the bento tag."""
    groups = [("services", body["services"])]
    versions = (body["canary"] or {}).get("versions") or {}
    groups += [(f"canary.versions.{name}.services", v["services"]) for name, v in versions.items()]
    for prefix, services in groups:
        for name, svc in services.items():
            svc["scaling"] = _fix_scaling(svc["scaling"], f"{prefix}.{name}.scaling")
    name, _, version = body["bento"].partition(":")
    if not name or not version or version == "latest" or any(c.isspace() for c in body["bento"]):
        raise _fail(f"bento {body['bento']!r} must be a resolved 'name:version' tag; look the bento up first")
    return body


def _flags_config(options: DeployOptions, entry_service: str, *, create: bool) -> dict[str, Any]:
    """The dict bentoml builds from individual flags (unset flags are left out)."""
    cfg: dict[str, Any] = {k: v for k, v in (
        ("bento", options.bento), ("access_authorization", options.access_authorization),
        ("envs", parse_envs(options.envs) or None), ("labels", parse_labels(options.labels) or None),
        ("secrets", list(options.secrets) or None)) if v is not None}
    if create:
        cfg.update(name=options.name, dev=False)
    service: dict[str, Any] = {}
    if options.instance_type is not None:
        service["instance_type"] = options.instance_type
    scaling = {k: v for k, v in (("min_replicas", options.scaling_min), ("max_replicas", options.scaling_max))
               if v is not None}
    if scaling:
        service["scaling"] = scaling
    if options.strategy is not None:
        service["deployment_strategy"] = options.strategy
    cfg["services"] = {entry_service: service}
    return cfg


def _manifest_defaults(envs: list[dict[str, str]] | None, manifest_envs: list[dict[str, Any]]) -> Any:
    """``bentoml deploy`` adds manifest envs that have a value (not build-only) unless set by flag."""
    given = {e["name"] for e in envs or []}
    extra = [{"name": e["name"], "value": e["value"]} for e in manifest_envs
             if e.get("value") and e["name"] not in given and e.get("stage", "all") != "build"]
    return [*(envs or []), *extra] or None


def _check_required_envs(body: dict[str, Any], manifest_envs: list[dict[str, Any]], secret_keys: set[str]) -> None:
    provided = {e["name"] for e in body["envs"] or []} | secret_keys
    for svc in body["services"].values():
        provided |= {e["name"] for e in svc["envs"] or [] if e is not None}
    missing = list(dict.fromkeys(e["name"] for e in manifest_envs if not e.get("value")
                                 and e.get("stage", "all") != "build" and e["name"] not in provided))
    if missing:
        raise _fail(f"the bento needs environment variables that were not given: {', '.join(missing)}; "
                    f"pass --env {missing[0]}=value or --secret with a secret that provides them")


def build_create_request(options: DeployOptions, entry_service: str, manifest_envs: list[dict[str, Any]] | None = None,
                         secret_env_keys: Iterable[str] = ()) -> tuple[dict[str, Any], str | None]:
    """The complete CreateDeployment body and the ``?cluster=`` value (None: the server's default).

    ``options.bento`` (or the source's ``bento``) must already be ``name:version``; ``entry_service``
    and ``manifest_envs`` come from that bento's manifest, ``secret_env_keys`` from its env secrets.

    Raises:
        InvalidInputError: bad options or config, no bento, bad scaling, or required envs missing.
    """
    manifest = list(manifest_envs or [])
    source = load_config_source(options)
    if source is None:
        cfg = _flags_config(options, entry_service, create=True)
        cfg["envs"] = _manifest_defaults(cfg.get("envs"), manifest)
    else:
        cfg = source
    cluster = cfg.pop("cluster", options.cluster)
    if not cfg.get("bento"):
        raise _fail("no bento given; pass bento='name:version' (or set bento: in the config)")
    body = _finish(_shape_object(cfg, "create", "", fill=True, strict=True))
    _check_required_envs(body, manifest, set(secret_env_keys))
    return body, None if cluster is None else _scalar(cluster, "str", "cluster")


def _main_target(current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """bentoml's reading of a deployment: the main target, other targets as canary versions."""
    name = current.get("name", "?")
    targets = list((current.get("latest_revision") or {}).get("targets") or [])
    if not targets:
        raise _fail(f"deployment {name!r} has no revision with targets yet; wait for it, or create it again")
    routing = (current.get("manifest") or {}).get("routing")
    canary = {"route_type": routing.get("route_type"), "route_by": routing.get("route_by")} if routing else None
    weights = (routing or {}).get("weights")
    main = targets[0] if len(targets) == 1 else None
    for target in targets if len(targets) > 1 else []:
        if target is None:
            continue
        if target.get("name") == "main":
            main = target
            continue
        canary = canary or {}
        config, bento = target.get("config") or {}, target.get("bento")
        canary.setdefault("versions", {})[target.get("name")] = {
            "services": config.get("services") or {}, "envs": config.get("envs"), "secrets": config.get("secrets"),
            "bento": f"{bento['repository']['name']}:{bento['version']}" if bento else None,
            "weight": weights.get(target.get("name")) if weights else None}
    if main is None or not main.get("config") or not main.get("bento"):
        raise _fail(f"deployment {name!r} has no main target with a config and a bento; it cannot be updated")
    return main, canary


def build_update_request(current: dict[str, Any], options: DeployOptions,
                         entry_service: str) -> tuple[dict[str, Any], str]:
    """The UpdateDeployment body (current config deep-merged with the options) and its cluster.

    Lists (envs, secrets, labels) are replaced whole, mappings merged key by key; current labels
    are not carried over. The cluster is the deployment's own, as bentoml sends it.

    Raises:
        InvalidInputError: bad options/config, a deployment without a usable target, or bad scaling.
    """
    try:
        cluster = str(current["cluster"]["name"])
        main, canary = _main_target(current)
        config, bento = main["config"], main["bento"]
        base = {"services": config.get("services") or {}, "access_authorization": config.get("access_authorization"),
                "envs": config.get("envs"), "secrets": config.get("secrets"),
                "bento": f"{bento['repository']['name']}:{bento['name']}", "canary": canary}
    except (KeyError, TypeError) as exc:
        raise _fail(f"the current deployment is missing {exc}; fetch it again with get()") from None
    base = {k: v for k, v in base.items() if v is not None}
    base = _shape_object(base, "update", "current deployment", fill=False, strict=False)
    source = load_config_source(options)
    patch = _flags_config(options, entry_service, create=False) if source is None else source
    for key in ("cluster", "name", "dev"):
        patch.pop(key, None)
    patch = _shape_object(patch, "update", "", fill=False, strict=True)
    merged = _deep_merge(base, patch)
    return _finish(_shape_object(merged, "update", "", fill=True, strict=False)), cluster


def _deep_merge(base: Any, update: Any) -> Any:
    if not isinstance(base, dict) or not isinstance(update, dict):
        return update
    for key, value in update.items():
        base[key] = _deep_merge(base[key], value) if isinstance(base.get(key), dict) else value
    return base


def describe_request(body: Mapping[str, Any], cluster: str | None) -> str:
    """A short summary for ``--dry-run``; env values are shown as ``***`` since they may be secrets."""
    lines = [f"bento:    {body.get('bento')}",
             f"name:     {body.get('name') or '(chosen by BentoCloud)'}" if "name" in body else "",
             f"cluster:  {cluster or '(default cluster)'}",
             f"access authorization: {'on' if body.get('access_authorization') else 'off'}"]
    for key, svc in (body.get("services") or {}).items():
        scaling = svc.get("scaling") or {}
        lo = "?" if scaling.get("min_replicas") is None else scaling["min_replicas"]
        lines.append(f"service {key or '(unnamed)'}: instance {svc.get('instance_type') or '(default)'}, "
                     f"replicas {lo}-{scaling.get('max_replicas')}, "
                     f"strategy {svc.get('deployment_strategy') or '(default)'}")
        if svc.get("envs"):
            lines.append(f"  envs:   {', '.join(e['name'] + '=***' for e in svc['envs'] if e)}")
    if body.get("envs"):
        lines.append(f"envs:     {', '.join(e['name'] + '=***' for e in body['envs'])}")
    if body.get("secrets"):
        lines.append(f"secrets:  {', '.join(body['secrets'])}")
    if body.get("labels"):
        lines.append("labels:   " + ", ".join(f"{x['key']}={x['value']}" for x in body["labels"]))
    versions = (body.get("canary") or {}).get("versions") or {}
    if versions:
        lines.append("canary:   " + ", ".join(f"{k} (weight {v.get('weight')})" for k, v in versions.items()))
    return "\n".join(line for line in lines if line)
