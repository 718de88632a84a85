"""The sans-IO cores behind the sync/async twins: watch engine, browser-login approval, log-source lookup.

Each core is exercised without any I/O, then both drivers are run on the same scripted answers to show
they make the same requests and reach the same decisions.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.auth import Approval
from bentocloud_jupyter.core.deployments.watch import WatchHub, wait_for
from bentocloud_jupyter.core.deployments.watch_engine import (
    GetDeployment,
    ListPage,
    Pacer,
    Poll,
    Watched,
    WatchEngine,
)
from bentocloud_jupyter.core.deployments.watch_state import Goal, Outcome, WatchState
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    ContextNotFoundError,
    InvalidInputError,
    NotFoundError,
    RateLimitError,
    ServerError,
    WatchError,
    WatchTimeout,
)
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.logs.follow import SourceLookup
from bentocloud_jupyter.core.logs.protocol import BUILDER_LABEL, Pod
from bentocloud_jupyter.core.rest.models import Deployment, Page


def dep(status: str, name: str = "d", revision: str = "r1") -> Deployment:
    return Deployment(name=name, status=status, cluster="c", revision=revision)


def watched(*names: str, cluster: str | None = None) -> list[Watched]:
    return [Watched(WatchState(name), cluster) for name in names]


# ------------------------------------------------------------------------------------------- planning


def test_a_single_watch_is_one_get() -> None:
    poll = Poll(watched("a", cluster="c"), known_total=0)
    assert poll.next_request() == GetDeployment("a", "c")
    poll.receive(dep("deploying", "a"))
    assert poll.next_request() is None and poll.requests == 1 and set(poll.found) == {"a"}


def test_many_watches_are_one_list_request_then_more_pages_only_past_a_page() -> None:
    poll = Poll(watched("a", "b", cluster="c"), known_total=0)
    assert poll.next_request() == ListPage("c", 0)
    poll.receive(Page([dep("running", f"x{i}") for i in range(100)], 0, 100, 150))
    assert poll.next_request() == ListPage("c", 100)
    poll.receive(Page([dep("running", "a"), dep("deploying", "b")] + [dep("running", f"y{i}") for i in range(48)],
                      100, 100, 150))
    assert poll.next_request() is None and poll.requests == 2 and poll.known_total == 150


def test_gets_when_they_are_cheaper_than_the_pages() -> None:
    poll = Poll(watched("a", "b"), known_total=450)  # five pages of list, two GETs
    assert poll.next_request() == GetDeployment("a", None)
    poll.receive(dep("running", "a"))
    assert poll.next_request() == GetDeployment("b", None)


def test_watches_in_several_clusters_list_all_clusters() -> None:
    poll = Poll([Watched(WatchState("a"), "c1"), Watched(WatchState("b"), "c2")], known_total=0)
    request = poll.next_request()
    assert request == ListPage(None, 0)


def test_two_watches_of_one_name_share_one_request() -> None:
    poll = Poll([Watched(WatchState("a")), Watched(WatchState("a"))], known_total=0)
    assert poll.next_request() == GetDeployment("a", None)


def test_a_404_on_a_get_means_deleted_and_other_errors_end_the_tick() -> None:
    poll = Poll(watched("a", "b"), known_total=1000)
    poll.next_request()
    poll.fail(NotFoundError("gone", status=404))
    assert poll.next_request() == GetDeployment("b", None)
    poll.fail(ServerError("boom", status=503))
    assert poll.next_request() is None and isinstance(poll.error, ServerError)


# -------------------------------------------------------------------------------------------- folding


def run_poll(engine: WatchEngine, watches: list[Watched], answer: Any) -> list[WatchState]:
    poll = engine.begin(watches)
    while poll.next_request() is not None:
        if isinstance(answer, Exception):
            poll.fail(answer)
        else:
            poll.receive(answer)
    return engine.conclude(poll)


def test_fold_observes_and_marks_the_vanished_deleted() -> None:
    engine = WatchEngine(fast=0.1, slow=1.0)
    watches = watched("a", "b")
    told = run_poll(engine, watches, Page([dep("running", "a")], 0, 100, 1))
    assert [s.name for s in told] == ["a", "b"]
    assert watches[0].state.outcome is Outcome.READY and watches[1].state.outcome is Outcome.DELETED
    assert engine.ticks == 1 and engine.requests == 1 and engine.delay == pytest.approx(0.1)


def test_an_ended_watch_is_left_alone() -> None:
    engine = WatchEngine()
    watches = watched("a")
    watches[0].state.finish(Outcome.CANCELLED, "stopped")
    assert run_poll(engine, watches, dep("running", "a")) == []
    assert watches[0].state.deployment is None


def test_pacing_fast_after_a_change_then_easing_to_slow() -> None:
    engine = WatchEngine(fast=1.0, slow=5.0)
    watches = watched("a")
    delays = []
    for _ in range(6):
        run_poll(engine, watches, dep("deploying", "a"))
        delays.append(engine.delay)
    assert delays == [1.0, 1.5, 2.25, 3.375, 5.0, 5.0]


def test_backoff_doubles_honours_retry_after_and_is_capped() -> None:
    pacer = Pacer(0.01, 0.05)
    pacer.failed(RateLimitError("slow down", retry_after=0.2, status=429))
    assert pacer.delay == pytest.approx(0.2)
    pacer.failed(ServerError("boom", status=503))
    assert pacer.delay == pytest.approx(0.4)
    for _ in range(10):
        pacer.failed(ServerError("boom", status=503))
    assert pacer.delay == 30.0
    pacer.answered(changed=True)
    assert pacer.delay == 0.01


def test_transient_errors_are_warnings_and_final_ones_end_every_watch() -> None:
    engine = WatchEngine()
    watches = watched("a", "b")
    told = run_poll(engine, watches, ServerError("boom", status=503))
    assert len(told) == 2 and all("still watching" in w.state.warning and not w.state.done for w in watches)
    assert run_poll(engine, watches, AuthenticationError("bad token", status=401)) == []
    assert all(w.state.outcome is Outcome.ERROR and "bad token" in w.state.message for w in watches)


def test_timeout_carries_a_structured_hint_and_names_no_front_end() -> None:
    state = WatchState("d", timeout=0.0)
    assert state.settle() and state.outcome is Outcome.TIMEOUT
    assert state.hint == Hint("status", {"name": "d", "wait": True}, why="to check again")
    assert "%" not in state.message
    with pytest.raises(WatchTimeout) as info:
        state.raise_for_outcome()
    assert info.value.hint == state.hint and "bentocloud_jupyter.status(name='d', wait=True)" in str(info.value)


def test_started_at_is_gone() -> None:
    assert not hasattr(WatchState("d"), "started_at")


def test_a_vanished_deployment_ends_a_terminate_with_its_last_snapshot_and_anything_else_with_an_error() -> None:
    terminate = WatchState("d", goal=Goal.TERMINATED)
    terminate.observe(dep("terminating"))
    terminate.vanish()
    assert terminate.raise_for_outcome().status == "terminating"
    for state in (WatchState("d"), WatchState("d", goal=Goal.SETTLED), WatchState("d", goal=Goal.TERMINATED)):
        state.vanish()
        with pytest.raises(WatchError, match="no longer exists"):
            state.raise_for_outcome()


# ---------------------------------------------------------------------------- both drivers, one script


class Script:
    """Answers every request from a list (a value or an error to raise); records what was asked."""

    def __init__(self, answers: list[Any]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, Any]] = []

    def answer(self, kind: str, detail: Any) -> Any:
        self.asked.append((kind, detail))
        item = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(item, Exception):
            raise item
        return item


class SyncScript(Script):
    def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        return self.answer("get", (name, cluster))  # type: ignore[no-any-return]


class AsyncScript(Script):
    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        return self.answer("get", (name, cluster))  # type: ignore[no-any-return]


ANSWERS: list[Callable[[], Any]] = [
    lambda: dep("deploying"),
    lambda: ServerError("boom", status=503),
    lambda: RateLimitError("slow down", retry_after=0.3, status=429),
    lambda: dep("image-building"),
    lambda: dep("running"),
]


def test_blocking_and_async_drivers_make_the_same_requests_and_pauses() -> None:
    sync_client, pauses_sync = SyncScript([make() for make in ANSWERS]), []
    sync_state = WatchState("d", timeout=10)
    wait_for(sync_client, sync_state, "c", interval=0.01, sleep=pauses_sync.append)

    async_client, pauses_async = AsyncScript([make() for make in ANSWERS]), []

    async def fake_sleep(seconds: float) -> None:
        pauses_async.append(seconds)

    async def scenario() -> WatchState:
        hub = WatchHub(async_client, interval=0.01, fast_interval=0.01, sleep=fake_sleep)
        state = await hub.watch(WatchState("d", timeout=10), "c")
        await hub.close()
        return state

    async_state = asyncio.run(scenario())
    assert sync_client.asked == async_client.asked == [("get", ("d", "c"))] * 5
    assert pauses_sync == pytest.approx(pauses_async) and pauses_sync == pytest.approx([0.01, 0.02, 0.3, 0.01])
    assert [t.status for t in sync_state.transitions] == [t.status for t in async_state.transitions]
    assert sync_state.outcome is async_state.outcome is Outcome.READY


def test_both_drivers_end_on_a_final_error() -> None:
    refused = AuthenticationError("The API token was rejected", status=401)
    with pytest.raises(WatchError, match="rejected"):
        wait_for(SyncScript([refused]), WatchState("d"), sleep=lambda _: None)

    async def scenario() -> WatchState:
        hub = WatchHub(AsyncScript([refused]))
        state = await hub.watch(WatchState("d"))
        await hub.close()
        return state

    assert asyncio.run(scenario()).outcome is Outcome.ERROR


def test_hub_intervals_stay_settable() -> None:
    hub = WatchHub(AsyncScript([dep("running")]), interval=5.0, fast_interval=1.0)
    hub.interval = 2.0
    assert (hub.interval, hub.fast_interval, hub.engine.pacer.slow) == (2.0, 1.0, 2.0)


# ------------------------------------------------------------------------------------ browser approval


def test_approval_reads_answers() -> None:
    approval = Approval(timeout=60, interval=0.5)
    assert approval.receive(None) is None and approval.receive("") is None
    assert approval.receive(APIError("pending", status=400)) is None
    token = approval.receive("new-token-value")
    assert token is not None and token.reveal() == "new-token-value"
    for refused in (AuthenticationError("no", status=401), RateLimitError("slow", status=429),
                    ServerError("down", status=502), APIError("?")):
        with pytest.raises(APIError):
            approval.receive(refused)


def test_approval_cancel_and_deadline() -> None:
    with pytest.raises(InvalidInputError, match="cancelled"):
        Approval(timeout=60, interval=0.5, cancelled=lambda: True).receive(None)
    expired = Approval(timeout=0.0, interval=0.5)
    with pytest.raises(WatchTimeout, match="not approved"):
        expired.receive(None)


# --------------------------------------------------------------------------------------- log sources


def pod(name: str, builder: bool = False) -> Pod:
    return Pod(name, labels={BUILDER_LABEL: "true"} if builder else {})


def test_sources_of_a_running_deployment_need_no_builder_lookup() -> None:
    lookup = SourceLookup(dep("running"))
    assert lookup.next_lookup() == "pods"
    lookup.receive_pods([pod("replica-1")])
    assert lookup.next_lookup() is None
    assert [s.label for s in lookup.sources] == ["replica-1 (main)"]


def test_sources_while_building_ask_for_the_builder_once() -> None:
    lookup = SourceLookup(dep("image-building"))
    lookup.receive_pods([])
    assert lookup.next_lookup() == "builder"
    lookup.receive_builder(pod("builder-1", builder=True))
    assert lookup.next_lookup() is None
    assert [s.label for s in lookup.sources] == ["builder-1 (builder)"]


# ------------------------------------------------------------------------------------------- hints


def test_unknown_context_hints_at_logging_in_without_naming_a_front_end() -> None:
    config.save_context(config.Context("a", "https://a.example", "token-a-123456"))
    with pytest.raises(ContextNotFoundError) as info:
        config.resolve_context("nope")
    assert info.value.hint == Hint("login", why="to save one, or switch to one of the known contexts")
    assert "%bentocloud" not in info.value.message and "'a'" in info.value.message
    assert "bentocloud_jupyter.login()" in info.value.words("python")


def test_config_reexports_the_split_modules() -> None:
    from bentocloud_jupyter.core.credentials import model, reading, resolve

    assert config.resolve_context is resolve.resolve_context and config.Context is model.Context
    assert config.load_config is reading.load_config and config.ResolvedContext is resolve.ResolvedContext
