"""Which credentials to use: ``bentoml``'s order of precedence between the environment and the file.

``BENTO_CLOUD_API_KEY`` (context ``__env__``, endpoint from ``BENTO_CLOUD_API_ENDPOINT``) beats
everything; then the name asked for; then ``BENTOML_CLOUD_CONTEXT``; then the file's current context.
The answer says where it came from, so a front end can say loudly when the environment overrode a choice.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from bentocloud_jupyter.core.credentials.model import (
    DEFAULT_ENDPOINT,
    ENV_CONTEXT_NAME,
    Context,
    context_not_found,
)
from bentocloud_jupyter.core.credentials.reading import credentials_path, load_config
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ContextSource", "ResolvedContext", "get_context", "list_contexts", "resolve_context"]


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
        raise context_not_found(name, config)
    return ctx


def resolve_context(name: str | None = None, path: Path | None = None) -> ResolvedContext:
    """The credentials to use, in ``bentoml``'s order of precedence (see the module docstring).

    An empty ``BENTOML_CLOUD_CONTEXT`` counts as unset (``bentoml`` would look for a context named "").

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
        raise context_not_found(chosen, config)
    return ResolvedContext(found, source, path, requested)
