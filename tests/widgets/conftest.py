"""Fixtures for the widget tests: one sandbox for the package, a saved context pointing at it, fast polling."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture(scope="package")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=50) as sb:
        yield sb


@pytest.fixture()
def logged_in(live: Sandbox) -> Sandbox:
    """A context ``sandbox`` (current) saved in this test's credentials file."""
    config.save_context(Context("sandbox", live.url, live.token, "you@sandbox.local"))
    config.set_current_context("sandbox")
    return live


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hubs created during the test poll every 20 ms (the sandbox at speed 50 settles in ~70 ms)."""
    monkeypatch.setattr(session.settings, "poll_interval", 0.02)
