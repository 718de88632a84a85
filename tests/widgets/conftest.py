"""Fixtures for the widget tests: one sandbox for the package, a saved context pointing at it, fast polling."""

from __future__ import annotations

import pytest
from support import make_sandbox_fixture, use_context

from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="package")


@pytest.fixture()
def logged_in(live: Sandbox) -> Sandbox:
    """A context ``sandbox`` (current) saved in this test's credentials file."""
    return use_context(live, "sandbox", "you@sandbox.local")


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hubs created during the test poll every 20 ms (the sandbox at speed 50 settles in ~70 ms)."""
    monkeypatch.setattr(session.settings, "poll_interval", 0.02)
