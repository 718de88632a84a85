"""The watcher through an outage and a brief 401 (issue 16, finding 12): it never sleeps past the earliest
deadline, notices a recovery within a short back-off, and re-reads the credentials once before a 401 ends the
watches. Time is a :class:`~support.FakeClock` moved by the fake sleep: no wall-clock timing is asserted."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import FakeClock

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.deployments.watch import Outcome, WatchHub, WatchState, wait_for
from bentocloud_jupyter.core.deployments.watch_engine import RECOVERY_BACKOFF, Pacer
from bentocloud_jupyter.core.errors import ConnectError, ServerError, WatchError, WatchTimeout
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token

URL = "https://cloud.test"
OLD, NEW = "expired-token-aaaaaaaaaaaa", "refreshed-token-bbbbbbbbbbbb"


def dep(status: str, name: str = "d") -> Deployment:
    return Deployment(name=name, status=status, cluster="c", revision="r1")


class Outage:
    """A BentoCloud that refuses connections until ``up_at`` (on the fake clock), then says ``status``."""

    def __init__(self, clock: FakeClock, up_at: float, status: str = "deploying") -> None:
        self.clock, self.up_at, self.status = clock, up_at, status
        self.asked: list[float] = []

    def answer(self, name: str) -> Deployment:
        self.asked.append(self.clock())
        if self.clock() < self.up_at:
            raise ConnectError("Cannot connect to https://cloud.test (refused)", before_send=True)
        return dep(self.status, name)

    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        return self.answer(name)


class SyncOutage(Outage):
    def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:  # type: ignore[override]
        return self.answer(name)


def hub_run(fake: Any, clock: FakeClock, state: WatchState, slept: list[float]) -> WatchState:
    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    async def scenario() -> WatchState:
        hub = WatchHub(fake, sleep=fake_sleep)  # the real paces: 1 s fast, 5 s steady
        result = await asyncio.wait_for(hub.watch(state), 10)
        await hub.close()
        return result
    return asyncio.run(scenario())


def test_a_watch_in_an_outage_ends_at_its_timeout_not_a_back_off_later() -> None:
    clock, slept = FakeClock(), list[float]()
    fake = Outage(clock, up_at=clock() + 3600)
    state = hub_run(fake, clock, WatchState("d", timeout=3.0, started=clock(), clock=clock), slept)
    assert state.outcome is Outcome.TIMEOUT
    assert state.elapsed == pytest.approx(3.0)  # fake seconds: at its deadline, not ~27 s later
    assert sum(slept) == pytest.approx(3.0) and max(slept) <= 3.0


def test_after_an_outage_the_watch_notices_the_recovery_within_the_short_back_off() -> None:
    clock, slept = FakeClock(), list[float]()
    recovery = clock() + 120.0
    fake = Outage(clock, up_at=recovery, status="running")
    state = hub_run(fake, clock, WatchState("d", timeout=3600, started=clock(), clock=clock), slept)
    assert state.outcome is Outcome.READY
    assert fake.asked[-1] - recovery <= RECOVERY_BACKOFF  # noticed within the back-off cap, not ~20-30 s late
    assert max(slept) <= RECOVERY_BACKOFF


def test_the_blocking_wait_honours_the_deadline_too() -> None:
    clock, slept = FakeClock(), list[float]()

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)
    state = WatchState("d", timeout=3.0, started=clock(), clock=clock)
    with pytest.raises(WatchTimeout):
        wait_for(SyncOutage(clock, up_at=clock() + 3600), state, sleep=sleep)
    assert state.elapsed == pytest.approx(3.0) and sum(slept) == pytest.approx(3.0)


def test_the_back_off_doubles_only_up_to_the_recovery_cap_but_honours_retry_after() -> None:
    pacer = Pacer(1.0, 5.0, RECOVERY_BACKOFF)
    for _ in range(10):
        pacer.failed(ServerError("boom", status=503))
    assert pacer.delay == RECOVERY_BACKOFF
    slow_steady = Pacer(1.0, 20.0, RECOVERY_BACKOFF)  # a long steady interval is never shortened by errors
    for _ in range(10):
        slow_steady.failed(ServerError("boom", status=503))
    assert slow_steady.delay == 20.0


class Hung:
    """A request that never answers (a black-holed network with a long HTTP timeout)."""

    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def test_a_poll_in_flight_does_not_hold_a_watch_past_its_deadline() -> None:
    async def scenario() -> WatchState:
        hub = WatchHub(Hung())
        state = await asyncio.wait_for(hub.watch(WatchState("d", timeout=0.05)), 10)
        await hub.close()
        return state
    assert asyncio.run(scenario()).outcome is Outcome.TIMEOUT


# --------------------------------------------------------------------------------------- a brief 401


def body(status: str) -> dict[str, Any]:
    return {"name": "d", "status": status, "cluster": "c"}


def credentials(token: str) -> None:
    config.save_context(config.Context("prod", URL, Token(token)))
    config.set_current_context("prod")


def transport(answer: Callable[[str, int], httpx.Response], seen: list[str]) -> Callable[[httpx.Request], Any]:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["X-YATAI-API-TOKEN"])
        return answer(seen[-1], len(seen))
    return handler


def run_hub(handler: Callable[[httpx.Request], Any]) -> WatchState:
    async def scenario() -> WatchState:
        resolved = config.resolve_context("prod")
        async with AsyncBentoCloudClient.from_context(resolved, transport=httpx.MockTransport(handler)) as c:
            hub = WatchHub(c, interval=0.01, fast_interval=0.01)
            state = await asyncio.wait_for(hub.watch(WatchState("d", timeout=30)), 10)
            await hub.close()
            return state
    return asyncio.run(scenario())


def test_a_single_401_during_a_watch_is_retried_once() -> None:
    credentials(OLD)
    seen: list[str] = []

    def answer(token: str, n: int) -> httpx.Response:
        return httpx.Response(401, json={"message": "expired"}) if n == 1 else httpx.Response(
            200, json=body("deploying" if n < 3 else "running"))
    state = run_hub(transport(answer, seen))
    assert state.outcome is Outcome.READY and len(seen) == 3


def test_a_401_re_reads_the_credentials_refreshed_in_the_file() -> None:
    credentials(OLD)
    seen: list[str] = []

    def answer(token: str, n: int) -> httpx.Response:
        if token != NEW:
            credentials(NEW)  # as a `bentoml cloud login` in another process would, meanwhile
            return httpx.Response(401, json={"message": "token expired"})
        return httpx.Response(200, text=json.dumps(body("running")))
    state = run_hub(transport(answer, seen))
    assert state.outcome is Outcome.READY and seen == [OLD, NEW]


def test_a_401_that_stays_ends_the_watches_with_it() -> None:
    credentials(OLD)
    seen: list[str] = []
    state = run_hub(transport(lambda token, n: httpx.Response(401, json={"message": "revoked"}), seen))
    assert state.outcome is Outcome.ERROR and "rejected" in state.message and len(seen) == 2
    assert OLD not in state.message


def test_the_blocking_wait_retries_a_401_once_too() -> None:
    credentials(OLD)
    seen: list[str] = []

    def answer(token: str, n: int) -> httpx.Response:
        return httpx.Response(401) if n == 1 else httpx.Response(200, json=body("running"))
    with BentoCloudClient.for_context("prod", transport=httpx.MockTransport(transport(answer, seen))) as c:
        assert wait_for(c, WatchState("d", timeout=30), sleep=lambda _: None).status == "running"
    with BentoCloudClient.for_context("prod", transport=httpx.MockTransport(
            lambda r: httpx.Response(401))) as c, pytest.raises(WatchError, match="rejected"):
        wait_for(c, WatchState("d", timeout=30), sleep=lambda _: None)
