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

__all__ = ["DEFAULT_CONTEXT_NAME", "DEFAULT_ENDPOINT", "ENV_CONTEXT_NAME", "FILE_NAME", "Config", "Context",
           "context_not_found"]

DEFAULT_ENDPOINT = "https://cloud.bentoml.com"
DEFAULT_CONTEXT_NAME = "default"
ENV_CONTEXT_NAME = "__env__"
FILE_NAME = ".yatai.yaml"


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


def context_not_found(name: str, config: Config) -> ContextNotFoundError:
    """The error for a name the file does not have; it lists the known ones and hints at logging in."""
    known = ", ".join(repr(n) for n in config.names) or "none"
    return ContextNotFoundError(f"No context named {name!r} in {config.path} (known: {known}).", name=name,
                                hint=Hint("login", why="to save one, or switch to one of the known contexts"))
