"""Subcommands of the protect room, merged into :data:`~.parsers.SUBCOMMANDS`.

``%bentocloud protect CONTEXT`` / ``%bentocloud unprotect CONTEXT``: in a protected context, deleting,
terminating, updating, applying, tearing down and deleting secrets need ``--confirm NAME``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from bentocloud_jupyter.ipython.parser_kit import MagicArgumentParser, Subcommand, simple_parser

__all__ = ["PROTECT_SUBCOMMANDS", "context_name_arg"]


def context_name_arg(value: str) -> str:
    """A context name: not empty (an empty word would otherwise stand for the notebook's default context)."""
    if not value.strip():
        raise argparse.ArgumentTypeError("name the context (see %bentocloud contexts)")
    return value


def _context(helps: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("context", type=context_name_arg, metavar="CONTEXT", help=helps)
    return add


def _parser(prog: str, description: str, helps: str) -> MagicArgumentParser:
    return simple_parser(prog, description, _context(helps))


PROTECT_SUBCOMMANDS: dict[str, Subcommand] = {
    "protect": Subcommand(
        _parser("%bentocloud protect", "Protect a context: delete, terminate, update, apply, teardown and secret "
                "deletion in it need the target's name typed back (--confirm NAME).", "a saved context"),
        "ask for names to be typed back in a context", "api.protect"),
    "unprotect": Subcommand(
        _parser("%bentocloud unprotect", "Remove a context's protection.", "a protected context"),
        "remove a context's protection", "api.unprotect"),
}
