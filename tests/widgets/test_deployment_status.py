"""DeploymentStatus: live watches through the shared hub, updates, stop, the display bundle and escaping."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from support import deploy, run_loop, until, wait_status
from widget_helpers import plain

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.deployments.watch import Goal, Outcome, WatchHub, WatchState
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.models import READY_STATUSES, Deployment
from bentocloud_jupyter.core.results import StatusView
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets import DeploymentStatus
from bentocloud_jupyter.widgets.status import render_state

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _watch(name: str, **options: Any) -> DeploymentStatus:
    async def main() -> DeploymentStatus:
        status = DeploymentStatus(name, **options)
        await asyncio.wait_for(status.done, 10)
        return status

    return run_loop(main)


def test_reaches_running_with_a_link(logged_in: Sandbox) -> None:
    deploy("summarizer:v3", "ws-run")
    status = _watch("ws-run")
    assert status.state.outcome is Outcome.READY
    html = status.html.value
    assert "running" in html and f'href="{logged_in.url}/_svc/ws-run"' in html
    assert "summarizer:v3" in html and status.stop_button.description == "Stop watching"
    assert status.stop_button.disabled
    assert [t.status for t in status.state.transitions][-1] == "running"
    assert repr(status) == "DeploymentStatus('ws-run', status='running', done=True)"


def test_failed_build_shows_the_failure(logged_in: Sandbox) -> None:
    deploy("fail-demo:v1", "ws-fail")
    status = _watch("ws-fail")
    assert status.state.outcome is Outcome.FAILED
    text = plain(status.html.value)
    assert "image-build-failed" in text and "Deployment 'ws-fail' is image-build-failed." in text
    assert "#cf222e" in status.html.value and "href" not in status.html.value


def test_update_is_followed_to_the_new_revision(logged_in: Sandbox) -> None:
    deploy("summarizer:v3", "ws-upd")
    old = wait_status("ws-upd", READY_STATUSES)
    frozen = time.time()
    logged_in.state.clock = lambda: frozen  # the sandbox's time stands still: the new revision stays deploying

    async def main() -> tuple[DeploymentStatus, str]:
        updated = api.update("ws-upd", scaling_max=3)
        status = DeploymentStatus("ws-upd", previous_revision=old.revision)
        await until(lambda: bool(status.state.transitions))
        assert not status.state.done and status.state.status not in READY_STATUSES
        assert "deploying" in status.html.value
        logged_in.state.clock = time.time  # let the rollout finish
        await asyncio.wait_for(status.done, 10)
        return status, updated.deployment.revision  # type: ignore[union-attr]

    try:
        status, new_revision = run_loop(main)
    finally:
        logged_in.state.clock = time.time
    assert new_revision != old.revision
    assert status.state.goal is Goal.READY and status.state.outcome is Outcome.READY
    assert status.state.deployment is not None and status.state.deployment.revision == new_revision
    assert any(t.status not in READY_STATUSES for t in status.state.transitions)
    assert new_revision in status.html.value and "running" in status.html.value


class _ScriptedClient:
    """An async client whose get_deployment replays snapshots: the old revision keeps running at first."""

    def __init__(self, snapshots: list[Deployment]) -> None:
        self.snapshots = snapshots

    async def get_deployment(self, name: str, cluster: str | None = None) -> Deployment:
        return self.snapshots.pop(0) if len(self.snapshots) > 1 else self.snapshots[0]


def test_never_ready_on_the_old_revision(logged_in: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    def snap(status: str, revision: str) -> Deployment:
        return Deployment("d", status, "c", bento="summarizer:v3", revision=revision, urls=("https://d.example",))

    script = [snap("running", "r1"), snap("running", "r1"), snap("deploying", "r2"), snap("running", "r2")]
    seen: list[str] = []

    async def main() -> DeploymentStatus:
        hub = WatchHub(_ScriptedClient(script), interval=0.01, fast_interval=0.01)
        monkeypatch.setattr(session, "hub_for", lambda resolved: hub)
        status = DeploymentStatus("d", previous_revision="r1")
        status.html.observe(lambda change: seen.append(plain(change["new"])), names="value")
        await asyncio.wait_for(status.done, 5)
        return status

    status = run_loop(main)
    assert status.state.outcome is Outcome.READY and status.state.deployment.revision == "r2"  # type: ignore[union-attr]
    assert [(t.status, t.revision) for t in status.state.transitions] == [
        ("running", "r1"), ("deploying", "r2"), ("running", "r2")]
    assert any("running" in text and "revision: r1" in text for text in seen)  # old revision shown serving...
    finished = [text for text in seen if "Deployment 'd' is running" in text]
    assert finished and all("revision: r2" in text for text in finished)  # ...but ready only on the new one


def test_stop_button_cancels(logged_in: Sandbox) -> None:
    async def main() -> DeploymentStatus:
        status = DeploymentStatus("ws-never-polled")
        status.stop_button.click()
        await asyncio.wait_for(status.done, 5)
        return status

    status = run_loop(main)
    assert status.state.outcome is Outcome.CANCELLED
    assert "Stopped watching" in plain(status.html.value) and status.stop_button.disabled


def test_missing_context_is_shown_not_raised(live: Sandbox) -> None:
    status = _watch("anything", context="nope")
    assert status.state.outcome is Outcome.ERROR
    assert "No context named 'nope'" in plain(status.html.value)


def test_bundle_has_widget_view_html_and_text(logged_in: Sandbox) -> None:
    status = DeploymentStatus("ws-bundle")  # no loop: nothing polled yet
    bundle = status._repr_mimebundle_()
    assert set(bundle) >= {WIDGET_VIEW, "text/html", "text/plain"}
    assert bundle[WIDGET_VIEW]["model_id"] == status.model_id
    assert bundle["text/html"] == StatusView(status.state)._repr_html_()
    assert bundle["text/plain"] == repr(StatusView(status.state)) and bundle["text/plain"].startswith("ws-bundle:")
    status.close()
    closed = status._bundle()
    assert WIDGET_VIEW not in closed and "text/html" in closed


class _Handle:
    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []

    def update(self, bundle: dict[str, Any], raw: bool = False) -> None:
        assert raw
        self.updates.append(bundle)


def test_saved_output_is_replaced_by_the_final_state(logged_in: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import IPython.display

    deploy("summarizer:v2", "ws-saved")
    shown: list[dict[str, Any]] = []
    handle = _Handle()

    def fake_display(bundle: dict[str, Any], raw: bool = False, display_id: bool = False) -> _Handle:
        assert raw and display_id
        shown.append(bundle)
        return handle

    monkeypatch.setattr(IPython.display, "display", fake_display)

    async def main() -> DeploymentStatus:
        status = DeploymentStatus("ws-saved")
        status._ipython_display_()
        await asyncio.wait_for(status.done, 10)
        return status

    status = run_loop(main)
    assert len(shown) == 1 and WIDGET_VIEW in shown[0]
    assert len(handle.updates) == 1
    final = handle.updates[0]
    assert WIDGET_VIEW in final and "ws-saved: running" in final["text/plain"]
    assert "Deployment &#x27;ws-saved&#x27; is running" in final["text/html"]
    assert status.state.outcome is Outcome.READY


def test_server_strings_are_escaped() -> None:
    state = WatchState("x")
    state.observe(Deployment("x", "running", "c<i>", bento="<script>alert(1)</script>", revision="<b>r</b>",
                             urls=("javascript:alert(1)",)))
    html, text = render_state(state)
    assert "<script>" not in html and "&lt;script&gt;" in html and "<b>r</b>" not in html and "<i>" not in html
    assert 'href="javascript' not in html
    assert "<script>alert(1)</script>" in text  # plain text is not HTML

    status = DeploymentStatus("x")
    status.state.observe(state.deployment)  # type: ignore[arg-type]
    status._on_change(status.state)
    assert "<script>" not in status.html.value and "&lt;script&gt;" in status.html.value
    assert "<script>" not in status._bundle()["text/html"]
