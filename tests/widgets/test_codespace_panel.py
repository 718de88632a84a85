"""The codespace panel, through its widget models: it follows the state's listeners, escapes what the server
says, links only http(s) endpoints, keeps the log bounded and collapsed, reloads the call form when the APIs
change, and asks for the typed name before terminating in a protected context."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from widget_helpers import assert_secret_absent, href, plain

from bentocloud_jupyter.core.codespaces.state import LOG_LINES, CodespaceState, Phase
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.widgets import CodespacePanel
from bentocloud_jupyter.widgets.codespace_view import CodespaceView


class FakeCodespace:
    """Stands in for core.codespaces.handle.Codespace: the state, detach and terminate (typed name when protected)."""

    def __init__(self, name: str = "cs-1", protected: bool = False, endpoint: str | None = None) -> None:
        self.state = CodespaceState(name=name, context="sbx", project=Path("/tmp/proj"), cluster="default",
                                    endpoint=endpoint)
        self.protected = protected
        self.calls: list[tuple[str, Any]] = []

    def detach(self) -> None:
        self.calls.append(("detach", None))
        self.state.phase = Phase.DETACHED
        self.state.changed()

    def terminate(self, confirm: str | None = None) -> None:
        self.calls.append(("terminate", confirm))
        if self.protected and confirm != self.state.name:
            raise ConfirmationNeeded(f"Context 'sbx' is protected: type {self.state.name} back. Nothing was sent.",
                                     kind="codespace", name=self.state.name, context="sbx", wrong=confirm is not None)
        self.state.phase = Phase.TERMINATED
        self.state.changed()


def update(handle: FakeCodespace, **fields: Any) -> None:
    for key, value in fields.items():
        setattr(handle.state, key, value)
    handle.state.changed()


def test_phases_counts_latency_and_pod_are_drawn_as_they_change() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    assert "creating" in panel.header.value and "codespace cs-1" in plain(panel.header.value)
    for phase in (Phase.SYNCING, Phase.RELOADING, Phase.READY, Phase.FAILED):
        update(handle, phase=phase)
        assert f">{phase.value}</span>" in panel.header.value
    update(handle, files_synced=3, last_sync_seconds=0.42, pod_status="Running", note="all <synced>")
    text = plain(panel.header.value)
    assert "filessynced3" in text.replace(" ", "") and "420 ms" in text and "Running" in text
    assert "all <synced>" in text and "<synced>" not in panel.header.value
    assert "cs-1: failed" in repr(panel) and "420 ms" in repr(CodespaceView(handle.state))


def test_endpoint_is_a_link_only_when_http_and_everything_is_escaped() -> None:
    handle = FakeCodespace(name="<b>x</b>", endpoint="https://cs.example/?a=<1>")
    panel = CodespacePanel(handle, call_form=False)
    assert href(panel.header.value) == "https://cs.example/?a=<1>" and "<b>x</b>" not in panel.header.value
    update(handle, endpoint="javascript:alert(1)")
    assert "href" not in panel.header.value and "javascript:alert(1)" in plain(panel.header.value)


def test_a_refused_sync_shows_the_file_and_line() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    assert panel.error.value == ""
    update(handle, phase=Phase.FAILED, error="invalid syntax <here> (the codespace keeps the last good files)",
           error_file="service.py", error_line=12)
    shown = plain(panel.error.value)
    assert shown.startswith("service.py line 12: invalid syntax <here>") and "<here>" not in panel.error.value
    update(handle, phase=Phase.READY, error=None, error_file=None, error_line=None)
    assert panel.error.value == ""


def test_the_log_is_bounded_collapsed_and_escaped() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    for i in range(LOG_LINES + 50):
        handle.state.logs.append(f"line {i} <script>")
    handle.state.changed()  # no running loop: drawn at once
    assert panel.log_panel.get_title(0) == f"api-server log ({LOG_LINES} lines)"
    assert panel.log_panel.selected_index is None and panel.log_html.value == ""  # collapsed: no text sent
    panel.log_panel.selected_index = 0
    assert "line 249 &lt;script&gt;" in panel.log_html.value and "line 49 " not in panel.log_html.value
    assert "<script>" not in panel.log_html.value


def test_log_only_changes_are_coalesced_on_the_loop_and_nothing_blocks() -> None:
    handle = FakeCodespace()

    async def main() -> CodespacePanel:
        panel = CodespacePanel(handle, call_form=False)
        panel.log_panel.selected_index = 0
        handle.state.changed()
        for i in range(30):
            handle.state.logs.append(f"reload {i}")
            handle.state.changed()  # returns at once: a redraw is scheduled, not done
        assert "reload 29" not in panel.log_html.value
        await asyncio.sleep(0.3)
        return panel

    panel = asyncio.run(main())
    assert "reload 29" in panel.log_html.value and panel.log_panel.get_title(0) == "api-server log (30 lines)"


def test_the_call_form_appears_when_ready_and_reloads_when_the_apis_change(monkeypatch: pytest.MonkeyPatch) -> None:
    handle = FakeCodespace()
    loads: list[tuple[str, ...]] = []

    async def main() -> CodespacePanel:
        panel = CodespacePanel(handle)
        monkeypatch.setattr(panel.call_form, "load", lambda: loads.append(handle.state.api_names))
        assert panel.call_form.layout.display == "none"
        update(handle, phase=Phase.READY, api_names=("summarize",))
        update(handle, phase=Phase.RELOADING)
        update(handle, phase=Phase.READY)  # same APIs after a reload: no new fetch
        update(handle, phase=Phase.RELOADING, api_names=("summarize", "translate"))
        update(handle, phase=Phase.READY)
        return panel

    panel = asyncio.run(main())
    assert loads == [("summarize",), ("summarize", "translate")] and panel.call_form.layout.display is None
    assert panel.call_form.name == "cs-1" and panel.call_form.context == "sbx"


def test_detach_keeps_it_running_and_says_how_to_stop_it() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    panel.detach_button.click()
    assert handle.calls == [("detach", None)] and panel.detach_button.disabled
    assert "keeps running" in plain(panel.message.value) and "%bentocloud terminate cs-1" in plain(panel.message.value)
    assert not panel.terminate_button.disabled  # a detached codespace can still be terminated from here


def test_terminate_in_a_protected_context_asks_for_the_name_and_a_wrong_one_sends_nothing() -> None:
    handle = FakeCodespace(protected=True)
    panel = CodespacePanel(handle, call_form=False)
    assert panel.confirm_text.layout.display == "none"
    panel.terminate_button.click()
    assert panel.confirm_text.layout.display is None and "protected" in plain(panel.message.value)
    assert handle.state.phase is Phase.CREATING
    panel.confirm_text.value = "cs-2"
    panel.terminate_button.click()
    assert handle.calls[-1] == ("terminate", "cs-2") and handle.state.phase is Phase.CREATING
    assert "protected" in plain(panel.message.value)
    panel.confirm_text.value = "cs-1"
    panel.terminate_button.click()
    assert handle.state.phase is Phase.TERMINATED and "terminated" in plain(panel.message.value)
    assert panel.terminate_button.disabled and panel.detach_button.disabled


def test_terminate_outside_a_protected_context_is_one_click_and_errors_are_one_line() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    panel.terminate_button.click()
    assert handle.calls == [("terminate", None)] and handle.state.phase is Phase.TERMINATED

    class Broken(FakeCodespace):
        def terminate(self, confirm: str | None = None) -> None:
            raise RuntimeError("boom")

    broken = Broken()
    panel = CodespacePanel(broken, call_form=False)
    panel.terminate_button.click()
    assert plain(panel.message.value) == "Unexpected RuntimeError: boom"


def test_an_awaitable_action_runs_as_a_task() -> None:
    handle = FakeCodespace()

    async def later() -> None:
        await asyncio.sleep(0)
        handle.state.phase = Phase.TERMINATED
        handle.state.changed()

    handle.terminate = lambda confirm=None: later()  # type: ignore[method-assign,assignment]

    async def main() -> CodespacePanel:
        panel = CodespacePanel(handle, call_form=False)
        panel.terminate_button.click()
        assert panel.message.value == ""  # not done yet: the click returned at once
        await asyncio.sleep(0.05)
        return panel

    panel = asyncio.run(main())
    assert "terminated" in plain(panel.message.value) and panel.terminate_button.disabled


def test_close_stops_listening_and_the_bundle_carries_snapshots() -> None:
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    bundle = panel._repr_mimebundle_()
    assert "codespace cs-1: creating" in bundle["text/plain"] and "creating" in bundle["text/html"]
    panel.close()
    assert handle.state.listeners == []


def test_present_picks_the_panel_or_the_display_id_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.ipython import present as presenting

    handle = FakeCodespace()
    monkeypatch.setattr(presenting, "widgets_enabled", lambda: True)
    assert isinstance(presenting.present(handle), CodespacePanel)
    assert presenting.present(handle, use_widgets=False) is handle  # no loop: the handle shows itself

    shown: list[str] = []  # the first line of each text drawn, when it was drawn

    class Handle:
        def update(self, obj: Any) -> None:
            shown.append(repr(obj).splitlines()[0])

    def display(obj: Any, display_id: bool = False) -> Handle:
        shown.append(repr(obj).splitlines()[0])
        return Handle()

    monkeypatch.setattr("IPython.display.display", display)

    async def main() -> None:
        assert presenting.present(handle, use_widgets=False) is None
        update(handle, phase=Phase.READY)

    asyncio.run(main())
    assert shown == ["codespace cs-1: creating", "codespace cs-1: ready"]


def test_the_handles_own_answer_is_the_message() -> None:
    from bentocloud_jupyter.core.messages import Message

    class Answering(FakeCodespace):
        def detach(self) -> Message:  # type: ignore[override]
            super().detach()
            return Message("Detached. Codespace 'cs-1' keeps running <here>.", "warning")

    panel = CodespacePanel(Answering(), call_form=False)
    panel.detach_button.click()
    assert plain(panel.message.value) == "Detached. Codespace 'cs-1' keeps running <here>."
    assert "#9a6700" in panel.message.value and "<here>" not in panel.message.value


def test_the_saved_snapshot_follows_detach_then_terminate(monkeypatch: pytest.MonkeyPatch) -> None:
    updates: list[str] = []

    class Shown:
        def update(self, bundle: dict[str, Any], raw: bool = False) -> None:
            updates.append(bundle["text/plain"].splitlines()[0])

    monkeypatch.setattr("IPython.display.display", lambda *a, **k: Shown())
    handle = FakeCodespace()
    panel = CodespacePanel(handle, call_form=False)
    panel._ipython_display_()
    panel.detach_button.click()
    panel.terminate_button.click()
    update(handle, note="later")
    assert updates == ["codespace cs-1: detached", "codespace cs-1: terminated"]


SERVICE = '''import bentoml


@bentoml.service
class Hello:
    @bentoml.api
    def greet(self, name: str = "world") -> str:
        return name
'''


async def until(check: Any, what: Any, timeout: float = 8.0) -> None:
    """Yield to the loop (the engine, the call form) until ``check()``; fail saying ``what()``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not check():
        assert asyncio.get_running_loop().time() < deadline, what()
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("edit", ["save", "write"])  # an editor's save, or the write cell (handle.write)
def test_the_real_codespace_on_the_sandbox(logged_in: Any, tmp_path: Path, edit: str) -> None:
    """Attach, ready with the service's API in the form, an edit reloads the form, a protected terminate."""
    from bentocloud_jupyter.core.api.codespaces import code
    from bentocloud_jupyter.core.api.deployments import deploy
    from bentocloud_jupyter.core.credentials.protected import set_protected
    from bentocloud_jupyter.core.results import TableView

    deploy("summarizer", name=f"w-cs-{edit}", config_dict={"dev": True}, wait=True, timeout=30)
    root = tmp_path / "proj"
    root.mkdir()
    (root / "bentofile.yaml").write_text('service: "service:Hello"\n')
    (root / "service.py").write_text(SERVICE)

    async def main() -> CodespacePanel:
        handle = code(str(root), attach=f"w-cs-{edit}")
        assert not isinstance(handle, TableView)
        panel = CodespacePanel(handle)
        state = handle.state
        try:
            await until(lambda: state.phase is Phase.READY and state.api_names == ("greet",), lambda: repr(panel))
            await until(lambda: tuple(panel.call_form.api.options) == ("greet",), lambda: panel.call_form.output.value)
            assert "Running" in plain(panel.header.value) and href(panel.header.value).endswith(f"/_svc/w-cs-{edit}")
            if edit == "save":  # an editor's save: the watcher syncs it
                (root / "service.py").write_text(SERVICE.replace("greet", "shout"))
            else:  # the %%bentocloud write cell
                handle.write("service.py", SERVICE.replace("greet", "shout"))
            await until(lambda: state.phase is Phase.READY and state.api_names == ("shout",), lambda: repr(panel))
            await until(lambda: tuple(panel.call_form.api.options) == ("shout",), lambda: panel.call_form.output.value)
            set_protected("sandbox", True)
            panel.terminate_button.click()
            assert panel.confirm_text.layout.display is None and state.phase is not Phase.TERMINATED
            panel.confirm_text.value = "w-cs-typo"
            panel.terminate_button.click()
            assert state.phase is not Phase.TERMINATED and "nothing was sent" in plain(panel.message.value)
            panel.confirm_text.value = f"w-cs-{edit}"
            panel.terminate_button.click()  # the request runs off the loop (review R5): wait for its answer
            await until(lambda: state.phase is Phase.TERMINATED, lambda: plain(panel.message.value))
            assert state.phase is Phase.TERMINATED, plain(panel.message.value)
        finally:
            handle.detach()
            set_protected("sandbox", False)
        return panel

    panel = asyncio.run(main())
    assert panel.terminate_button.disabled and "terminated" in plain(panel.message.value)
    assert_secret_absent(panel, logged_in.token)
