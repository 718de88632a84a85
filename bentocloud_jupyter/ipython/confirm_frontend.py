"""Typing a name back in a protected context: a text field where widgets render, else ``--confirm NAME``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded

__all__ = ["ask_typed_name"]


def ask_typed_name(needed: ConfirmationNeeded, retry: Callable[[str], Any]) -> Any:
    """A widget asking for the name; ``retry(typed)`` runs the verb again with ``confirm=typed``.

    A wrong name given on the line (``--confirm``) is refused as it is: the field is for a name not yet typed,
    not a second chance to guess (nothing was sent either way).
    """
    if needed.wrong:
        raise needed
    from bentocloud_jupyter.widgets.confirm import TypedNameConfirm

    return TypedNameConfirm(needed, retry)
