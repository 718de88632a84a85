"""A client of the shared sandbox (see tests/conftest.py) with fast retries."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support import FAST_RETRY

from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture()
def client(live: Sandbox) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY, timeout=10) as c:
        yield c
