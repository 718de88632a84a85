"""A fast sandbox (speed 50) logged in as ``sbx``, and a recorder of every request sent to a deployment URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture()
def logged_in(sbx_context: Sandbox) -> Sandbox:
    return sbx_context


@pytest.fixture()
def sent(monkeypatch: pytest.MonkeyPatch) -> list[httpx.Request]:
    """Every request (sync or async) to a deployed service (``/_svc/``), as it left the client."""
    record: list[httpx.Request] = []
    sync_send, async_send = httpx.Client.send, httpx.AsyncClient.send

    def send(self: httpx.Client, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if "/_svc/" in request.url.path:
            record.append(request)
        return sync_send(self, request, **kwargs)

    async def asend(self: httpx.AsyncClient, request: httpx.Request, **kwargs: Any) -> httpx.Response:
        if "/_svc/" in request.url.path:
            record.append(request)
        return await async_send(self, request, **kwargs)

    monkeypatch.setattr(httpx.Client, "send", send)
    monkeypatch.setattr(httpx.AsyncClient, "send", asend)
    return record
