"""In a protected context a change must have its target's name typed back; a wrong name sends nothing.

The verbs that change or remove something (delete, terminate, update, apply, teardown, secret deletion)
call :func:`require_typed_name` after resolving the context and before sending anything. The error it
raises says what to type; a front end with widgets turns it into a text field and calls the verb again.

Protection is by context name. ``BENTO_CLOUD_API_KEY`` has no name, so it counts as protected when a
protected context is asked for (argument or ``BENTOML_CLOUD_CONTEXT``), or when it holds the token of a saved
protected context: setting the variable to production's key must not be a way around the guard.
"""

from __future__ import annotations

import shlex

from bentocloud_jupyter.core.credentials.model import Context
from bentocloud_jupyter.core.credentials.protected import protected_contexts
from bentocloud_jupyter.core.credentials.reading import load_config
from bentocloud_jupyter.core.credentials.resolve import ContextSource, ResolvedContext
from bentocloud_jupyter.core.errors import ConfigError, InvalidInputError
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ConfirmationNeeded", "context_is_protected", "protected_as", "require_typed_name"]


class ConfirmationNeeded(InvalidInputError):
    """A change in a protected context, not confirmed by typing the target's name back."""

    def __init__(self, message: str, *, kind: str, name: str, context: str, wrong: bool) -> None:
        super().__init__(message)
        self.kind, self.name, self.context, self.wrong = kind, name, context, wrong


def _saved(resolved: ResolvedContext) -> list[Context]:
    """The saved contexts; with the environment's key a broken file is not ours to report (bentoml ignores the
    file then), so nothing saved is compared."""
    try:
        return list(load_config(resolved.path).contexts)
    except ConfigError:
        return []


def protected_as(resolved: ResolvedContext) -> str | None:
    """The name of the protected context these credentials are, or None when they are not protected.

    With ``BENTO_CLOUD_API_KEY``: the context asked for when it is protected, else the saved protected context
    whose token the variable holds. Reads at most two small files; no request.

    Raises:
        ConfigError: the protected-contexts file is unreadable.
    """
    names = protected_contexts()
    if resolved.source is not ContextSource.ENV_API_KEY:
        return resolved.context.name if resolved.context.name in names else None
    if resolved.requested and resolved.requested in names:
        return resolved.requested
    token = Token(resolved.context.api_token.reveal().strip())  # spaces around a paste: the same key
    if not names or not token:
        return None
    return next((ctx.name for ctx in _saved(resolved)
                 if ctx.name in names and Token(ctx.api_token.reveal().strip()) == token), None)


def context_is_protected(resolved: ResolvedContext) -> bool:
    """The resolved context is protected, however it was reached (see :func:`protected_as`)."""
    return protected_as(resolved) is not None


def require_typed_name(resolved: ResolvedContext, kind: str, name: str, confirm: str | None) -> None:
    """Nothing to do outside a protected context; inside one, ``confirm`` must equal ``name``.

    A ``confirm`` that is given but wrong is refused in any context: the user meant some other target.

    Raises:
        ConfirmationNeeded: ``confirm`` is wrong, or missing in a protected context (what was typed is never
            echoed: it may be a token typed in the wrong place).
        ConfigError: the protected-contexts file is unreadable (nothing is sent until it is fixed).
    """
    protected = protected_as(resolved) if confirm is None else None
    if confirm == name or (confirm is None and protected is None):
        return
    context = protected or resolved.context.name
    if confirm is None:
        via = " (BENTO_CLOUD_API_KEY stands for it)" if resolved.source is ContextSource.ENV_API_KEY else ""
        message = (f"Context {context!r} is protected{via}: to change {kind} {name!r}, type its name back with "
                   f"--confirm {shlex.quote(name)} (confirm={name!r} in Python). Nothing was sent.")
    else:
        message = (f"The name typed back is not {name!r}: nothing was sent. Type the {kind}'s name exactly, "
                   f"with --confirm {shlex.quote(name)} (confirm={name!r} in Python).")
    raise ConfirmationNeeded(message, kind=kind, name=name, context=context, wrong=confirm is not None)
