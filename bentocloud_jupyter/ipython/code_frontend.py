"""The ``%%bentocloud write FILE`` cell: write the body into the attached codespace's project and sync it."""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["write_cell"]


def write_cell(words: list[str], cell: str) -> Any:
    """Write ``cell`` to the file named in ``words`` (and sync it to the attached codespace)."""
    raise InvalidInputError("%%bentocloud write is being built")
