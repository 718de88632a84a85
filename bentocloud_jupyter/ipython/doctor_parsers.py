"""Subcommands of the doctor room, merged into :data:`~.parsers.SUBCOMMANDS`."""

from __future__ import annotations

from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["DOCTOR_SUBCOMMANDS"]

DOCTOR_SUBCOMMANDS: dict[str, Subcommand] = {}
