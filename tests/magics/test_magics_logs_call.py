"""`%bentocloud logs` and `%bentocloud call` in an IPython shell against the sandbox: results, one-line
errors, follow mode on the loop (HTML updated in place), unwatch, help and completion. The `cell` fixture
checks that no token reaches any output."""

from __future__ import annotations

import asyncio
import time

from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import Cell, Run
from support import ready_by_magic

from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.ipython import completion
from bentocloud_jupyter.sandbox import Sandbox


def one_line(run: Run, *fragments: str) -> None:
    assert type(run.error) is UsageError, f"expected a UsageError, got {run.error!r}"
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("UsageError: ") and "Traceback" not in run.stderr, run.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_call_shows_the_response_and_its_latency(logged_in: Cell) -> None:
    name = ready_by_magic(logged_in, "mc-sum")
    run = logged_in(f"""%bentocloud call {name} summarize --json '{{"text": "<i>Hi</i> there. More."}}'""")
    assert run.error is None and run.text.startswith(f"200 from {name}/summarize in ") and " ms\n" in run.text
    assert '"summary": "<i>Hi</i> there."' in run.text
    assert "&lt;i&gt;Hi&lt;/i&gt; there." in run.html and "<i>Hi" not in run.html


def test_call_a_protected_deployment(logged_in: Cell) -> None:
    name = ready_by_magic(logged_in, "mc-auth", "iris_classifier:v1", "--access-authorization true")
    run = logged_in(f"""%bentocloud call {name} classify --json '{{"input_data": [[1, 2, 3, 4]]}}'""")
    assert run.error is None and run.text.endswith("[\n  2\n]")


def test_call_failures_are_one_line(logged_in: Cell, sandbox: Sandbox) -> None:
    name = ready_by_magic(logged_in, "mc-sum")
    one_line(logged_in(f"%bentocloud call {name} nope"), "no API 'nope'", "404")
    one_line(logged_in(f"""%bentocloud call {name} summarize --json '{{"txt": 1}}'"""), "body.text: field required")
    one_line(logged_in(f"%bentocloud call {name} summarize --json '{{oops'"), "not valid JSON")
    one_line(logged_in(f"%bentocloud call {name} summarize --json '{{}}' --file x.json"), "not allowed with")
    one_line(logged_in("%bentocloud call mc-ghost summarize"), "'mc-ghost'", "not found")
    frozen = time.time()
    sandbox.state.clock = lambda: frozen
    try:
        logged_in("%deploy summarizer:v3 -n mc-wait")
        one_line(logged_in("%bentocloud call mc-wait summarize"), "is deploying, not ready")
    finally:
        sandbox.state.clock = time.time


def test_logs_show_recent_lines(logged_in: Cell) -> None:
    name = ready_by_magic(logged_in, "mc-sum")
    run = logged_in(f"%bentocloud logs {name} --tail 2")
    assert run.error is None and f"==> {name}-summarizer-" in run.text and "(main) <==" in run.text
    assert len(run.text.splitlines()) == 4 and "<pre" in run.html
    failed = ready_by_magic(logged_in, "mc-fail", "fail-demo:v1")
    run = logged_in(f"%bentocloud logs {failed}")
    assert "(builder)" in run.text and "ERROR: No matching distribution found" in run.text
    one_line(logged_in("%bentocloud logs mc-ghost"), "'mc-ghost'", "not found")
    one_line(logged_in("%bentocloud logs mc-sum --tail many"), "--tail")


def test_follow_needs_the_kernel_loop(logged_in: Cell) -> None:
    name = ready_by_magic(logged_in, "mc-sum")
    one_line(logged_in(f"%bentocloud logs {name} --follow"), "running event loop")


def test_follow_updates_one_display_until_unwatched(logged_in: Cell, shell: InteractiveShell) -> None:
    name = ready_by_magic(logged_in, "mc-sum")

    async def main() -> tuple[Run, Run, list[dict[str, object]]]:
        run = logged_in(f"%bentocloud logs {name} --follow")  # the kernel runs cells inside its loop
        outputs = shell.display_pub.outputs  # type: ignore[attr-defined]
        deadline = time.monotonic() + 5
        while "Starting production HTTP BentoServer" not in repr(outputs[-1]):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        assert logfollow.following() == [name]
        stopped = logged_in(f"%bentocloud unwatch {name}")
        settle = time.monotonic() + 5  # the cancelled stream closes its websocket, then redraws once more
        while "stopped" not in repr(shell.display_pub.outputs[-1:]) and time.monotonic() < settle:  # type: ignore
            await asyncio.sleep(0.02)
        return run, stopped, [*outputs, *shell.display_pub.outputs]  # type: ignore[attr-defined]

    run, stopped, outputs = asyncio.run(main())
    logged_in.everything.append(repr(outputs))  # checked for tokens by the fixture
    assert run.error is None and run.result is None and len(run.displayed) == 1
    assert "text/html" in run.displayed[0] and "Logs of" in str(run.displayed[0]["text/plain"])
    assert stopped.text == f"Stopped following the logs of '{name}'." and logfollow.following() == []
    assert "stopped" in str(outputs[-1])
    assert "Nothing was being watched" in logged_in("%bentocloud unwatch --all").text


def test_help_and_completion(logged_in: Cell, shell: InteractiveShell) -> None:
    name = ready_by_magic(logged_in, "mc-sum")
    overview = logged_in("%bentocloud help").text
    assert "logs" in overview and "call" in overview
    assert "--json" in logged_in("%bentocloud call --help").text
    assert "--follow" in logged_in("%bentocloud logs --help").text

    from IPython.core.completer import provisionalcompleter

    def complete(line: str) -> list[str]:
        completion._cache.clear()
        with provisionalcompleter():
            return [c.text for c in shell.Completer.completions(line, len(line))]

    assert name in complete("%bentocloud logs mc-")
    assert name in complete("%bentocloud call mc-s")
    assert "summarize" in complete(f"%bentocloud call {name} su")
    completion._cache.clear()
    event = type("Event", (), {"line": f"%bentocloud call {name} ", "symbol": ""})()
    assert completion.complete_bentocloud(shell, event) == ["summarize"]
