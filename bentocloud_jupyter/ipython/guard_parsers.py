"""Subcommands of the guard room, merged into :data:`~.parsers.SUBCOMMANDS`."""

from __future__ import annotations

from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["GUARD_SUBCOMMANDS"]

GUARD_SUBCOMMANDS: dict[str, Subcommand] = {}
