"""Helpers shared by the sandbox tests (a module, not conftest, so imports are unambiguous)."""

from __future__ import annotations

import time
from typing import Any

import httpx


class FakeClock:
    """A clock the test moves by hand, for exact lifecycle checks."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_status(client: httpx.Client, name: str, wanted: set[str], timeout: float = 5.0) -> dict[str, Any]:
    """Poll GET deployment until its status is in ``wanted``."""
    deadline = time.monotonic() + timeout
    while True:
        data = client.get(f"/api/v2/deployments/{name}", params={"cluster": ""}).json()
        if data["status"] in wanted or time.monotonic() > deadline:
            assert data["status"] in wanted, f"{name} stuck in {data['status']}"
            return data
        time.sleep(0.01)


def create(client: httpx.Client, **body: Any) -> httpx.Response:
    """POST a create body shaped like bentoml's (every key present, nulls included)."""
    full: dict[str, Any] = {"access_authorization": False, "envs": None, "labels": None, "secrets": None,
                            "services": {}, "canary": None, "bento": "summarizer:v1", "name": None, "dev": False}
    cluster = body.pop("cluster", "")
    full.update(body)
    return client.post("/api/v2/deployments", params={"cluster": cluster}, json=full)
