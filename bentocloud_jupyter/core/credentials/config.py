"""The credentials file shared with the ``bentoml`` CLI: ``$BENTOML_HOME/.yatai.yaml``.

Same format as ``bentoml`` (so either tool can read what the other wrote), safer handling:

* Reading never writes or creates anything; a missing or empty file means "no contexts".
* Every write takes a cross-process lock, re-reads the file inside it, applies one change, writes a
  temp file in the same folder, fsyncs it, renames it over the old one and fsyncs the folder. A crash
  leaves the complete old or the complete new file; concurrent writers never lose each other's
  contexts. The file is written ``0600``; a folder we create is ``0700``.
* A file we cannot parse raises :class:`~.errors.ConfigError` and is never overwritten.
* Keys we do not know survive our writes (``bentoml`` drops them).
* Tolerated as ``bentoml`` tolerates them: non-string scalars (coerced to text), a missing ``email``,
  duplicate context names (the first wins, and :attr:`Config.problems` says so), a UTF-8 BOM, CRLF.

The functions here return values and print nothing.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.credentials.safefile import atomic_write, ensure_folder, locked
from bentocloud_jupyter.core.errors import ConfigError, ContextNotFoundError, InvalidInputError
from bentocloud_jupyter.core.tokens import Token

__all__ = [
    "DEFAULT_CONTEXT_NAME",
    "DEFAULT_ENDPOINT",
    "ENV_CONTEXT_NAME",
    "Config",
    "Context",
    "ContextSource",
    "ResolvedContext",
    "bentoml_home",
    "credentials_path",
    "get_context",
    "list_contexts",
    "load_config",
    "remove_context",
    "rename_context",
    "resolve_context",
    "save_context",
    "set_current_context",
]

DEFAULT_ENDPOINT = "https://cloud.bentoml.com"
DEFAULT_CONTEXT_NAME = "default"
ENV_CONTEXT_NAME = "__env__"
FILE_NAME = ".yatai.yaml"

_KNOWN_CONTEXT_KEYS = ("api_token", "email", "endpoint", "name")
_KNOWN_TOP_KEYS = ("contexts", "current_context_name")


# --------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Context:
    """One named set of credentials: where BentoCloud is and which token to send."""

    name: str
    endpoint: str
    api_token: Token
    email: str | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.api_token, Token):
            object.__setattr__(self, "api_token", Token(self.api_token))

    def to_yaml_dict(self) -> dict[str, Any]:
        """The mapping written to the file: ``bentoml``'s four keys plus the unknown ones we read."""
        data = dict(self.extra)
        data.update(api_token=self.api_token.reveal(), email=self.email,
                    endpoint=self.endpoint, name=self.name)
        return data


@dataclass(frozen=True)
class Config:
    """The parsed credentials file. ``problems`` lists what we tolerated (e.g. duplicate names)."""

    contexts: tuple[Context, ...] = ()
    current_context_name: str = DEFAULT_CONTEXT_NAME
    path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    problems: tuple[str, ...] = field(default=(), compare=False)

    def find(self, name: str) -> Context | None:
        """The first context called ``name`` (the one ``bentoml`` uses), or None."""
        return next((ctx for ctx in self.contexts if ctx.name == name), None)

    @property
    def names(self) -> list[str]:
        return [ctx.name for ctx in self.contexts]

    def to_yaml(self) -> str:
        """The file text, byte for byte what ``bentoml`` writes for the same contexts."""
        data = dict(self.extra)
        data["contexts"] = [ctx.to_yaml_dict() for ctx in self.contexts]
        data["current_context_name"] = self.current_context_name
        # bentoml uses yaml.dump with default options; the pure-Python SafeDumper emits the same text.
        return yaml.dump(data, Dumper=yaml.SafeDumper, sort_keys=True)


class ContextSource(str, enum.Enum):
    """Where the credentials in use came from."""

    ENV_API_KEY = "BENTO_CLOUD_API_KEY"
    ARGUMENT = "argument"
    ENV_CONTEXT = "BENTOML_CLOUD_CONTEXT"
    CURRENT = "current_context_name"


@dataclass(frozen=True)
class ResolvedContext:
    """A context plus the reason it was chosen, and a loud note when the environment overrode a choice."""

    context: Context
    source: ContextSource
    path: Path
    requested: str | None = None

    @property
    def overridden(self) -> bool:
        """True when the user asked for a context but ``BENTO_CLOUD_API_KEY`` took precedence."""
        return self.source is ContextSource.ENV_API_KEY and self.requested is not None

    @property
    def description(self) -> str:
        """One line saying where the credentials came from."""
        if self.source is ContextSource.ENV_API_KEY:
            text = "the BENTO_CLOUD_API_KEY environment variable"
            if self.overridden:
                text += (f" (it overrides the context {self.requested!r} you asked for: "
                         "unset BENTO_CLOUD_API_KEY to use your saved contexts)")
            return text
        origin = {
            ContextSource.ARGUMENT: "requested explicitly",
            ContextSource.ENV_CONTEXT: "chosen by BENTOML_CLOUD_CONTEXT",
            ContextSource.CURRENT: "the current context",
        }[self.source]
        return f"context {self.context.name!r} of {self.path} ({origin})"


# ------------------------------------------------------------------------------------------ location


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


# ------------------------------------------------------------------------------------------- reading


def load_config(path: Path | None = None) -> Config:
    """Read and validate the credentials file without changing anything on disk.

    Raises:
        ConfigError: the file exists but cannot be read or is not a valid credentials file.
    """
    path = path or credentials_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Config(path=path)
    except IsADirectoryError:
        raise ConfigError(f"{path} is a folder, not a credentials file; move it away and log in again.",
                          path=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"Cannot read the credentials file {path}: {exc.strerror or exc}. "
                          "Check its permissions.", path=str(path)) from None
    return parse_config(raw, path)


def parse_config(raw: bytes, path: Path) -> Config:
    """Parse the file's bytes; see the module docstring for what is tolerated.

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


def _invalid(path: Path, detail: str) -> None:
    raise ConfigError(f"{path} is not a valid credentials file: {detail}. Fix the file by hand; "
                      "it was left unchanged.", path=str(path))


# ----------------------------------------------------------------------------------------- queries


def list_contexts(path: Path | None = None) -> list[Context]:
    """Every context in file order (duplicates included, as in the file)."""
    return list(load_config(path).contexts)


def get_context(name: str, path: Path | None = None) -> Context:
    """The context called ``name`` from the file (the environment is not consulted).

    Raises:
        ContextNotFoundError: no such context.
    """
    config = load_config(path)
    ctx = config.find(name)
    if ctx is None:
        raise _not_found(name, config)
    return ctx


def resolve_context(name: str | None = None, path: Path | None = None) -> ResolvedContext:
    """The credentials to use, in ``bentoml``'s order of precedence.

    ``BENTO_CLOUD_API_KEY`` (context ``__env__``, endpoint from ``BENTO_CLOUD_API_ENDPOINT``) beats
    everything; then ``name``; then ``BENTOML_CLOUD_CONTEXT``; then the file's current context. An empty
    ``BENTOML_CLOUD_CONTEXT`` counts as unset (``bentoml`` would look for a context named "").

    Raises:
        ContextNotFoundError: the chosen name is not in the file.
        ConfigError: the file cannot be parsed.
    """
    path = path or credentials_path()
    env_context = os.environ.get("BENTOML_CLOUD_CONTEXT") or None
    requested = name if name is not None else env_context
    if "BENTO_CLOUD_API_KEY" in os.environ:
        ctx = Context(ENV_CONTEXT_NAME, os.environ.get("BENTO_CLOUD_API_ENDPOINT", DEFAULT_ENDPOINT),
                      Token(os.environ["BENTO_CLOUD_API_KEY"]))
        return ResolvedContext(ctx, ContextSource.ENV_API_KEY, path, requested)
    config = load_config(path)
    if name is not None:
        source = ContextSource.ARGUMENT
    elif env_context is not None:
        source = ContextSource.ENV_CONTEXT
    else:
        source = ContextSource.CURRENT
    chosen = requested if requested is not None else config.current_context_name
    found = config.find(chosen)
    if found is None:
        raise _not_found(chosen, config)
    return ResolvedContext(found, source, path, requested)


def _not_found(name: str, config: Config) -> ContextNotFoundError:
    known = ", ".join(repr(n) for n in config.names) or "none"
    return ContextNotFoundError(
        f"No context named {name!r} in {config.path} (known: {known}). "
        "Log in with `%bentocloud login` or pick one with `%bentocloud use NAME`.", name=name)


# ------------------------------------------------------------------------------------------ writing


def save_context(context: Context, path: Path | None = None) -> Config:
    """Add ``context``, or replace the context of the same name in place (keeping its position).

    Unknown keys of a replaced context are kept unless ``context`` brings its own.

    Raises:
        InvalidInputError: reserved or empty name, empty endpoint.
        ConfigError: the existing file cannot be parsed (it is left untouched) or written.
    """
    _check_name(context.name)
    if not context.endpoint:
        raise InvalidInputError("The endpoint is empty; give the BentoCloud URL, e.g. " + DEFAULT_ENDPOINT)

    def change(config: Config) -> Config:
        contexts = list(config.contexts)
        for index, existing in enumerate(contexts):
            if existing.name == context.name:
                contexts[index] = context if context.extra else replace(context, extra=existing.extra)
                break
        else:
            contexts.append(context)
        return replace(config, contexts=tuple(contexts))

    return update_config(change, path)


def remove_context(name: str, path: Path | None = None) -> Config:
    """Remove the context called ``name`` (every entry of that name).

    If it was the current context, the first remaining context becomes current (or ``default`` when
    none is left), so the file never points at a context that does not exist.

    Raises:
        ContextNotFoundError: no such context.
    """

    def change(config: Config) -> Config:
        if config.find(name) is None:
            raise _not_found(name, config)
        contexts = tuple(ctx for ctx in config.contexts if ctx.name != name)
        current = config.current_context_name
        if current == name:
            current = contexts[0].name if contexts else DEFAULT_CONTEXT_NAME
        return replace(config, contexts=contexts, current_context_name=current)

    return update_config(change, path)


def rename_context(old: str, new: str, path: Path | None = None) -> Config:
    """Rename a context, following it with ``current_context_name`` if it was current.

    Raises:
        ContextNotFoundError: ``old`` does not exist.
        InvalidInputError: ``new`` is reserved, empty or already taken.
    """
    _check_name(new)

    def change(config: Config) -> Config:
        if config.find(old) is None:
            raise _not_found(old, config)
        if old != new and config.find(new) is not None:
            raise InvalidInputError(f"A context named {new!r} already exists; remove it first or pick "
                                    "another name.")
        contexts = tuple(replace(ctx, name=new) if ctx.name == old else ctx for ctx in config.contexts)
        current = new if config.current_context_name == old else config.current_context_name
        return replace(config, contexts=contexts, current_context_name=current)

    return update_config(change, path)


def set_current_context(name: str, path: Path | None = None) -> Config:
    """Make ``name`` the current context (the ``bentoml`` CLI follows it too).

    Unlike ``bentoml``, this looks only at the file: ``__env__`` and unknown names are refused, so
    ``BENTO_CLOUD_API_KEY`` can never be persisted as the current context.

    Raises:
        ContextNotFoundError: no such context.
        InvalidInputError: ``name`` is ``__env__``.
    """
    _check_name(name)

    def change(config: Config) -> Config:
        if config.find(name) is None:
            raise _not_found(name, config)
        return replace(config, current_context_name=name)

    return update_config(change, path)


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError("A context name must be a non-empty string.")
    if name == ENV_CONTEXT_NAME:
        raise InvalidInputError(f"{ENV_CONTEXT_NAME!r} is reserved for credentials taken from "
                                "BENTO_CLOUD_API_KEY; choose another context name.")


def update_config(change: Callable[[Config], Config], path: Path | None = None) -> Config:
    """Apply ``change`` to the freshly re-read file under the lock and write the result atomically.

    ``change`` receives the file as it is *now* (not as some earlier read saw it), so concurrent
    writers compose instead of overwriting each other.

    Raises:
        ConfigError: the current file cannot be parsed (nothing is written) or the write failed.
    """
    path = path or credentials_path()
    target = path.resolve() if path.is_symlink() else path
    ensure_folder(target.parent)
    with locked(target):
        new = change(load_config(target))
        atomic_write(target, new.to_yaml())
    return replace(new, path=path)
