"""The ``bentoml deploy`` flags turned into BentoCloud's v2 create/update JSON, for every front end.

Magics, widgets and the Python API all build a :class:`DeployOptions` and call
:func:`build_create_request` / :func:`build_update_request`, so a flag has one meaning everywhere.
Bodies equal what the ``bentoml`` 1.4 CLI sends (every key, nulls included, same key order; checked
by ``tests/compat``), except where bentoml would silently surprise; there we raise
:class:`InvalidInputError` or do the obvious thing:

* Individual flags next to ``config_file``/``config_dict`` are refused (bentoml drops them).
  ``name``, ``bento`` and ``cluster`` may accompany a config source when the source lacks them (they
  fill in) or repeats the same value; ``bento`` may also be the resolved ``name:version`` of a source
  bento given without a version (or as ``latest``).
* Unknown keys in a config source are refused with their path (bentoml drops ``scalling``).
* Strings in bool fields go through :func:`parse_bool` (bentoml turns ``"false"`` into true);
  strategies are matched case-insensitively and must be one of :data:`STRATEGIES`.
* The required-env check counts the envs and secrets that are really sent (bentoml looks only at the
  flags, even when a config source is used); the caller's dict is never mutated.

The body schema, the per-field checks and the shaping of a dict to that schema live in
:mod:`.deploy_schema`; this module maps flags and config sources onto it.

Bento resolution (local store, push, manifest ``GET``, secret lookups) is the caller's I/O: it passes
the resolved ``name:version`` in ``bento`` plus the manifest's ``entry_service`` and ``envs``.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bentocloud_jupyter.core.defaults import STRATEGIES
from bentocloud_jupyter.core.deployments.current import current_body, deep_merge
from bentocloud_jupyter.core.deployments.schema import (
    ROUTE_TYPES as ROUTE_TYPES,  # re-exported: part of this module's public API
)
from bentocloud_jupyter.core.deployments.schema import (
    check_env_name,
    check_int,
    check_label_key,
    check_label_value,
    check_name,
    check_scalar,
    check_strategy,
    finish_body,
    parse_bool,
    shape_object,
)
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.rest.models import manifest_envs as usable_envs

__all__ = ["STRATEGIES", "DeployOptions", "build_create_request", "build_replace_request", "build_update_request",
           "describe_request",
           "load_config_source", "parse_bool", "parse_envs", "parse_labels"]

_FLAGS = {"access_authorization": "--access-authorization", "scaling_min": "--scaling-min",
          "scaling_max": "--scaling-max", "instance_type": "--instance-type", "strategy": "--strategy",
          "envs": "--env", "labels": "--label", "secrets": "--secret"}


def _split_env(item: str) -> tuple[str, str | None]:
    if not isinstance(item, str):
        raise InvalidInputError(f"--env expects text such as NAME=value, not {type(item).__name__}")
    key, sep, value = item.partition("=")
    return check_env_name(key), (value if sep else None)


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
                raise InvalidInputError(f"--env {key} takes its value from the environment, but {key} is not "
                                        f"set there; use --env {key}=value")
            value = env[key]
        out.append({"name": key, "value": value})
    return out


def parse_labels(items: Iterable[str]) -> list[dict[str, str]]:
    """``k=v`` -> ``{"key": k, "value": v}``, checked against the Kubernetes label rules.

    Raises:
        InvalidInputError: an item without ``=`` or a malformed key or value.
    """
    out = []
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep:
            raise InvalidInputError(f"--label {item!r} has no '=': use --label key=value")
        out.append({"key": check_label_key(key, "--label"), "value": check_label_value(value, "--label")})
    return out


def _items(value: object, flag: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if not isinstance(value, Iterable):
        raise InvalidInputError(f"{flag} expects a list of text items, not {type(value).__name__}")
    return tuple(value)


@dataclass(frozen=True)
class DeployOptions:
    """Everything ``bentoml deploy`` accepts, validated and normalised on construction.

    Empty strings (and an empty ``config_dict``) count as not given; ``envs``/``labels``/``secrets``
    take any iterable or one string. ``config_dict`` (a dict or JSON text) wins over ``config_file``.

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
            value = os.fspath(value) if isinstance(value, os.PathLike) else value
            put(self, key, None if value in ("", {}) or (isinstance(value, str) and not value.strip()) else value)
            if key != "config_dict" and not isinstance(getattr(self, key), (str, type(None))):
                raise InvalidInputError(f"{key} expects text, not {type(value).__name__}")
        for key in ("envs", "labels", "secrets"):
            put(self, key, _items(getattr(self, key), _FLAGS[key]))
        if self.access_authorization is not None:
            put(self, "access_authorization", parse_bool(self.access_authorization))
        for key in ("scaling_min", "scaling_max"):
            if getattr(self, key) is not None:
                put(self, key, check_int(getattr(self, key), _FLAGS[key]))
        if self.strategy is not None:
            put(self, "strategy", check_strategy(self.strategy))
        self._validate()

    def _validate(self) -> None:
        if self.name is not None:
            check_name(self.name)
        lo, hi = self.scaling_min, self.scaling_max
        if lo is not None and lo < 0:
            raise InvalidInputError(f"--scaling-min must be 0 or more, not {lo}")
        if hi is not None and hi <= 0:
            raise InvalidInputError(f"--scaling-max must be at least 1, not {hi}")
        if lo is not None and hi is not None and lo > hi:
            raise InvalidInputError(f"--scaling-min ({lo}) is greater than --scaling-max ({hi}); raise --scaling-max")
        for item in self.envs:
            _split_env(item)
        parse_labels(self.labels)
        for secret in self.secrets:
            if not isinstance(secret, str) or not secret.strip() or any(c.isspace() for c in secret):
                raise InvalidInputError(f"--secret expects a secret name without spaces, not {secret!r}")
        source = self._source_flag()
        mixed = [flag for key, flag in _FLAGS.items() if getattr(self, key) not in (None, ())]
        if source and mixed:
            verb, it = ("is", "it") if len(mixed) == 1 else ("are", "them")
            where = "the file" if source == "--config-file" else "the dict"
            raise InvalidInputError(f"{', '.join(mixed)} {verb} ignored when {source} is given; put {it} in {where}")

    def _source_flag(self) -> str | None:
        if self.config_dict is not None:
            return "--config-dict"
        return "--config-file" if self.config_file is not None else None


def _read_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"--config-dict is not valid JSON: {exc.msg} at line {exc.lineno}, column "
                                f"{exc.colno}; check the quotes, commas and braces") from None
    except RecursionError:  # hostile nesting: one line, not a traceback
        raise InvalidInputError("--config-dict nests too deeply to be a config; check the braces") from None


def _read_yaml(path: str) -> object:
    try:
        with open(path, encoding="utf-8") as handle:
            return yaml.safe_load(handle)
    except FileNotFoundError:
        raise InvalidInputError(f"config file {path} does not exist (relative paths start at {os.getcwd()}); "
                                "check the path") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path (UnicodeDecodeError is one too)
        raise InvalidInputError(f"cannot read config file {path} ({exc}); it must be readable UTF-8") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise InvalidInputError(f"config file {path} is not valid YAML{at}: "
                                f"{getattr(exc, 'problem', None) or exc}; fix the file and retry") from None
    except RecursionError:  # hostile nesting: one line, not a traceback
        raise InvalidInputError(f"config file {path} nests too deeply to be a config; fix the file") from None


def load_config_source(options: DeployOptions) -> dict[str, Any] | None:
    """The config dict/file as a fresh dict, with ``name``/``bento``/``cluster`` filled from the options.

    Returns None when neither ``config_dict`` nor ``config_file`` is given. An option fills a key the
    source lacks; it may also repeat the source's value, or (``bento``) give the resolved
    ``name:version`` of a source bento written without a version or as ``name:latest``.

    Raises:
        InvalidInputError: bad JSON/YAML (with line and column), a missing file, a source that is not
            a mapping, or a name, bento or cluster that contradicts the source.
    """
    where = options._source_flag()
    if where is None:
        return None
    if options.config_dict is not None:
        raw = options.config_dict
        data = _read_json(raw) if isinstance(raw, str) else copy.deepcopy(raw)
    else:
        where = os.path.expandvars(os.path.expanduser(str(options.config_file)))
        data = _read_yaml(where)
    if not isinstance(data, dict):
        raise InvalidInputError(f"{where} must hold a mapping such as {{\"bento\": \"name:version\"}}; it holds "
                                f"{'nothing' if data is None else 'a ' + type(data).__name__}")
    for key in ("name", "bento", "cluster"):
        given, have = getattr(options, key), data.get(key)
        name, _, version = str(have).partition(":")
        same_bento = key == "bento" and version in ("", "latest") and str(given).partition(":")[0] == name
        if given is not None and have is not None and have != given and not same_bento:
            raise InvalidInputError(f"--{key} {given!r} contradicts {key}: {have!r} in {where}; remove one of them")
        if given is not None:
            data[key] = given
    return data


def _flags_config(options: DeployOptions, entry_service: str, *, create: bool) -> dict[str, Any]:
    """The dict bentoml builds from individual flags (unset flags left out)."""
    cfg: dict[str, Any] = {k: v for k, v in (
        ("bento", options.bento), ("access_authorization", options.access_authorization),
        ("envs", parse_envs(options.envs) or None), ("labels", parse_labels(options.labels) or None),
        ("secrets", list(options.secrets) or None)) if v is not None}
    if create:
        cfg.update(name=options.name, dev=False)
    scaling = {k: v for k, v in (("min_replicas", options.scaling_min), ("max_replicas", options.scaling_max))
               if v is not None}
    service = {k: v for k, v in (("instance_type", options.instance_type), ("scaling", scaling or None),
                                 ("deployment_strategy", options.strategy)) if v is not None}
    cfg["services"] = {entry_service: service}
    return cfg


def _manifest_defaults(envs: list[dict[str, str]] | None, manifest_envs: list[dict[str, Any]]) -> Any:
    """``bentoml deploy`` adds manifest envs that have a value (not build-only) unless set by flag."""
    given = {e["name"] for e in envs or []}
    extra = [{"name": e["name"], "value": str(e["value"])} for e in manifest_envs
             if e.get("value") and e.get("name") not in given and e.get("stage", "all") != "build"]
    return [*(envs or []), *extra] or None


def _check_required_envs(body: dict[str, Any], manifest_envs: list[dict[str, Any]], secret_keys: set[str]) -> None:
    provided = {e["name"] for e in body["envs"] or []} | secret_keys
    for svc in body["services"].values():
        provided |= {e["name"] for e in svc["envs"] or [] if e is not None}
    missing = list(dict.fromkeys(str(e.get("name")) for e in manifest_envs if not e.get("value")
                                 and e.get("stage", "all") != "build" and e.get("name") not in provided))
    if missing:
        raise InvalidInputError(f"the bento needs environment variables that were not given: {', '.join(missing)};"
                                f" pass --env {missing[0]}=value, or --secret with a secret that provides them")


def build_create_request(options: DeployOptions, entry_service: str, manifest_envs: list[dict[str, Any]] | None = None,
                         secret_env_keys: Iterable[str] = ()) -> tuple[dict[str, Any], str | None]:
    """The complete CreateDeployment body and the ``?cluster=`` value (None: the server's default).

    ``bento`` (option or source) must be a resolved ``name:version``; ``entry_service`` and
    ``manifest_envs`` come from its manifest, ``secret_env_keys`` from the env secrets attached.

    Raises:
        InvalidInputError: bad options or config, no bento, bad scaling, or required envs missing.
    """
    manifest = list(usable_envs(manifest_envs))  # a server's odd envs (not objects, no name) are skipped
    source = load_config_source(options)
    if source is None:
        cfg = _flags_config(options, entry_service, create=True)
        cfg["envs"] = _manifest_defaults(cfg.get("envs"), manifest)
    else:
        cfg = source
    cluster = cfg.pop("cluster", options.cluster)
    if not cfg.get("bento"):
        raise InvalidInputError("no bento given; pass bento='name:version' (or set bento: in the config)")
    body = finish_body(shape_object(cfg, "create", "", fill=True, strict=True))
    _check_required_envs(body, manifest, set(secret_env_keys))
    return body, None if cluster is None else check_scalar(cluster, "str", "cluster")


def build_update_request(current: dict[str, Any], options: DeployOptions,
                         entry_service: str) -> tuple[dict[str, Any], str]:
    """The UpdateDeployment body (the current config deep-merged with the options) and its cluster.

    Mappings merge key by key; lists (envs, secrets, labels) and scalars are replaced; current labels
    are not carried over. The cluster is the deployment's own (``current["cluster"]["name"]``).

    Raises:
        InvalidInputError: bad options/config, a deployment without a usable target, or bad scaling.
    """
    base, cluster = current_body(current)
    source = load_config_source(options)
    patch = _flags_config(options, entry_service, create=False) if source is None else source
    for key in ("cluster", "name", "dev"):
        patch.pop(key, None)
    merged = deep_merge(base, shape_object(patch, "update", "", fill=False, strict=True))
    return finish_body(shape_object(merged, "update", "", fill=True, strict=False)), cluster


def build_replace_request(current: dict[str, Any], options: DeployOptions, entry_service: str,
                          manifest_envs: list[dict[str, Any]] | None = None,
                          secret_env_keys: Iterable[str] = ()) -> tuple[dict[str, Any], str]:
    """``apply`` to an existing deployment: the given config *replaces* the current one (no merge).

    What it leaves out takes its default, as in a new deployment, except the bento and the cluster: a
    config without them keeps the deployment's own (bentoml refuses a file without a cluster instead).

    Raises:
        InvalidInputError: bad options/config, another name or cluster than the deployment's, missing envs.
    """
    base, cluster = current_body(current)
    source = load_config_source(options)
    cfg = _flags_config(options, entry_service, create=False) if source is None else source
    given, name = cfg.pop("cluster", None) or options.cluster, cfg.pop("name", None)
    cfg.pop("dev", None)
    if given is not None and given != cluster:
        raise InvalidInputError(f"deployment {current.get('name')!r} runs in cluster {cluster!r}, not {given!r}; a "
                                "deployment cannot move: drop the cluster, or give the new one another name")
    if name is not None and name != current.get("name"):
        raise InvalidInputError(f"the config names {name!r}, not {current.get('name')!r}; remove one of them")
    cfg["bento"] = cfg.get("bento") or base["bento"]
    cfg["services"] = cfg.get("services") or {entry_service: {}}  # what the server does with none: said, not implied
    body = finish_body(shape_object(cfg, "update", "", fill=True, strict=True))
    _check_required_envs(body, list(usable_envs(manifest_envs)), set(secret_env_keys))
    return body, cluster


def describe_request(body: Mapping[str, Any], cluster: str | None) -> str:
    """A short summary for ``--dry-run``; env values show as ``***`` since they may be secrets."""
    lines = [f"bento:    {body.get('bento')}",
             f"name:     {body.get('name') or '(chosen by BentoCloud)'}" if "name" in body else "",
             f"cluster:  {cluster or '(default cluster)'}",
             f"access authorization: {'on' if body.get('access_authorization') else 'off'}"]
    for key, svc in (body.get("services") or {}).items():
        scaling = svc.get("scaling") or {}
        lo = scaling.get("min_replicas")
        lines.append(f"service {key or '(unnamed)'}: instance {svc.get('instance_type') or '(default)'}, replicas "
                     f"{'up to ' if lo is None else f'{lo}-'}{scaling.get('max_replicas')}, "
                     f"strategy {svc.get('deployment_strategy') or '(default)'}")
        if svc.get("envs"):
            lines.append("  envs:   " + ", ".join(f"{e['name']}=***" for e in svc["envs"] if e))
    for label, key, text in (("envs", "envs", lambda e: f"{e['name']}=***"), ("secrets", "secrets", str),
                             ("labels", "labels", lambda x: f"{x['key']}={x['value']}")):
        if body.get(key):
            lines.append(f"{label + ':':<10}" + ", ".join(text(item) for item in body[key]))
    versions = (body.get("canary") or {}).get("versions") or {}
    if versions:
        lines.append("canary:   " + ", ".join(f"{k} (weight {v.get('weight')})" for k, v in versions.items()))
    return "\n".join(line for line in lines if line)
