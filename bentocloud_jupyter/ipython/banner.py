"""The context banner: one short line above every output that changes something in BentoCloud."""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["announce"]


def announce(command: Subcommand, kwargs: dict[str, Any]) -> None:
    """Show where the change goes (context, organization, env override) before ``command`` runs."""
