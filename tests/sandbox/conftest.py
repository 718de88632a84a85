"""Fixtures for the sandbox tests: a fresh sandbox per test on 127.0.0.1, plain httpx clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sandbox_helpers import FakeClock

from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture(autouse=True)
def _isolated_bentoml_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let anything touch the real ~/bentoml, even though the sandbox does not read it."""
    monkeypatch.setenv("BENTOML_HOME", str(tmp_path / "bentoml"))
    monkeypatch.setenv("BENTOML_DO_NOT_TRACK", "True")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(host="127.0.0.1", port=0, speed=50) as sb:
        yield sb


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, headers={"X-YATAI-API-TOKEN": sandbox.token}, timeout=10) as c:
        yield c


@pytest.fixture
def clock(sandbox: Sandbox) -> FakeClock:
    fake = FakeClock()
    sandbox.state.clock = fake
    return fake
