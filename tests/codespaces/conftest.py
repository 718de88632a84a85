"""Codespace tests: fast waits (the sandbox reloads in milliseconds at its test speed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bentocloud_jupyter.core.codespaces import create, engine, handle


@pytest.fixture(autouse=True)
def fast_codespaces(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Short probe and pod intervals, and no codespace left attached after a test."""
    monkeypatch.setattr(engine, "SETTLE", 0.05)
    monkeypatch.setattr(engine, "PROBE_EVERY", 0.02)
    monkeypatch.setattr(create, "POD_INTERVAL", 0.05)
    yield
    handle.detach_all()
