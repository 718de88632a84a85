"""Fixtures for the sandbox tests: a fresh sandbox per test on 127.0.0.1, plain httpx clients."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from support import FakeClock, make_sandbox_fixture, raw_client

from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="function", host="127.0.0.1", port=0)


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with raw_client(sandbox) as c:
        yield c


@pytest.fixture
def clock(sandbox: Sandbox) -> FakeClock:
    fake = FakeClock()
    sandbox.state.clock = fake
    return fake
