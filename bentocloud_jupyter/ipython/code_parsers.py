"""Subcommands of the code room, merged into :data:`~.parsers.SUBCOMMANDS`."""

from __future__ import annotations

from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["CODE_SUBCOMMANDS"]

CODE_SUBCOMMANDS: dict[str, Subcommand] = {}
