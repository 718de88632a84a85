"""bc.map: concurrent calls in input order, failures recorded, retries as advised, wake from zero, Stop; bad input."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from support import ready, wait_status

from bentocloud_jupyter.core.api.evaluate import map as bc_map
from bentocloud_jupyter.core.calls.batch import Batch
from bentocloud_jupyter.core.calls.outcomes import STOPPED, MapResult
from bentocloud_jupyter.core.calls.planning import plan
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError, NotReadyError
from bentocloud_jupyter.sandbox.latency import model_for

TEXTS = [{"text": f"Sentence {i}. And more."} for i in range(12)]


@pytest.fixture
def sbx(sbx_context: Any) -> Iterator[Any]:
    model = model_for(sbx_context.state)
    model.reset()
    yield sbx_context
    model.reset()


def _service_calls(sandbox: Any, route: str = "POST /_svc/{name}/{path:path}") -> int:
    return int(sandbox.stats()["by_route"].get(route, 0))


def test_map_blocks_without_a_loop_and_keeps_input_order(sbx: Any) -> None:
    ready("map-sum")
    model_for(sbx.state).set("map-sum", "summarize", base=0.02, jitter=0.05, per_replica=2, seed=1)
    handle = bc_map("map-sum", "summarize", TEXTS, concurrency=4)
    result = handle.result()
    assert handle.done() and isinstance(result, MapResult) and len(result) == 12
    assert result.outputs[:12] == [{"summary": f"Sentence {i}."} for i in range(12)]
    assert [i.index for i in result] == list(range(12))
    assert model_for(sbx.state).snapshot("map-sum")["peak_in_flight"] <= 4


def test_failed_items_are_recorded_with_one_line(sbx: Any) -> None:
    ready("map-iris", "iris_classifier:v1")
    rows = [{"input_data": [[5.1, 3.5, 1.4, 0.2]]}, {"input_data": [[1, 2, 3]]}, {"input_data": [[6.3, 3.3, 6, 2.5]]}]
    result = bc_map("map-iris", "classify", rows, concurrency=2).result()
    assert result.outputs == [[0], None, [2]]
    bad = result.failed
    assert len(bad) == 1 and bad[0].status == 400 and "\n" not in (bad[0].error or "")
    assert "1 failed (1x 400)" in result.summary() and "#1:" in repr(result)


def test_on_a_running_loop_it_returns_a_handle_at_once(sbx: Any) -> None:
    ready("map-loop")
    model_for(sbx.state).set("map-loop", base=0.05)
    seen: list[str] = []

    async def main() -> tuple[MapResult, bool]:
        handle = bc_map("map-loop", "summarize", TEXTS[:6], concurrency=3)
        handle.progress.listeners.append(lambda p: seen.append(p.state))
        early = handle.done()
        with pytest.raises(NotReadyError, match="still running"):
            handle.result()
        return await handle, early

    result, early = asyncio.run(main())
    assert not early and len(result.outputs) == 6 and all(result.outputs)
    assert seen[0] == "running" and seen[-1] == "done"


def test_stop_cancels_the_rest(sbx: Any) -> None:
    ready("map-stop")
    model_for(sbx.state).set("map-stop", base=0.2)

    async def main() -> MapResult:
        handle = bc_map("map-stop", "summarize", TEXTS, concurrency=2)
        handle.progress.listeners.append(lambda p: handle.stop() if p.done >= 2 else None)
        return await handle

    result = asyncio.run(main())
    assert result.stopped and sum(i.ok for i in result) >= 2
    assert sum(i.error == STOPPED for i in result) >= 8 and len(result) == 12


def test_scaled_to_zero_is_woken_visibly(sbx: Any) -> None:
    ready("map-zero", scaling_min=0, scaling_max=2)
    wait_status("map-zero", {"scaled-to-zero"})
    model_for(sbx.state).set("map-zero", base=0.01, cold_start=0.02)
    states: list[str] = []

    async def main() -> MapResult:
        handle = bc_map("map-zero", "summarize", TEXTS[:4])
        handle.progress.listeners.append(lambda p: states.append(p.state))
        return await handle

    result = asyncio.run(main())
    assert all(result.outputs) and states[0] == "waking" and "done" in states
    assert model_for(sbx.state).snapshot("map-zero")["cold_starts"] >= 1


def test_429_and_503_are_retried_as_advised(sbx: Any) -> None:
    ready("map-retry")
    checked = plan("map-retry", "summarize", TEXTS[:3], concurrency=1, retries=2, timeout=5, context=None,
                   cluster=None)
    answers = iter([httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "slow down"}),
                    httpx.Response(503, headers={"Retry-After": "0"}, json={"error": "waking"}),
                    *[httpx.Response(200, json={"summary": "ok"})] * 3])

    def handler(request: httpx.Request) -> httpx.Response:
        return next(answers)

    result = asyncio.run(Batch(checked, transport=httpx.MockTransport(handler)).run())
    assert result.outputs == [{"summary": "ok"}] * 3 and result[0].attempts == 3
    always = httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "0"}, json={"error": "no"}))
    limited = asyncio.run(Batch(checked, transport=always).run())
    assert [i.status for i in limited] == [429] * 3 and limited[0].attempts == 3 and "429" in (limited[0].error or "")


@pytest.mark.parametrize(("args", "error", "words"), [
    (("map-bad", "nope", [{"text": "x"}]), NotFoundError, "has no API 'nope' (its APIs: summarize)"),
    (("map-bad", "summarize", [{"text": "x"}, {"txt": "x"}]), InvalidInputError, "input #1 does not match"),
    (("map-bad", "summarize", [{"text": 3}]), InvalidInputError, "field 'text' should be string"),
    (("map-bad", "summarize", ["{not json"]), InvalidInputError, "input #0"),
    (("map-bad", "summarize", []), InvalidInputError, "inputs is empty"),
    (("map-bad", "summarize", {"text": "x"}), InvalidInputError, "a list of bodies"),
])
def test_bad_input_is_one_line_and_nothing_is_sent(sbx: Any, args: tuple[Any, ...], error: type[Exception],
                                                   words: str) -> None:
    ready("map-bad")
    before = _service_calls(sbx)
    with pytest.raises(error) as caught:
        bc_map(*args)
    assert words in str(caught.value) and "\n" not in str(caught.value) and _service_calls(sbx) == before


@pytest.mark.parametrize(("knobs", "words"), [({"concurrency": 0}, "concurrency must be"),
                                              ({"concurrency": True}, "concurrency must be"),
                                              ({"retries": -1}, "retries must be"),
                                              ({"timeout": float("nan")}, "timeout must be")])
def test_bad_knobs_are_refused(sbx: Any, knobs: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInputError, match=words):
        bc_map("map-bad", "summarize", [{"text": "x"}], **knobs)


def test_a_deployment_neither_running_nor_scaled_to_zero_is_refused(sbx: Any) -> None:
    from bentocloud_jupyter.core.api.deployments import deploy, terminate

    deploy("summarizer:v3", name="map-off", wait=True)
    terminate("map-off", wait=True)
    before = _service_calls(sbx)
    with pytest.raises(NotReadyError, match="is terminated, neither running nor scaled to zero"):
        bc_map("map-off", "summarize", [{"text": "x"}])
    assert _service_calls(sbx) == before


# ------------------------------------------------------------------------------------------------ bench


def test_bench_reports_requests_errors_percentiles_and_charts(sbx: Any) -> None:
    from bentocloud_jupyter.core.api.evaluate import bench

    ready("bench-sum")
    model_for(sbx.state).set("bench-sum", "summarize", base=0.01, jitter=0.02, per_replica=2, seed=5)
    report = bench("bench-sum", "summarize", {"text": "A <tag>. B."}, n=20, concurrency=4).result()
    assert report.requests == 20 and report.errors == {} and report.throughput > 0
    stats = report.stats()
    assert 0 < stats["p50"] <= stats["p90"] <= stats["p99"] <= stats["max"]
    text = repr(report)
    assert "requests     20" in text and "p99" in text and "throughput" in text
    html = report._repr_html_()
    assert html.count("<svg") == 2 and "<tag>" not in html and html.count("<circle") == 20


def test_bench_records_errors_by_status(sbx: Any) -> None:
    from bentocloud_jupyter.core.api.evaluate import bench

    ready("bench-iris", "iris_classifier:v1")
    report = bench("bench-iris", "classify", '{"input_data": [[1, 2, 3]]}', n=6, concurrency=3).result()
    assert report.requests == 6 and report.errors == {"400": 6}
    assert "errors       400: 6" in repr(report)


def test_bench_duration_stops_sending_new_calls(sbx: Any) -> None:
    from bentocloud_jupyter.core.api.evaluate import bench

    ready("bench-time")
    model_for(sbx.state).set("bench-time", base=0.05)
    report = bench("bench-time", "summarize", {"text": "x"}, concurrency=2, duration=0.3).result()
    assert 1 <= report.requests < 1000 and len(report.run) == report.requests and report.errors == {}


def test_bench_bad_knobs(sbx: Any) -> None:
    from bentocloud_jupyter.core.api.evaluate import bench

    for knobs, words in (({"n": 0}, "n must be"), ({"duration": -1}, "duration must be"),
                         ({"concurrency": 0}, "concurrency must be")):
        with pytest.raises(InvalidInputError, match=words):
            bench("bench-none", "summarize", {"text": "x"}, **knobs)


def test_to_dataframe_needs_pandas_and_gives_one_row_per_call(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from bentocloud_jupyter.core.calls.bench_report import BenchReport, percentile
    from bentocloud_jupyter.core.calls.outcomes import Item

    run = MapResult("d", "a", (Item(0, 200, {}, None, 10.0), Item(1, 503, None, "busy", 30.0),
                               Item(2, None, error=STOPPED)), elapsed=1.0, stopped=True)
    report = BenchReport(run, 2)
    assert report.requests == 2 and report.errors == {"503": 1} and report.throughput == 2.0
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile([], 99) == 0.0
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(InvalidInputError, match="needs pandas"):
        report.to_dataframe()
    fake = types.ModuleType("pandas")
    fake.DataFrame = lambda rows: rows  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pandas", fake)
    rows = report.to_dataframe()
    assert [r["status"] for r in rows] == [200, 503] and rows[1]["error"] == "busy"


def test_bench_parser_matches_the_verb() -> None:
    import inspect

    from bentocloud_jupyter.core.api.evaluate import bench
    from bentocloud_jupyter.ipython.eval_parsers import EVAL_SUBCOMMANDS

    entry = EVAL_SUBCOMMANDS["bench"]
    assert entry.verb == "api.bench"
    parser = entry.parser
    defaults = {a.dest: a.default for a in parser._actions if a.dest != "help"}
    params = {n: p.default for n, p in inspect.signature(bench).parameters.items()}
    assert set(defaults) == set(params)
    assert all(defaults[n] == d for n, d in params.items() if d is not inspect.Parameter.empty)
    args = parser.parse_args(["s", "summarize", "--json", '{"text": "a"}', "-n", "5", "-c", "2", "--duration",
                              "30s"])
    assert (args.n, args.concurrency, args.duration, args.json) == (5, 2, 30.0, '{"text": "a"}')
    assert parser.parse_args(["s", "a", "--duration", "500ms"]).duration == 0.5
    assert parser.parse_args(["s", "a", "--duration", "2m"]).duration == 120.0
    for bad in (["s", "a", "-c", "0"], ["s", "a", "--duration", "soon"], ["s", "a", "-n", "-3"]):
        with pytest.raises(Exception, match="not a"):
            parser.parse_args(bad)


def test_stop_while_waking_sends_no_call(sbx: Any) -> None:
    from bentocloud_jupyter.core.calls.invoke import probe_exchange
    from bentocloud_jupyter.core.calls.outcomes import Progress
    from bentocloud_jupyter.core.rest import session

    ready("map-wake-stop")
    checked = plan("map-wake-stop", "summarize", TEXTS[:3], concurrency=2, retries=0, timeout=5, context=None,
                   cluster=None)
    client, resolved = session.client_for(None)
    probe = probe_exchange(client.get_deployment("map-wake-stop"), resolved.context)
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.url.path)
        return httpx.Response(503, text="waking")

    progress = Progress("map-wake-stop", "summarize", 3)
    batch = Batch(dataclasses.replace(checked, probe=probe), progress, transport=httpx.MockTransport(handler))
    progress.listeners.append(lambda p: batch.stop() if p.state == "waking" else None)
    result = asyncio.run(batch.run())
    assert result.stopped and all(i.error == STOPPED for i in result) and sent == []


def test_a_batch_that_fails_says_so_and_result_raises_it(sbx: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    ready("map-never")

    async def failing_wake(self: Batch, http: Any, probe: Any) -> None:
        raise NotReadyError("Deployment 'map-never' did not wake up within 0 s; check its status and logs.")

    monkeypatch.setattr(Batch, "_wake", failing_wake)

    async def main() -> Any:
        handle = bc_map("map-never", "summarize", TEXTS[:2])
        handle.batch.plan = dataclasses.replace(handle.batch.plan, probe=handle.batch.plan.exchanges[0])
        states: list[str] = []
        handle.progress.listeners.append(lambda p: states.append(p.state))
        with pytest.raises(NotReadyError, match="did not wake up"):
            await handle
        with pytest.raises(NotReadyError, match="did not wake up"):
            handle.result()
        return states, handle

    states, handle = asyncio.run(main())
    assert states[-1] == "failed" and "did not wake up" in repr(handle)


def test_files_go_as_bentoml_clients_send_them(sbx: Any, tmp_path: Any) -> None:
    image = tmp_path / "cat.png"
    image.write_bytes(b"\x89PNG fake bytes")
    raw = tmp_path / "notes.txt"
    raw.write_text("plain bytes", encoding="utf-8")
    ready("map-files")
    checked = plan("map-files", "summarize", [{"image": image, "top_k": 3}, raw], concurrency=1, retries=0,
                   timeout=5, context=None, cluster=None)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    result = asyncio.run(Batch(checked, transport=httpx.MockTransport(handler)).run())
    assert result.outputs == [{"ok": True}] * 2
    form, plain = seen
    assert form.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = form.content
    assert b'name="image"; filename="cat.png"' in body and b"\x89PNG fake bytes" in body
    assert b'name="top_k"' in body and b"\r\n\r\n3\r\n" in body
    assert plain.headers["content-type"] == "text/plain" and plain.content == b"plain bytes"
    with pytest.raises(InvalidInputError, match="input #0: Cannot read"):
        bc_map("map-files", "summarize", [{"image": tmp_path / "missing.png"}])
