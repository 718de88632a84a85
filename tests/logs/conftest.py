"""A sandbox slow enough (speed 2: the image build lasts 1 s) to watch a build log stream, logged in as ``sbx``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import make_sandbox_fixture

from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="module", speed=2.0)


@pytest.fixture()
def logged_in(sbx_context: Sandbox) -> Iterator[Sandbox]:
    yield sbx_context
    assert logfollow.stop_following(all=True) == []  # every test stops what it follows
