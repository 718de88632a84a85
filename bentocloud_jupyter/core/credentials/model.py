"""The credentials file's content as values: :class:`Context` and :class:`Config`, no I/O.

Kept apart from reading (:mod:`.reading`), choosing (:mod:`.resolve`) and writing (:mod:`.config`) so
each of those can import the model without importing the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.errors import ContextNotFoundError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.tokens import Token

__all__ = ["DEFAULT_CONTEXT_NAME", "DEFAULT_ENDPOINT", "ENV_CONTEXT_NAME", "FILE_NAME", "INSECURE_KEY", "Config",
           "Context", "context_not_found", "flag_is_true"]

DEFAULT_ENDPOINT = "https://cloud.bentoml.com"
DEFAULT_CONTEXT_NAME = "default"
ENV_CONTEXT_NAME = "__env__"
FILE_NAME = ".yatai.yaml"
INSECURE_KEY = "allow_insecure_http"
"""Context key (kept by our writes, ignored by ``bentoml``) recording that the user allowed plain http."""

_TRUE_WORDS = frozenset({"true", "yes", "1", "on"})


def flag_is_true(value: Any) -> bool:
    """Only a real true (YAML ``true``, the number 1, or the text true/yes/1/on) counts as true.

    Why: the file is edited by hand, and ``bool("false")`` is True; anything else, including text we
    do not recognise, counts as false, so a typo never turns a safety off.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value == 1
    return isinstance(value, str) and value.strip().lower() in _TRUE_WORDS


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
        flag = self.extra.get(INSECURE_KEY)
        if INSECURE_KEY in self.extra and not isinstance(flag, bool):
            # Stored as a real bool, so every reader of ``extra`` (and the file we write) agrees.
            object.__setattr__(self, "extra", {**self.extra, INSECURE_KEY: flag_is_true(flag)})

    @property
    def allows_insecure_http(self) -> bool:
        """True only when the user allowed plain http for this context (``login --insecure``)."""
        return flag_is_true(self.extra.get(INSECURE_KEY))

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


def context_not_found(name: str, config: Config) -> ContextNotFoundError:
    """The error for a name the file does not have; it lists the known ones and hints at logging in."""
    known = ", ".join(repr(n) for n in config.names) or "none"
    return ContextNotFoundError(f"No context named {name!r} in {config.path} (known: {known}).", name=name,
                                hint=Hint("login", why="to save one, or switch to one of the known contexts"))
