"""Verbs that protect a context: changes in it ask for the target's name to be typed back.

The flag lives in a file of our own (:mod:`~.credentials.protected`), not in ``.yatai.yaml``, so that
``bentoml cloud login`` (which rewrites that file) cannot erase it.
"""

from __future__ import annotations

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.model import ENV_CONTEXT_NAME
from bentocloud_jupyter.core.credentials.protected import protected_contexts, protected_path, set_protected
from bentocloud_jupyter.core.errors import ContextNotFoundError, InvalidInputError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.messages import Message

__all__ = ["protect", "unprotect"]

GUARDED = "delete, terminate, update, apply, teardown and secret deletion"


def _checked_name(context: str) -> str:
    if not isinstance(context, str) or not context.strip():
        raise InvalidInputError("Name the context to protect (see %bentocloud contexts). Nothing was written.",
                                hint=Hint("contexts", why="to list them"))
    if context == ENV_CONTEXT_NAME:
        raise InvalidInputError(f"{ENV_CONTEXT_NAME!r} is BENTO_CLOUD_API_KEY, not a saved context: protect the "
                                "context it stands for instead. Nothing was written.")
    return context


def protect(context: str) -> Message:
    """Protect a saved context: from now on its changes need the target's name typed back.

    Raises:
        ContextNotFoundError: no saved context of that name (nothing is written).
        ConfigError: the credentials or protected-contexts file is unreadable (nothing is written).
    """
    name = _checked_name(context)
    cfg = config.load_config()
    if cfg.find(name) is None:
        known = ", ".join(repr(n) for n in cfg.names) or "none"
        raise ContextNotFoundError(f"No context named {name!r} to protect (known: {known}). Nothing was written.",
                                   name=name, hint=Hint("contexts", why="to list them"))
    if name in protected_contexts():
        return Message(f"Context {name!r} is already protected.")
    set_protected(name, True)
    return Message(f"Context {name!r} is protected: {GUARDED} in it now ask for the name to be typed back "
                   f"(--confirm NAME). Kept in {protected_path()}.")


def unprotect(context: str) -> Message:
    """Remove the protection of a context (a name no longer saved may be unprotected too)."""
    name = _checked_name(context)
    if name not in protected_contexts():
        return Message(f"Context {name!r} was not protected; nothing changed.")
    set_protected(name, False)
    return Message(f"Context {name!r} is no longer protected: changes in it run without typing names back.",
                   level="warning")
