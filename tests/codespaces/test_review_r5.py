"""Review R5 of the codespace engine and handle: a fast reload's short 503 is not missed (readyz is polled fast
right after a sync, then backs off), probes share one connection per pass, Terminate never blocks the loop."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_engine_units import _dep, drive, make

from bentocloud_jupyter.core.codespaces.engine import Describe, Engine, Logs, Pods, Probe, Schema, Send, Sleep
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
