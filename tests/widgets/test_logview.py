"""LogView (bounded, escaped, collapsible), the live display of `logs --follow`, and the DeploymentStatus
card streaming its image build's log (on a slow sandbox, so the phase is observable) then offering a call form."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import deploy, make_sandbox_fixture, run_loop, until, use_context, wait_status
from widget_helpers import assert_secret_absent, plain

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.deployments.watch import Outcome
from bentocloud_jupyter.core.errors import ConnectError
from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.core.logs import protocol as logs
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.models import READY_STATUSES
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets import DeploymentStatus
from bentocloud_jupyter.widgets.logview import LogView, present


def _follower(lines: int) -> logfollow.LogFollower:
    follower = logfollow.LogFollower("x", register=False)
    for i in range(lines):
        follower.buffer.append(f"line {i} <script>alert({i})</script>")
    return follower


def test_view_is_bounded_escaped_and_collapsible() -> None:
    view = LogView("Build log")
    view.follower = _follower(2000)
    changes: list[str] = []
    view.html.observe(lambda change: changes.append(change["new"]), names="value")
    view.refresh()
    assert view.toggle.description == "Build log (2000 lines)" and view.html.layout.display == "none"
    assert changes == []  # collapsed: only the count is sent, never the text
    view.toggle.value = True
    html = view.html.value
    assert view.html.layout.display is None and len(changes) == 1
    assert "line 1999 &lt;script&gt;" in html and "<script>" not in html and "line 1499 " not in html
    assert html.count("line ") == logs.MAX_LINES and "1500 earlier lines not kept" in html
    assert repr(view) == "LogView('Build log', lines=2000)"


def test_follow_html_without_widgets_updates_one_display(monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    shown: list[Any] = []
    updates: list[Any] = []

    class Handle:
        def update(self, obj: Any) -> None:
            updates.append(obj)

    def fake_display(obj: Any, display_id: bool = False) -> Handle:
        assert display_id
        shown.append(obj)
        return Handle()

    monkeypatch.setattr(IPython.display, "display", fake_display)
    follower = _follower(1)
    assert present(follower, use_widgets=False) is None
    follower.buffer.append("fresh line")
    follower._flush()
    assert len(shown) == 1 and isinstance(shown[0], logfollow.LogsView)
    assert "fresh line" in repr(updates[-1]) and "&lt;script&gt;" in updates[-1]._repr_html_()


own_sandbox = make_sandbox_fixture(scope="module")  # its deployments must not show up in the other panels' tests


def test_live_view_of_a_running_deployment_stops_with_its_button(own_sandbox: Sandbox) -> None:
    logged_in = use_context(own_sandbox, "fast")
    deploy("summarizer:v3", "lv-run")
    wait_status("lv-run", READY_STATUSES)

    async def main() -> LogView:
        view = present(api.logs("lv-run", follow=True))  # type: ignore[arg-type]
        assert isinstance(view, LogView) and view.toggle.value
        await until(lambda: "Starting production HTTP BentoServer" in view.html.value)
        view.stop_button.click()
        await asyncio.wait_for(view.follower.task, 5)  # type: ignore[union-attr,arg-type]
        return view

    view = run_loop(main)
    assert view.stop_button.disabled and "stopped" in plain(view.html.value) and logfollow.following() == []
    assert view.toggle.description.startswith("Logs of lv-run (") and "lv-run" in view._bundle()["text/plain"]
    assert_secret_absent(view, logged_in.token)


# ------------------------------------------------------------------------------ status card, slow sandbox


slow_sandbox = make_sandbox_fixture(scope="module", speed=2)  # queued 0.25 s, image build 1 s, rollout 0.5 s


@pytest.fixture()
def slow(slow_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield use_context(slow_sandbox, "slow")
    session.close_all()


def _watch_with_log(name: str) -> tuple[DeploymentStatus, list[tuple[str, str]]]:
    seen: list[tuple[str, str]] = []  # (deployment status, log button) at each change of the button

    async def main() -> DeploymentStatus:
        status = DeploymentStatus(name)
        status.log_view.toggle.observe(lambda c: seen.append((status.state.status, c["new"])), names="description")
        await asyncio.wait_for(status.done, 15)
        await until(lambda: status.build_log is not None and status.build_log.done, timeout=8)
        if status.state.outcome is Outcome.READY:
            await until(lambda: bool(status.call_form.api.options))
        return status

    return run_loop(main), seen


def test_status_streams_the_build_log_then_offers_a_call_form(slow: Sandbox) -> None:
    deploy("summarizer:v3", "lv-build")
    status, seen = _watch_with_log("lv-build")
    assert status.state.outcome is Outcome.READY
    assert any(state == "image-building" and not text.endswith("(0 lines)") for state, text in seen)
    follower = status.build_log
    assert follower is not None and follower.note == "ended" and follower.error == ""
    assert status.log_view.layout.display is None and not status.log_view.toggle.value  # shown, collapsed
    status.log_view.toggle.value = True
    assert "Successfully built" in status.log_view.html.value and "digest: sha256" in status.log_view.html.value
    assert status.call_form.layout.display is None and status.call_form.api.options == ("summarize",)

    async def send() -> Any:
        status.call_form.inputs["text"].value = "Built and served. Done."
        return await status.call_form.send()

    result = run_loop(send)
    assert result.body == {"summary": "Built and served."} and "Built and served." in status.call_form.output.value
    assert_secret_absent(status, slow.token)


def test_failed_build_keeps_the_error_lines_and_offers_no_form(slow: Sandbox) -> None:
    deploy("fail-demo:v1", "lv-fail")
    status, _ = _watch_with_log("lv-fail")
    assert status.state.outcome is Outcome.FAILED and status.build_log is not None
    assert list(status.build_log.buffer.lines)[-1] == "Image build of fail-demo:v1 failed"  # after the status moved
    assert status.call_form.layout.display == "none"


def test_a_failing_log_stream_never_stops_the_watch(slow: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    async def refuse(*args: Any) -> None:
        raise ConnectError("Cannot connect to ws://127.0.0.1 for the image builder (refused); check the URL.")

    monkeypatch.setattr(logfollow, "image_builder_pod", refuse)
    deploy("summarizer:v3", "lv-broken")
    status, _ = _watch_with_log("lv-broken")
    assert status.state.outcome is Outcome.READY and status.build_log is not None
    assert status.build_log.note == "failed" and "Cannot connect" in status.build_log.error
    status.log_view.toggle.value = True
    assert "Cannot connect" in plain(status.log_view.html.value)
    assert "running" in plain(status.html.value)


def test_stopping_the_card_stops_its_build_log(slow: Sandbox) -> None:
    deploy("summarizer:v3", "lv-stop")

    async def main() -> DeploymentStatus:
        status = DeploymentStatus("lv-stop")
        await until(lambda: status.build_log is not None and status.build_log.buffer.total > 0)
        status.stop_button.click()
        await asyncio.wait_for(status.build_log.task, 5)  # type: ignore[union-attr,arg-type]
        return status

    started = time.monotonic()
    status = run_loop(main)
    assert status.state.outcome is Outcome.CANCELLED and status.build_log is not None
    assert status.build_log.note == "stopped" and time.monotonic() - started < 2.5
