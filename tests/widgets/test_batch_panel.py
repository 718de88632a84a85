"""The map/bench panel: a bar and counts that follow the batch, Stop, and the outcome shown in place."""

from __future__ import annotations

import asyncio
from typing import Any

from support import ready

from bentocloud_jupyter.core.api.evaluate import bench
from bentocloud_jupyter.core.api.evaluate import map as bc_map
from bentocloud_jupyter.core.calls.outcomes import MapResult
from bentocloud_jupyter.sandbox.latency import model_for
from bentocloud_jupyter.widgets.batch import BatchPanel

TEXTS = [{"text": f"Row {i}. <b>bold</b>"} for i in range(8)]


def test_panel_follows_the_batch_and_shows_the_result(logged_in: Any) -> None:
    ready("panel-sum")

    async def main() -> tuple[BatchPanel, MapResult]:
        handle = bc_map("panel-sum", "summarize", TEXTS, concurrency=2)
        panel = BatchPanel(handle, interval=0.0)
        assert panel.bar.max == 8 and not panel.stop_button.disabled
        return panel, await handle

    panel, result = asyncio.run(main())
    assert panel.bar.value == 8 and panel.bar.bar_style == "success"
    assert "8/8 done" in panel.line.value and panel.stop_button.layout.display == "none"
    assert "8 calls, none failed" in panel.result.value and "<b>bold</b>" not in panel.result.value
    assert len(result) == 8


def test_stop_button_cancels_the_rest(logged_in: Any) -> None:
    ready("panel-stop")
    model = model_for(logged_in.state)
    model.set("panel-stop", base=0.2)
    try:
        async def main() -> tuple[BatchPanel, MapResult]:
            handle = bc_map("panel-stop", "summarize", TEXTS, concurrency=1)
            panel = BatchPanel(handle)
            handle.progress.listeners.append(lambda p: panel.stop_button.click() if p.done == 1 else None)
            return panel, await handle

        panel, result = asyncio.run(main())
    finally:
        model.reset()
    assert result.stopped and panel.stop_button.disabled and "(stopped)" in panel.result.value
    assert "stopped" in panel.line.value


def test_a_finished_handle_shows_its_report_at_once(logged_in: Any) -> None:
    ready("panel-bench")
    handle = bench("panel-bench", "summarize", {"text": "Hi. There."}, n=5, concurrency=2)
    panel = BatchPanel(handle)
    assert handle.done() and "<svg" in panel.result.value and "p99" in panel.result.value
    assert "BatchPanel(" in repr(panel)
