"""``await cs.ready(api)``: waits on the loop for the reload that serves ``api``; bounded; ends on detach."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from bentocloud_jupyter.core.codespaces.handle import Codespace
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.errors import InvalidInputError, WatchTimeout


def _handle(tmp_path: Path) -> Codespace:
    resolved: Any = None  # ready() never talks to the server
    return Codespace(CodespaceState("cs", "ctx", tmp_path, phase=Phase.READY, api_names=("greet",)), resolved)


def test_ready_waits_for_the_reload_that_serves_the_named_api(tmp_path: Path) -> None:
    handle = _handle(tmp_path)

    async def main() -> CodespaceState:
        loop = asyncio.get_running_loop()
        handle.state.phase = Phase.SYNCING
        loop.call_later(0.1, lambda: setattr(handle.state, "phase", Phase.READY))  # the old APIs still
        loop.call_later(0.3, lambda: setattr(handle.state, "api_names", ("greet", "shout")))
        return await handle.ready("shout", timeout=5)

    state = asyncio.run(main())
    assert state.phase is Phase.READY and "shout" in state.api_names


def test_ready_is_bounded_and_says_why(tmp_path: Path) -> None:
    handle = _handle(tmp_path)
    handle.state.note = "sync failed (server error 503); retrying in 2 s"
    with pytest.raises(WatchTimeout, match=r"not ready with 'shout'.*server error 503"):
        asyncio.run(handle.ready("shout", timeout=0.2))


def test_ready_ends_when_the_codespace_is_left(tmp_path: Path) -> None:
    handle = _handle(tmp_path)
    handle.state.phase = Phase.DETACHED
    with pytest.raises(InvalidInputError, match="detached"):
        asyncio.run(handle.ready())


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "5"])
def test_ready_checks_its_timeout(tmp_path: Path, bad: Any) -> None:
    with pytest.raises(InvalidInputError):
        asyncio.run(_handle(tmp_path).ready(timeout=bad))
