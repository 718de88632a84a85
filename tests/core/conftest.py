"""A client of the shared sandbox (see tests/conftest.py) with fast retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.sandbox import Sandbox

FAST_RETRY = RetryPolicy(max_attempts=4, backoff=0.01, max_backoff=0.05, max_total=5.0)


@pytest.fixture()
def client(live: Sandbox) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY, timeout=10) as c:
        yield c
