"""Logs over real websockets from the sandbox: the image build's log while it builds (ending at EOF), follow
mode, a failed build's error, a refused token, and reading inside a running loop."""

from __future__ import annotations

import asyncio
import time

import pytest
from support import run_loop, until, wait_status

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.errors import AuthenticationError, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.core.logs import protocol as logs
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture()
def running(logged_in: Sandbox) -> str:
    """A running summarizer shared by the tests of this module (created by the first that needs it)."""
    if "lg-run" not in logged_in.state.deployments:
        api.deploy("summarizer:v3", name="lg-run")
    wait_status("lg-run", {"running"})
    return "lg-run"


def test_build_log_arrives_while_image_building_and_ends_at_eof(logged_in: Sandbox) -> None:
    api.deploy("summarizer:v3", name="lg-build")
    wait_status("lg-build", {"image-building"})
    arrivals: list[tuple[float, int]] = []

    async def main() -> logfollow.LogFollower:
        follower = logfollow.LogFollower("lg-build", build_only=True, flush_interval=0.02).start()
        follower.listeners.append(lambda f: arrivals.append((time.time(), f.buffer.total)))
        await follower.task  # type: ignore[misc]
        return follower

    follower = run_loop(main)
    history = dict(logged_in.history("lg-build"))
    built = min(at for status, at in logged_in.history("lg-build") if at > history["image-building"])
    first_line = min(at for at, total in arrivals if total > 0)
    assert history["image-building"] <= first_line < built  # streamed during the build, not after it
    assert sum(1 for at, total in arrivals if total and at < built) >= 2  # more than one batch while building
    assert follower.note == "ended" and follower.error == ""  # EOF
    lines = list(follower.buffer.lines)
    assert lines[0].startswith("Building image for bento summarizer:v3") and "digest: sha256:" in lines[-1]
    assert follower.buffer.total == len(lines) > 20 and follower.sources[0].container == "builder"


def test_follow_streams_new_lines_until_stopped(logged_in: Sandbox, running: str) -> None:

    async def main() -> logfollow.LogFollower:
        follower = api.logs(running, follow=True)
        assert isinstance(follower, logfollow.LogFollower) and logfollow.following() == [running]
        await until(lambda: "Starting production HTTP BentoServer" in follower.buffer.text())
        await invoke.acall(running, "summarize", {"text": "Streams are live. Really."})
        await until(lambda: "path=/summarize" in follower.buffer.text())  # a line written after we connected
        assert logfollow.stop_following(running) == [running]
        await follower.task  # type: ignore[misc]
        return follower

    follower = run_loop(main)
    assert follower.note == "stopped" and follower.error == "" and logfollow.following() == []
    assert "(main)" in repr(follower) and "path=/summarize" in repr(follower)


def test_logs_of_a_failed_build_contain_the_error(logged_in: Sandbox) -> None:
    api.deploy("fail-demo:v1", name="lg-fail")
    wait_status("lg-fail", {"image-build-failed"})
    view = api.logs("lg-fail", tail=5)
    assert isinstance(view, logfollow.LogsView)
    assert [s.title.endswith("(builder)") for s in view.sections] == [True]
    assert view.sections[0].lines[-1] == "Image build of fail-demo:v1 failed"
    assert len(view.sections[0].lines) == 5 and "ERROR: No matching distribution found" in repr(view)
    assert "status image-build-failed" in view._repr_html_()


def test_a_refused_token_is_one_clear_error(logged_in: Sandbox, running: str) -> None:
    client, _ = session.client_for()
    place = logs.PodPlace.of(client.get_deployment(running))
    wrong = logs.WsEndpoint(logs.ws_base(logged_in.url), Token("not-the-sandbox-token-42"))
    with pytest.raises(AuthenticationError) as caught:
        logs.deployment_pods_sync(wrong, place)
    message = str(caught.value)
    assert "invalid API token" in message and "%bentocloud login" in message and "\n" not in message
    assert "not-the-sandbox-token-42" not in message and logged_in.token not in message

    async def tail() -> None:
        async for _ in logs.tail_logs(wrong, place, "any-pod"):
            pass

    with pytest.raises(AuthenticationError):
        run_loop(tail)
    logged_in.faults.expire_tokens = True
    right = logs.WsEndpoint(logs.ws_base(logged_in.url), Token(logged_in.token))
    with pytest.raises(AuthenticationError, match="expired"):
        logs.read_logs(right, place, "any-pod")


def test_reading_works_inside_a_running_loop(logged_in: Sandbox, running: str) -> None:
    async def main() -> object:
        return api.logs(running, tail=2)  # blocking websockets.sync inside the kernel's loop

    view = run_loop(main)
    assert isinstance(view, logfollow.LogsView) and len(view.sections[0].lines) == 2


def test_nothing_to_read_yet_unknown_names_and_bad_arguments(logged_in: Sandbox) -> None:
    frozen = time.time()
    logged_in.state.clock = lambda: frozen  # stays "deploying" before the build: no pod at all
    try:
        api.deploy("iris_classifier:v1", name="lg-queued")  # a bento no other test here has built
        view = api.logs("lg-queued")
    finally:
        logged_in.state.clock = time.time
    assert isinstance(view, logfollow.LogsView) and view.sections == ()
    assert "no pods to read logs from yet" in repr(view)
    with pytest.raises(NotFoundError, match="'lg-ghost'"):
        api.logs("lg-ghost")
    with pytest.raises(InvalidInputError, match="running event loop"):
        api.logs("lg-queued", follow=True)
    with pytest.raises(InvalidInputError, match="at least 1"):
        api.logs("lg-queued", tail=0)


def test_a_follower_stopped_before_it_ran_still_ends_cleanly(logged_in: Sandbox, running: str) -> None:
    ends: list[str] = []

    async def main() -> logfollow.LogFollower:
        follower = api.logs(running, follow=True)
        assert isinstance(follower, logfollow.LogFollower)
        follower.listeners.append(lambda f: ends.append(f.note))
        follower.stop()  # before its task ever ran
        await asyncio.sleep(0.05)
        return follower

    follower = run_loop(main)
    assert follower.done and ends == ["stopped"] and logfollow.following() == []
