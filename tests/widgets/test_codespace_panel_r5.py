"""Review R5 of the codespace panel: Terminate on a running loop sends its request from a worker thread (the
kernel keeps running cells meanwhile) and the state changes back on the loop; a protected context's question
still opens the name field."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bentocloud_jupyter.core.api import deployments
from bentocloud_jupyter.core.codespaces import handle as handle_mod
from bentocloud_jupyter.core.codespaces.handle import Codespace
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.widgets.codespace import CodespacePanel


def _handle(tmp_path: Path) -> Codespace:
    resolved: Any = SimpleNamespace(context=SimpleNamespace(name="ctx"))
    return Codespace(CodespaceState("cs-t", "ctx", tmp_path, phase=Phase.READY), resolved)


def test_terminate_button_never_blocks_the_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def terminate(name: str, **kwargs: Any) -> None:
        seen["loop_ran"] = seen["tick"].wait(2.0)  # set by the loop: never while the loop waits for us
        seen["kwargs"] = kwargs

    monkeypatch.setattr(deployments, "terminate", terminate)
    monkeypatch.setattr(handle_mod, "require_typed_name", lambda *args: None)  # not a protected context

    async def main() -> None:
        handle = _handle(tmp_path)
        panel = CodespacePanel(handle, call_form=False)
        seen["tick"] = threading.Event()
        loop = asyncio.get_running_loop()
        loop.call_soon(seen["tick"].set)
        panel.terminate_button.click()
        for _ in range(200):
            if handle.state.phase is Phase.TERMINATED:
                break
            await asyncio.sleep(0.01)
        assert seen["loop_ran"] is True and seen["kwargs"]["confirm"] is None
        assert handle.state.phase is Phase.TERMINATED and "terminated" in panel.message.value
        panel.close()

    asyncio.run(main())


def test_terminate_button_on_the_loop_asks_for_the_name_in_a_protected_context(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []

    def terminate(name: str, **kwargs: Any) -> None:
        sent.append(kwargs["confirm"])
        if kwargs["confirm"] != name:
            raise ConfirmationNeeded(f"type {name} to confirm", kind="deployment", name=name, context="ctx",
                                     wrong=kwargs["confirm"] is not None)

    monkeypatch.setattr(deployments, "terminate", terminate)

    def check(resolved: Any, kind: str, name: str, confirm: str | None) -> None:
        if confirm != name:
            sent.append(f"asked ({confirm})")
            raise ConfirmationNeeded(f"type {name} to confirm", kind=kind, name=name, context="ctx",
                                     wrong=confirm is not None)

    monkeypatch.setattr(handle_mod, "require_typed_name", check)

    async def main() -> None:
        handle = _handle(tmp_path)
        panel = CodespacePanel(handle, call_form=False)
        panel.terminate_button.click()  # asked at once (a local check): no request, no wait
        assert panel.confirm_text.layout.display is None and handle.state.phase is Phase.READY
        panel.confirm_text.value = "cs-t"
        panel.terminate_button.click()
        for _ in range(200):
            if handle.state.phase is Phase.TERMINATED:
                break
            await asyncio.sleep(0.01)
        assert sent == ["asked (None)", "cs-t"] and handle.state.phase is Phase.TERMINATED
        panel.close()

    asyncio.run(main())
