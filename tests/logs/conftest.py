"""A sandbox slow enough (speed 2: the image build lasts 1 s) to watch a build log stream, logged in as ``sbx``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bentocloud_jupyter.core import auth, config, logfollow, session
from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=2) as sb:
        yield sb


@pytest.fixture()
def logged_in(sandbox: Sandbox) -> Iterator[Sandbox]:
    sandbox.faults.__init__()  # type: ignore[misc]
    auth.login(sandbox.url, sandbox.token, "sbx")
    config.set_current_context("sbx")
    yield sandbox
    sandbox.faults.__init__()  # type: ignore[misc]
    assert logfollow.stop_following(all=True) == []  # every test stops what it follows
    session.close_all()
