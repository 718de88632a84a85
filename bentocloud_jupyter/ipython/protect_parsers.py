"""Subcommands of the protect room, merged into :data:`~.parsers.SUBCOMMANDS`."""

from __future__ import annotations

from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["PROTECT_SUBCOMMANDS"]

PROTECT_SUBCOMMANDS: dict[str, Subcommand] = {}
