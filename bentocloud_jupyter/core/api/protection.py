"""Verbs that protect a context: changes in it ask for the target's name to be typed back."""

from __future__ import annotations

from typing import Any

__all__ = ["protect", "unprotect"]



def protect(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("protect is being built")


def unprotect(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("unprotect is being built")
