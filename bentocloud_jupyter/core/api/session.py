"""Verbs over this kernel's ledger: what it started (session) and stopping it all (teardown)."""

from __future__ import annotations

from typing import Any

__all__ = ["session", "teardown"]



def session(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("session is being built")


def teardown(*args: Any, **kwargs: Any) -> Any:
    """Being built in this wave."""
    raise NotImplementedError("teardown is being built")
