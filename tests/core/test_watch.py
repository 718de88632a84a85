"""The watcher: pure decisions, the blocking wait, and the async hub against a live sandbox."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import body

from bentocloud_jupyter.core.deployments.watch import Goal, Outcome, WatchHub, WatchState, wait_for
from bentocloud_jupyter.core.errors import DeploymentFailed, ServerError, WatchTimeout
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.models import Deployment, Page
from bentocloud_jupyter.sandbox import Sandbox


def dep(status: str, revision: str = "r1", name: str = "d") -> Deployment:
    return Deployment(name=name, status=status, cluster="c", revision=revision, urls=("https://d.example",))


def test_ready_after_the_usual_sequence() -> None:
    state = WatchState("d")
    for status in ("deploying", "image-building", "image-build-succeeded", "deploying"):
        state.observe(dep(status))
        assert not state.done
    state.observe(dep("running"))
    assert state.outcome is Outcome.READY and "https://d.example" in state.message
    assert [t.status for t in state.transitions] == ["deploying", "image-building", "image-build-succeeded",
                                                     "deploying", "running"]


def test_unknown_statuses_keep_waiting() -> None:
    state = WatchState("d")
    state.observe(dep("something-new"))
    state.observe(dep("non-deployed"))
    assert not state.done
    state.observe(dep("scaled-to-zero"))
    assert state.outcome is Outcome.READY


@pytest.mark.parametrize("status", ["failed", "image-build-failed", "unhealthy"])
def test_failures_end_the_watch(status: str) -> None:
    state = WatchState("d")
    state.observe(dep(status))
    assert state.outcome is Outcome.FAILED
    with pytest.raises(DeploymentFailed):
        state.raise_for_outcome()


def test_update_never_reports_ready_on_the_old_revision() -> None:
    state = WatchState("d", previous_revision="r1")
    state.observe(dep("running", "r1"))   # the old revision still serving
    state.observe(dep("unhealthy", "r1"))  # nor fails because of it
    assert not state.done
    state.observe(dep("deploying", "r2"))
    state.observe(dep("running", "r2"))
    assert state.outcome is Outcome.READY and state.deployment and state.deployment.revision == "r2"


def test_terminate_goal() -> None:
    state = WatchState("d", goal=Goal.TERMINATED)
    state.observe(dep("running"))
    state.observe(dep("terminating"))
    assert not state.done
    state.observe(dep("terminated"))
    assert state.outcome is Outcome.TERMINATED and state.raise_for_outcome().status == "terminated"


def test_timeout() -> None:
    state = WatchState("d", timeout=0.0)
    state.observe(dep("deploying"))
    assert state.expire() and state.outcome is Outcome.TIMEOUT
    with pytest.raises(WatchTimeout) as info:
        state.raise_for_outcome()
    assert "deploying" in str(info.value) and isinstance(info.value, TimeoutError)


# --------------------------------------------------------------------------------------- blocking wait


def test_wait_for_ready_and_failure(client: BentoCloudClient) -> None:
    client.create_deployment(body(name="wait-ok"))
    deployment = wait_for(client, WatchState("wait-ok", timeout=20), interval=0.02)
    assert deployment.status == "running"
    client.create_deployment(body("fail-demo:v1", "wait-fail", service="FailDemo"))
    with pytest.raises(DeploymentFailed) as info:
        wait_for(client, WatchState("wait-fail", timeout=20), interval=0.02)
    assert "image-build-failed" in str(info.value)


def test_wait_for_times_out(client: BentoCloudClient) -> None:
    client.create_deployment(body(name="wait-slow"))
    with pytest.raises(WatchTimeout):
        wait_for(client, WatchState("wait-slow", timeout=0.05), interval=0.01)


def test_wait_survives_transient_errors(client: BentoCloudClient, live: Sandbox) -> None:
    client.create_deployment(body(name="wait-flaky"))
    live.faults.error_rate = 0.3
    state = WatchState("wait-flaky", timeout=20)
    assert wait_for(client, state, interval=0.02, sleep=lambda s: asyncio.run(asyncio.sleep(min(s, 0.05)))
                    ).status == "running"


# ------------------------------------------------------------------------------------------- async hub


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_hub_watches_ten_with_one_request_per_tick(live: Sandbox) -> None:
    async def scenario() -> tuple[list[WatchState], WatchHub]:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            for i in range(10):
                await client.create_deployment(body(name=f"hub-{i}"))
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            futures = [hub.watch(WatchState(f"hub-{i}", timeout=20)) for i in range(10)]
            states = await asyncio.gather(*futures)
            await hub.close()
            return states, hub
    states, hub = run(scenario())
    assert all(s.outcome is Outcome.READY for s in states)
    assert hub.requests == hub.ticks  # one list request per tick for all ten


def test_hub_single_watch_uses_get_and_follows_update() -> None:
    async def scenario(sandbox: Sandbox) -> WatchState:
        async with AsyncBentoCloudClient(sandbox.url, sandbox.token) as client:
            await client.create_deployment(body(name="hub-upd"))
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            first = await hub.watch(WatchState("hub-upd", timeout=20))
            assert first.outcome is Outcome.READY and first.deployment is not None
            updated = await client.update_deployment("hub-upd", body(scaling_max=4))
            sandbox.reset_stats()
            state = await hub.watch(WatchState("hub-upd", previous_revision=first.deployment.revision, timeout=20))
            await hub.close()
            assert updated.revision == state.deployment.revision  # type: ignore[union-attr]
            return state
    with Sandbox(speed=5) as slow:  # phases of 0.1-0.4 s: every one is seen even on a loaded machine
        state = run(scenario(slow))
        routes = set(slow.stats()["by_route"])
    assert state.outcome is Outcome.READY and state.deployment and state.deployment.scaling_max == 4
    assert state.transitions[0].status != "running"  # the old revision's "running" never counted
    assert routes == {"GET /api/v2/deployments/{name}"}


def test_hub_reports_transient_errors_and_goes_on(live: Sandbox) -> None:
    warnings: list[str] = []

    async def scenario() -> WatchState:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            await client.create_deployment(body(name="hub-flaky"))
            from bentocloud_jupyter.core.rest.http import RetryPolicy
            client.retry = RetryPolicy(max_attempts=1)
            live.faults.fail_next = 3
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            state = await hub.watch(WatchState("hub-flaky", timeout=30),
                                    on_change=lambda s: s.warning and warnings.append(s.warning))
            await hub.close()
            return state
    state = run(scenario())
    assert state.outcome is Outcome.READY
    assert warnings and "still watching" in warnings[0] and live.token not in warnings[0]


def test_hub_cancel_and_close_leave_no_task(live: Sandbox) -> None:
    async def scenario() -> tuple[Outcome | None, int]:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            await client.create_deployment(body(name="hub-cancel"))
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            future = hub.watch(WatchState("hub-cancel", timeout=20))
            await asyncio.sleep(0.01)
            assert hub.unwatch("hub-cancel") and not hub.unwatch("hub-cancel")
            state = await future
            hub.watch(WatchState("hub-cancel", timeout=20))
            await hub.close()
            await asyncio.sleep(0)
            others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            return state.outcome, len(others)
    outcome, leftover = run(scenario())
    assert outcome is Outcome.CANCELLED and leftover == 0


class SlowFakeClient:
    """Counts overlapping requests; every request takes longer than the poll interval."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.calls = 0

    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        await asyncio.sleep(0.03)
        self.in_flight -= 1
        self.calls += 1
        return dep("running" if self.calls > 3 else "deploying", name=name)

    async def list_deployments_page(self, **kwargs: Any) -> Page[Deployment]:
        raise AssertionError("a single watch must use GET")


def test_polls_never_overlap_even_when_the_backend_is_slow() -> None:
    async def scenario() -> SlowFakeClient:
        fake = SlowFakeClient()
        hub = WatchHub(fake, interval=0.001, fast_interval=0.001)
        await hub.watch(WatchState("slow", timeout=5))
        await hub.close()
        return fake
    fake = run(scenario())
    assert fake.max_in_flight == 1 and fake.calls == 4


class RateLimitedFake(SlowFakeClient):
    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        self.calls += 1
        if self.calls == 1:
            from bentocloud_jupyter.core.errors import RateLimitError
            raise RateLimitError("slow down", retry_after=0.2, status=429)
        if self.calls == 2:
            raise ServerError("boom", status=503)
        return dep("running", name=name)


def test_hub_backs_off_and_honours_retry_after() -> None:
    pauses: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        pauses.append(seconds)

    async def scenario() -> WatchState:
        hub = WatchHub(RateLimitedFake(), interval=0.05, fast_interval=0.01, sleep=fake_sleep)
        state = await hub.watch(WatchState("rl", timeout=5))
        await hub.close()
        return state
    state = run(scenario())
    assert state.outcome is Outcome.READY
    assert pauses[0] == pytest.approx(0.2) and pauses[1] == pytest.approx(0.4)


def test_two_watches_of_one_deployment_share_the_poll_and_do_not_cancel_each_other(live: Sandbox) -> None:
    async def scenario() -> tuple[WatchState, WatchState, WatchHub]:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            await client.create_deployment(body(name="hub-twice"))
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            first = hub.watch(WatchState("hub-twice", timeout=20))
            second = hub.watch(WatchState("hub-twice", timeout=20))
            assert hub.watching == ["hub-twice"]
            states = await asyncio.gather(first, second)
            await hub.close()
            return states[0], states[1], hub
    first, second, hub = run(scenario())
    assert first.outcome is Outcome.READY and second.outcome is Outcome.READY
    assert hub.requests == hub.ticks  # one GET per tick for both


def test_unwatch_one_state_leaves_the_other(live: Sandbox) -> None:
    async def scenario() -> tuple[Outcome | None, Outcome | None]:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            await client.create_deployment(body(name="hub-one-of-two"))
            hub = WatchHub(client, interval=0.05, fast_interval=0.02)
            mine, other = WatchState("hub-one-of-two", timeout=20), WatchState("hub-one-of-two", timeout=20)
            futures = hub.watch(mine), hub.watch(other)
            hub.unwatch("hub-one-of-two", mine)
            results = await asyncio.gather(*futures)
            await hub.close()
            return results[0].outcome, results[1].outcome
    assert run(scenario()) == (Outcome.CANCELLED, Outcome.READY)
