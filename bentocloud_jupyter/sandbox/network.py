"""A simple network model for the storage routes: per-connection bandwidth and a round trip per response.

Real uploads cross links where one TCP connection carries tens of MB/s and each answer costs a round
trip, so how many connections work at once decides the speed. ``storage_bandwidth`` paces the request
body as it is read and the response body as it is sent (bytes per second, per request, which is per
connection as HTTP/1.1 requests on one connection never overlap); uvicorn's flow control then slows
the sender through TCP itself. ``storage_rtt`` waits before each response starts.
"""

from __future__ import annotations

import asyncio
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

STORAGE_SUFFIXES = ("/upload", "/download")
clock = time.monotonic  # module attributes, so a test can run the model on a fake clock
pause = asyncio.sleep


def is_storage_path(path: str) -> bool:
    """Presigned and multipart storage URLs, and the proxy upload/download routes."""
    return path.startswith("/_storage/") or (path.startswith("/api/") and path.endswith(STORAGE_SUFFIXES))


class Pacer:
    """Lets ``rate`` bytes per second through (0 = unlimited), measured from the first byte."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.started: float | None = None
        self.passed = 0

    async def pace(self, nbytes: int) -> None:
        if self.rate <= 0 or nbytes <= 0:
            return
        now = clock()
        if self.started is None:
            self.started = now
        self.passed += nbytes
        due = self.started + self.passed / self.rate
        if due > now:
            await pause(due - now)


async def shaped(app: ASGIApp, scope: Scope, receive: Receive, send: Send, bandwidth: float, rtt: float) -> None:
    """Run ``app`` with its request body paced in, its response paced out and ``rtt`` before the answer."""
    inbound, outbound = Pacer(bandwidth), Pacer(bandwidth)

    async def paced_receive() -> Message:
        message = await receive()
        if message.get("type") == "http.request":
            await inbound.pace(len(message.get("body", b"")))
        return message

    async def paced_send(message: Message) -> None:
        if message.get("type") == "http.response.start" and rtt > 0:
            await pause(rtt)
        await send(message)
        if message.get("type") == "http.response.body":
            await outbound.pace(len(message.get("body", b"")))

    await app(scope, paced_receive, paced_send)
