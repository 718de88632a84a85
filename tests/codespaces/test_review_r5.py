"""Review R5 of the codespace engine and handle: a fast reload's short 503 is not missed (readyz is polled fast
right after a sync, then backs off), probes share one connection per pass, Terminate never blocks the loop."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import SHORT_RETRY, until
from test_codespace_sandbox import project
from test_engine_units import _dep, drive, make

from bentocloud_jupyter.core.codespaces.engine import Backoff, Describe, Engine, Logs, Pods, Probe, Schema, Send, Sleep
from bentocloud_jupyter.core.codespaces.handle import Codespace
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase


class FakeClock:
    """Time moves only when the engine sleeps (so the test asserts the schedule, never a timing)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _answers(clock: FakeClock, probes: list[int]) -> Any:
    left = iter(probes)

    def answer(effect: Any) -> Any:
        if isinstance(effect, Sleep):
            clock.now += effect.seconds
            return None
        if isinstance(effect, Send):
            return [] if effect.call.method == "GET" else None
        if isinstance(effect, Probe):
            return next(left, 200)
        return {Describe: _dep(), Schema: ["shout"], Pods: [], Logs: []}.get(type(effect))
    return answer


def test_readyz_is_polled_fast_right_after_a_sync_then_backs_off(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    engine = Engine(state, clock=clock, probe_every=0.25, settle=1.0)
    effects = drive(engine, _answers(clock, [200] * 40))  # the 503 was missed: 200s count after SETTLE
    gaps = [e.seconds for e in effects if isinstance(e, Sleep)]
    assert gaps[0] <= 0.05 < gaps[-1] <= 0.25  # fast first, then slower
    assert gaps == sorted(gaps) and len(gaps) <= 12  # about ten probes in the settle second, not a hammering
    assert state.phase is Phase.READY


def test_a_short_reload_seen_by_a_fast_probe_is_ready_at_once(tmp_path: Path) -> None:
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    drive(Engine(state, clock=clock, probe_every=0.25, settle=1.0), _answers(clock, [200, 503, 200]))
    assert state.phase is Phase.READY and state.last_sync_seconds is not None
    assert state.last_sync_seconds < 0.2  # was 0.5: two 0.25 s gaps before the reload was known


def test_a_later_wait_probes_before_it_describes(tmp_path: Path) -> None:
    """The deployment is known from the first wait: the next wait's first probe goes out right after the
    upload, not after one more API round trip (that delay alone could outlast a fast reload's 503)."""
    make(tmp_path, {"service.py": "x = 1\n"})
    clock = FakeClock()
    state = CodespaceState("cs", "ctx", tmp_path, "c1")
    engine = Engine(state, clock=clock, probe_every=0.25, settle=1.0)
    first = drive(engine, _answers(clock, [503, 200]))
    waits = [type(e) for e in first if isinstance(e, Describe | Probe)]
    assert waits[:2] == [Describe, Probe]  # nothing known yet: ask first
    (tmp_path / "service.py").write_text("x = 2\n")
    again = drive(engine, _answers(clock, [503, 200]))
    waits = [type(e) for e in again if isinstance(e, Describe | Probe)]
    assert waits[:2] == [Probe, Describe] and state.phase is Phase.READY
    assert state.last_sync_seconds is not None and state.last_sync_seconds < 0.1


def test_detach_ends_a_pass_that_sleeps_in_its_backoff(sbx_context: Any, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A server failing every sync puts the pass in a long backoff sleep; detach (and ``%unload_ext``) ends the
    task there, not when the sleep is over (no task left running after the panel says detached)."""
    from bentocloud_jupyter.core.credentials.config import resolve_context
    from bentocloud_jupyter.core.rest import session

    session.close_all()
    monkeypatch.setattr(session.settings, "async_transport", httpx.MockTransport(
        lambda request: httpx.Response(503, json={"error": "busy"})))
    monkeypatch.setattr(session.settings, "retry", SHORT_RETRY)
    state = CodespaceState("cs-sleepy", "sbx", project(tmp_path / "proj"), phase=Phase.SYNCING)

    async def main() -> None:
        handle = Codespace(state, resolve_context("sbx"), engine=Engine(state, backoff=Backoff(base=60.0, cap=60.0)))
        handle.start()
        seen: list[str] = []
        state.listeners.append(lambda s: seen.append(f"{s.phase} {s.note} {s.error}"))
        await until(lambda: "retrying in 60 s" in state.note or state.phase is Phase.FAILED, timeout=10)
        assert "retrying in 60 s" in state.note, seen
        handle.detach()
        assert handle.task is not None
        await asyncio.wait({handle.task}, timeout=5)  # the sleep alone is 60 s
        assert handle.task.done() and state.phase is Phase.DETACHED

    try:
        asyncio.run(main())
    finally:
        session.close_all()
