"""In a protected context a change must have its target's name typed back; a wrong name sends nothing.

The verbs that change or remove something (delete, terminate, update, apply, teardown, secret deletion)
call :func:`require_typed_name` after resolving the context and before sending anything. The error it
raises says what to type; a front end with widgets turns it into a text field and calls the verb again.
"""

from __future__ import annotations

from bentocloud_jupyter.core.credentials.protected import is_protected
from bentocloud_jupyter.core.credentials.resolve import ContextSource, ResolvedContext
from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["ConfirmationNeeded", "context_is_protected", "require_typed_name"]


class ConfirmationNeeded(InvalidInputError):
    """A change in a protected context, not confirmed by typing the target's name back."""

    def __init__(self, message: str, *, kind: str, name: str, context: str, wrong: bool) -> None:
        super().__init__(message)
        self.kind, self.name, self.context, self.wrong = kind, name, context, wrong


def context_is_protected(resolved: ResolvedContext) -> bool:
    """The resolved context is protected (credentials from ``BENTO_CLOUD_API_KEY`` count as the context
    they were resolved as: the name in the file)."""
    return (resolved.source is not ContextSource.ENV_API_KEY and is_protected(resolved.context.name)) or (
        resolved.source is ContextSource.ENV_API_KEY and bool(resolved.requested)
        and is_protected(str(resolved.requested)))


def require_typed_name(resolved: ResolvedContext, kind: str, name: str, confirm: str | None) -> None:
    """Nothing to do outside a protected context; inside one, ``confirm`` must equal ``name``.

    A ``confirm`` that is given but wrong is refused in any context: the user meant some other target.

    Raises:
        ConfirmationNeeded: ``confirm`` is wrong, or missing in a protected context (what was typed is never
            echoed: it may be a token typed in the wrong place).
        ConfigError: the protected-contexts file is unreadable (nothing is sent until it is fixed).
    """
    if confirm == name or (confirm is None and not context_is_protected(resolved)):
        return
    context = resolved.context.name
    if confirm is None:
        message = (f"Context {context!r} is protected: to change {kind} {name!r}, type its name back with "
                   f"--confirm {name} (confirm={name!r} in Python). Nothing was sent.")
    else:
        message = (f"The name typed back is not {name!r}: nothing was sent. Type the {kind}'s name exactly, "
                   f"with --confirm {name} (confirm={name!r} in Python).")
    raise ConfirmationNeeded(message, kind=kind, name=name, context=context, wrong=confirm is not None)
