"""How the magics word a core hint: ``Hint("status", {"name": "x", "wait": True})`` -> ``%bentocloud status x --wait``.

The spelling comes from the parsers themselves (positional order, option strings), so a renamed flag can
never leave a stale sentence behind.
"""

from __future__ import annotations

import argparse
import shlex
from typing import Any

from bentocloud_jupyter.core.hints import Hint, register_wording
from bentocloud_jupyter.ipython.parsers import DEPLOY, SUBCOMMANDS, Subcommand

__all__ = ["magic_words"]

_SETTINGS = {"timeout", "poll_interval", "context", "widgets", "watch_timeout"}


def _entry(verb: str) -> tuple[str, Subcommand] | None:
    if verb == "deploy":
        return "%deploy", DEPLOY
    for name, entry in SUBCOMMANDS.items():
        if entry.verb.partition(".")[2] == verb:
            return f"%bentocloud {name}", entry
    return None


def _spell(action: argparse.Action, value: Any) -> list[str]:
    if not action.option_strings:
        return [shlex.quote(str(value))]
    flag = max((s for s in action.option_strings if not s.startswith("--no-")), key=len)
    if isinstance(value, bool) or value is None:
        return [flag] if value else []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [part for item in values for part in (flag, shlex.quote(str(item)))]


def magic_words(hint: Hint) -> str | None:
    """The magic line that does what ``hint`` asks (``%config`` for settings); None when no magic does it."""
    if hint.verb == "configure":
        return "; ".join(f"%config BentoCloudMagics.{key} = {value!r}" for key, value in hint.args.items()
                         if key in _SETTINGS) or "%config BentoCloudMagics"
    found = _entry(hint.verb)
    if found is None:
        return None
    prog, entry = found
    actions = {action.dest: action for action in entry.parser._actions}
    parts = [prog]
    positional = [a for a in entry.parser._actions if not a.option_strings and a.dest in hint.args]
    for action in positional + [actions[k] for k in hint.args if k in actions and actions[k].option_strings]:
        parts += _spell(action, hint.args[action.dest])
    return " ".join(parts)


register_wording("magic", magic_words)
