"""The notebook's part of ``%bentocloud secret`` and ``%bentocloud api-token``: hidden prompts and the reveal.

Each action runs its one core verb (:data:`~.org_parsers.ACTIONS`); only what needs a person is here:
a key given without a value is asked for with a hidden prompt (``getpass``: a password box in Jupyter,
hidden input in a terminal), a value typed on the line works but warns that the notebook now holds it,
and a new token that goes to no context or file is shown once in :class:`~..widgets.reveal.TokenReveal`
(refused in one line, before anything is sent, where widgets do not render).
"""

from __future__ import annotations

import getpass
import importlib
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from IPython.core.error import StdinNotImplementedError

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.ipython.org_parsers import ACTIONS

__all__ = ["VALUE_ON_LINE_NOTICE", "api_token", "ask_values", "secret"]

VALUE_ON_LINE_NOTICE = (
    "A secret value you typed on the line is now stored in this notebook and in the IPython history. "
    "Next time give the key alone (KEY) to be asked for it, or KEY=@FILE.")
NOWHERE_TO_KEEP = ("The new token would be shown nowhere here (no widgets): add --save-as CONTEXT or "
                   "--output-file PATH. Nothing was sent.")


def _verb(family: str, action: str) -> Any:
    room, _, name = ACTIONS[family][action].verb.partition(".")
    assert room == "api"
    return getattr(importlib.import_module("bentocloud_jupyter.core.api"), name)


def _ask(key: str) -> Token:
    try:
        value = getpass.getpass(f"Value of {key} (hidden): ")
    except (StdinNotImplementedError, EOFError, OSError):
        raise InvalidInputError(f"Key {key!r} has no value and there is no way to ask for it here (no stdin): pass "
                                f"{key}=@FILE (a file holding the value) or --from-file DOTENV. Nothing was sent.") \
            from None
    token = Token(value)
    if not token:
        raise InvalidInputError(f"No value entered for {key!r}; nothing was sent.")
    return token


def ask_values(key_vals: Sequence[str] | None) -> list[str | tuple[str, str | Token]]:
    """``KEY`` items asked for with a hidden prompt; ``KEY=VALUE`` kept, with one warning for the lot."""
    items: list[str | tuple[str, str | Token]] = []
    typed = False
    for item in key_vals or ():
        key, sep, value = item.partition("=")
        if not sep:
            items.append((key, _ask(key)))
            continue
        typed = typed or not value.startswith("@")
        items.append(item)
    if typed:
        warnings.warn(VALUE_ON_LINE_NOTICE, stacklevel=1)
    return items


def secret(action: str, options: Mapping[str, Any] | None = None, context: str | None = None, *,
           widgets: bool, confirm: str | None = None) -> Any:
    """``%bentocloud secret ACTION ...``: the action's core verb, values asked for first.

    ``confirm`` (``delete --confirm NAME``, or what was typed in the field) is the name typed back in a
    protected context.
    """
    kwargs = {**(options or {}), "context": context}
    if confirm is not None:
        kwargs["confirm"] = confirm
    if action in ("create", "apply"):
        kwargs["key_vals"] = ask_values(kwargs.get("key_vals"))
    return _verb("secret", action)(**kwargs)


def api_token(action: str, options: Mapping[str, Any] | None = None, context: str | None = None, *,
              widgets: bool) -> Any:
    """``%bentocloud api-token ACTION ...``: a new token that goes nowhere is revealed once in a widget."""
    kwargs = {**(options or {}), "context": context}
    keeps = action != "create" or kwargs.get("save_as") or kwargs.get("output_file")
    if not keeps and not widgets:
        raise InvalidInputError(NOWHERE_TO_KEEP)
    result = _verb("api-token", action)(**kwargs)
    token = getattr(result, "token", None)
    if action == "create" and isinstance(token, Token):
        from bentocloud_jupyter.widgets.reveal import TokenReveal

        return TokenReveal(result)
    return result
