"""Live sync on an asyncio loop: ``code()`` returns at once, a file saved under PATH reaches the codespace and
the state says ready after the reload, ``write()`` syncs at once, a deleted file is deleted remotely, and
detach ends the watch."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from support import SHORT_RETRY, until
from test_codespace_sandbox import SERVICE, dev, md5, project, remote

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.codespaces.handle import Codespace, detach_all
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase


def test_live_sync_on_the_loop(sbx_context: Any, tmp_path: Path) -> None:
    root = project(tmp_path / "proj")
    dev("cs-live")

    async def main() -> None:
        started = time.monotonic()
        handle = bc.code(str(root), attach="cs-live", context="sbx")
        assert isinstance(handle, Codespace) and handle.task is not None
        assert time.monotonic() - started < 1.0 and handle.state.phase is Phase.CREATING  # returned at once
        said = handle.write("early.py", "E = 0\n")  # while creating: written, up with the first sync
        assert "first sync" in repr(said)
        phases: list[Phase] = []
        handle.state.listeners.append(lambda s: phases.append(s.phase))
        await until(lambda: handle.state.phase is Phase.READY, timeout=15)
        assert "early.py" in await asyncio.to_thread(remote, "cs-live")
        # no pause: the watcher runs from before the first pass, so a save right at "ready" is not missed
        synced = handle.state.files_synced
        (root / "extra.py").write_text("VALUE = 1\n")
        await until(lambda: handle.state.files_synced > synced and handle.state.phase is Phase.READY, timeout=15)
        assert Phase.RELOADING in phases and handle.state.last_sync_seconds is not None
        assert (await asyncio.to_thread(remote, "cs-live"))["extra.py"] == md5("VALUE = 1\n")
        said = handle.write("service.py", SERVICE + "# v2\n")
        assert "syncing it" in repr(said)
        await until(lambda: handle.state.files_synced > synced + 1 and handle.state.phase is Phase.READY, timeout=15)
        assert (await asyncio.to_thread(remote, "cs-live"))["service.py"] == md5(SERVICE + "# v2\n")
        (root / "extra.py").unlink()
        await until(lambda: "extra.py" not in remote("cs-live"), timeout=15, step=0.1)
        notes = detach_all()
        assert notes == ["Codespace 'cs-live' keeps running on BentoCloud; `%bentocloud terminate cs-live` stops it."]
        await asyncio.wait_for(handle.task, 5)
        assert handle.state.phase is Phase.DETACHED

    asyncio.run(main())


def test_a_failed_sync_says_so_and_the_engine_never_raises(sbx_context: Any, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.codespaces.engine import Backoff

    root = project(tmp_path / "proj")
    state = CodespaceState("no-such-codespace", "sbx", root)
    from bentocloud_jupyter.core.credentials.config import resolve_context

    handle = Codespace(state, resolve_context("sbx"))
    handle.engine.backoff = Backoff(attempts=2, base=0.01)
    handle.sync()
    assert state.phase is Phase.FAILED and state.error and "\n" not in state.error


def test_create_on_the_loop_returns_at_once_and_schedules_its_ttl(sbx_context: Any, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from bentocloud_jupyter.core.codespaces.create import Creation
    from bentocloud_jupyter.core.guardrails import ttl
    from bentocloud_jupyter.core.rest.session import client_for

    verbs = importlib.import_module("bentocloud_jupyter.core.api.codespaces")
    monkeypatch.setattr(verbs, "bentoml_installed", lambda: True)
    monkeypatch.setattr(Creation, "build", lambda self, handle: client_for("sbx")[0].get_bento("summarizer", "v3"))
    root = project(tmp_path / "loop-proj")

    async def main() -> None:
        handle = bc.code(str(root), context="sbx", ttl="1h")
        assert isinstance(handle, Codespace) and handle.state.phase is Phase.CREATING
        assert any(t.name == handle.state.name for t in ttl.timers())
        await until(lambda: handle.state.phase is Phase.READY, timeout=20)
        assert "service.py" in await asyncio.to_thread(remote, handle.state.name)
        handle.detach()
        ttl.cancel_expiry("sbx", handle.state.name, None)
        assert handle.task is not None
        await asyncio.wait_for(handle.task, 5)

    asyncio.run(main())


def test_a_server_echoing_the_token_never_puts_it_in_the_state(sbx_context: Any, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A hostile answer (5xx quoting the token) fails the pass in one line without the token anywhere."""
    import httpx

    from bentocloud_jupyter.core.codespaces.engine import Backoff
    from bentocloud_jupyter.core.credentials.config import resolve_context
    from bentocloud_jupyter.core.rest import session

    token = sbx_context.token
    session.close_all()
    monkeypatch.setattr(session.settings, "transport", httpx.MockTransport(
        lambda request: httpx.Response(500, json={"error": f"bad {request.headers.get('X-YATAI-API-TOKEN')}"})))
    monkeypatch.setattr(session.settings, "retry", SHORT_RETRY)
    state = CodespaceState("cs-hostile", "sbx", project(tmp_path / "proj"))
    notes: list[str] = []
    state.listeners.append(lambda s: notes.append(f"{s.note} {s.error}"))
    handle = Codespace(state, resolve_context("sbx"))
    handle.engine.backoff = Backoff(attempts=2, base=0.01)
    handle.sync()
    session.close_all()
    assert state.phase is Phase.FAILED and state.error and "\n" not in state.error
    assert token not in repr(handle) + repr(state) + " ".join(notes)
    assert any("retrying" in n for n in notes)
