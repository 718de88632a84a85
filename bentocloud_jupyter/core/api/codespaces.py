"""Verbs over codespaces: a dev deployment that BentoCloud reloads when the project's files change."""

from __future__ import annotations

from typing import Any

__all__ = ["code", "codespaces"]



def code(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("code is being built")


def codespaces(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("codespaces is being built")
