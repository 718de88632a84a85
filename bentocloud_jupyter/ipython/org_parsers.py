"""Parsers of the organisation-level subcommands (secrets, API tokens), merged into ``parsers.SUBCOMMANDS``."""

from __future__ import annotations

from bentocloud_jupyter.ipython.parsers import Subcommand

__all__ = ["ORG_SUBCOMMANDS"]

ORG_SUBCOMMANDS: dict[str, Subcommand] = {}
