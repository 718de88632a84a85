"""Run coroutines as a kernel would (a fresh loop, shared clients closed after), and wait for statuses."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bentocloud_jupyter.core.rest import session

T = TypeVar("T")


def arun(main: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    async def wrapper() -> T:
        try:
            return await asyncio.wait_for(main(), timeout)
        finally:
            session.close_all()
            await asyncio.sleep(0.05)  # let the scheduled aclose() of the async clients run

    return asyncio.run(wrapper())


async def until(predicate: Callable[[], bool], timeout: float = 10.0, step: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(step)


def wait_status(name: str, statuses: set[str], timeout: float = 15.0) -> None:
    client, _ = session.client_for()
    deadline = time.monotonic() + timeout
    while (status := client.get_deployment(name).status) not in statuses:
        assert time.monotonic() < deadline, f"{name} stuck in {status}"
        time.sleep(0.02)
