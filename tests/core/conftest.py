"""A live sandbox on 127.0.0.1 for the client's contract tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bentocloud_jupyter.core.client import BentoCloudClient
from bentocloud_jupyter.core.http import RetryPolicy
from bentocloud_jupyter.sandbox import Sandbox

FAST_RETRY = RetryPolicy(max_attempts=4, backoff=0.01, max_backoff=0.05, max_total=5.0)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=50) as sb:
        yield sb


@pytest.fixture()
def live(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The module's sandbox with faults cleared before and after the test."""
    sandbox.faults.__init__()  # type: ignore[misc]
    yield sandbox
    sandbox.faults.__init__()  # type: ignore[misc]


@pytest.fixture()
def client(live: Sandbox) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY, timeout=10) as c:
        yield c
