"""Finding and reading the credentials file: where it is, and its bytes parsed into a :class:`~.model.Config`.

Reading never writes or creates anything; a missing or empty file means "no contexts". What ``bentoml``
tolerates is tolerated here too (see :mod:`.config`); anything else raises
:class:`~bentocloud_jupyter.core.errors.ConfigError` with the line and column when YAML gives them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import yaml

from bentocloud_jupyter.core.credentials.model import DEFAULT_CONTEXT_NAME, FILE_NAME, Config, Context
from bentocloud_jupyter.core.errors import ConfigError
from bentocloud_jupyter.core.tokens import Token

__all__ = ["bentoml_home", "credentials_path", "load_config", "parse_config", "read_raw"]

_KNOWN_CONTEXT_KEYS = ("api_token", "email", "endpoint", "name")
_KNOWN_TOP_KEYS = ("contexts", "current_context_name")


def bentoml_home() -> Path:
    """``$BENTOML_HOME`` (default ``~/bentoml``), expanded like ``bentoml`` does, read at call time."""
    value = os.environ.get("BENTOML_HOME") or os.path.join("~", "bentoml")
    for _ in range(16):
        expanded = os.path.expanduser(os.path.expandvars(value))
        if expanded == value:
            break
        value = expanded
    return Path(value)


def credentials_path() -> Path:
    """The credentials file's path; it may not exist."""
    return bentoml_home() / FILE_NAME


def load_config(path: Path | None = None) -> Config:
    """Read and validate the credentials file without changing anything on disk.

    Raises:
        ConfigError: the file exists but cannot be read or is not a valid credentials file.
    """
    path = path or credentials_path()
    raw = read_raw(path)
    return Config(path=path) if raw is None else parse_config(raw, path)


def read_raw(path: Path) -> bytes | None:
    """The file's bytes, or None when it does not exist.

    Raises:
        ConfigError: it is a folder or cannot be read.
    """
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a credentials file; move it away and log in again.",
                          path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the credentials file {path}: {exc.strerror or exc}. "
                          "Check its permissions.", path=str(path)) from None


def parse_config(raw: bytes, path: Path) -> Config:
    """Parse the file's bytes; see :mod:`.config` for what is tolerated.

    Raises:
        ConfigError: with the line and column when YAML gives them.
    """
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path} is not UTF-8 text (byte {exc.start}); fix or remove it.",
                          path=str(path)) from None
    try:
        document = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        column = mark.column + 1 if mark is not None else None
        where = f" at line {line}, column {column}" if line is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path} is not valid YAML{where}: {problem}. Fix the file by hand; "
                          "it was left unchanged.", path=str(path), line=line, column=column) from None
    if document is None:
        return Config(path=path)
    if not isinstance(document, dict):
        _invalid(path, f"the top level is {_type_name(document)}, expected a mapping")
    return _config_from_mapping(document, path)


def _config_from_mapping(document: dict[Any, Any], path: Path) -> Config:
    contexts_raw = document.get("contexts", [])
    if not isinstance(contexts_raw, list):
        _invalid(path, f"'contexts' is {_type_name(contexts_raw)}, expected a list")
    current = _text(document.get("current_context_name", DEFAULT_CONTEXT_NAME), path,
                    "current_context_name")
    contexts: list[Context] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(contexts_raw):
        ctx = _context_from_mapping(item, index, path)
        if ctx.name in seen:
            problems.append(f"context {ctx.name!r} appears more than once in {path}; the first one is used")
        seen.add(ctx.name)
        contexts.append(ctx)
    extra = {str(k): v for k, v in document.items() if k not in _KNOWN_TOP_KEYS}
    return Config(tuple(contexts), current, path, extra, tuple(problems))


def _context_from_mapping(item: Any, index: int, path: Path) -> Context:
    where = f"context #{index + 1}"
    if not isinstance(item, dict):
        _invalid(path, f"{where} is {_type_name(item)}, expected a mapping")
    missing = [key for key in ("name", "endpoint", "api_token") if item.get(key) is None]
    if missing:
        _invalid(path, f"{where} has no {', '.join(missing)}")
    email = item.get("email")
    return Context(
        name=_text(item["name"], path, f"{where} name"),
        endpoint=_text(item["endpoint"], path, f"{where} endpoint"),
        api_token=Token(_text(item["api_token"], path, f"{where} api_token")),
        email=None if email is None else _text(email, path, f"{where} email"),
        extra={str(k): v for k, v in item.items() if k not in _KNOWN_CONTEXT_KEYS},
    )


def _text(value: Any, path: Path, what: str) -> str:
    """Coerce scalars to text as ``bentoml`` does; refuse lists and mappings."""
    if isinstance(value, (dict, list)):
        _invalid(path, f"{what} is {_type_name(value)}, expected text")
    return str(value)


def _type_name(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", type(None): "empty"}.get(
        type(value), f"a {type(value).__name__}")


def _invalid(path: Path, detail: str) -> NoReturn:
    raise ConfigError(f"{path} is not a valid credentials file: {detail}. Fix the file by hand; "
                      "it was left unchanged.", path=str(path))
