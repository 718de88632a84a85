"""The HTML and text snapshot of a codespace: what the panel's header shows, what a saved notebook keeps, and
the display-id-updated fallback where no widget manager renders.

No ipywidgets here, so the fallback works without a widget front end. Every value is escaped (the engine's
notes and the server's log lines are untrusted); the endpoint becomes a link only if it is http(s).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.display import esc, link
from bentocloud_jupyter.core.messages import safe_repr

__all__ = ["PHASE_COLOURS", "Coalescer", "CodespaceView", "error_html", "error_text", "header_html", "log_text",
           "phase_badge", "state_key", "summary_rows"]

PHASE_COLOURS = {
    Phase.CREATING: "#0969da", Phase.SYNCING: "#0969da", Phase.RELOADING: "#9a6700", Phase.READY: "#1a7f37",
    Phase.FAILED: "#cf222e", Phase.DETACHED: "#6e7781", Phase.TERMINATED: "#6e7781",
}
FALLBACK_LOG_LINES = 40  # the HTML fallback is re-sent whole on each update: keep it small


def phase_badge(phase: Phase) -> str:
    """A coloured pill naming the phase."""
    colour = PHASE_COLOURS.get(phase, "#6e7781")
    return (f'<span class="bcj-badge" style="background:{colour};color:#fff;border-radius:8px;'
            f'padding:1px 8px;font-size:0.85em;white-space:nowrap">{esc(phase.value)}</span>')


def _latency(seconds: float | None) -> str:
    if seconds is None or seconds != seconds or seconds < 0:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def summary_rows(state: CodespaceState) -> list[tuple[str, str]]:
    """(label, plain value) rows; the endpoint's row is plain text here (the HTML makes it a link)."""
    rows = [("context", state.context), ("project", str(state.project)), ("files synced", str(state.files_synced)),
            ("last sync", _latency(state.last_sync_seconds)), ("pod", state.pod_status or "-")]
    if state.cluster:
        rows.insert(1, ("cluster", state.cluster))
    rows.append(("endpoint", state.endpoint or "-"))
    if state.api_names:
        rows.append(("APIs", ", ".join(state.api_names)))
    return rows


def error_text(state: CodespaceState) -> str:
    """The error as one line, with where it is (``service.py line 12: ...``) when the engine knows."""
    if not state.error:
        return ""
    where = state.error_file or ""
    if where and state.error_line is not None:
        where = f"{where} line {state.error_line}"
    if where and where not in state.error:
        return f"{where}: {state.error}"
    return state.error


def log_text(state: CodespaceState, last: int | None = None) -> str:
    """The kept api-server log lines (the last ``last`` of them when given)."""
    lines = list(state.logs)
    return "\n".join(lines if last is None else lines[-last:])


def header_html(state: CodespaceState) -> str:
    """Badge, name, the summary table (endpoint as a link only if http(s)) and the engine's note."""
    cells = []
    for label, value in summary_rows(state):
        shown = link(value) if label == "endpoint" and value != "-" else esc(value)
        cells.append(f'<tr><td style="text-align:left;color:#6e7781;padding-right:1em">{esc(label)}</td>'
                     f'<td style="text-align:left">{shown}</td></tr>')
    note = f'<div style="color:#6e7781;font-size:0.9em">{esc(state.note)}</div>' if state.note else ""
    return (f'<div class="bcj-codespace"><b>codespace {esc(state.name)}</b> {phase_badge(state.phase)}'
            f'<table class="bcj-table">{"".join(cells)}</table>{note}</div>')


def error_html(state: CodespaceState) -> str:
    text = error_text(state)
    return f'<div style="color:#cf222e">{esc(text)}</div>' if text else ""


@dataclass(frozen=True)
class CodespaceView:
    """A snapshot of a codespace for rich display (HTML with a collapsed log) and for text."""

    state: CodespaceState

    @safe_repr
    def _repr_html_(self) -> str:
        s = self.state
        logs = ""
        if s.logs:
            shown = log_text(s, FALLBACK_LOG_LINES)
            logs = (f"<details><summary>api-server log ({len(s.logs)} lines; last {FALLBACK_LOG_LINES} here)"
                    f"</summary><pre style=\"max-height:20em;overflow:auto\">{esc(shown)}</pre></details>")
        return header_html(s) + error_html(s) + logs

    @safe_repr
    def __repr__(self) -> str:
        s = self.state
        lines = [f"codespace {s.name}: {s.phase.value}"]
        lines += [f"  {label}: {value}" for label, value in summary_rows(s)]
        if s.note:
            lines.append(f"  {s.note}")
        if s.error:
            lines.append(f"  error: {error_text(s)}")
        return "\n".join(lines)


def state_key(state: CodespaceState) -> Hashable:
    """Everything but the log: a change here is drawn at once, a log-only change may wait a little."""
    return (state.phase, state.files_synced, state.last_sync_seconds, state.pod_status, state.endpoint,
            state.error, state.error_file, state.error_line, state.note, state.api_names, state.cluster)


class Coalescer:
    """Calls ``draw(state)`` at once when anything but the log changed, else at most every ``interval``
    seconds (a chatty log must not send a comm message per line); never blocks, never raises."""

    def __init__(self, draw: Callable[[CodespaceState], Any], interval: float = 0.1) -> None:
        self.draw = draw
        self.interval = interval
        self.key: Hashable = None
        self.pending: asyncio.TimerHandle | None = None

    def __call__(self, state: CodespaceState) -> None:
        key = state_key(state)
        loop = _loop()
        if key != self.key or loop is None:
            self.flush(state)
        elif self.pending is None:
            self.pending = loop.call_later(self.interval, self.flush, state)

    def flush(self, state: CodespaceState) -> None:
        """Draw now (and forget a pending draw)."""
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None
        self.key = state_key(state)
        self.draw(state)

    def cancel(self) -> None:
        if self.pending is not None:
            self.pending.cancel()
            self.pending = None


def _loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
