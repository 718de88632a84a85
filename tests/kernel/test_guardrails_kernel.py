"""A real kernel (jupyter_client) and the guardrails: the ledger via ``%bentocloud session``, a TTL that
expires on the kernel's loop, teardown, and the leaving message arriving before the kernel exits after a
shutdown request. Runs on ipykernel 7 (this venv) and, when CI provides it, ipykernel 6
(BENTOCLOUD_JUPYTER_IPYKERNEL6_PYTHON, as in test_kernel_not_blocked)."""

from __future__ import annotations

import queue
import time
from typing import Any

import pytest
from kernels import kernel_pythons

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.sandbox import Sandbox


def run(client: Any, code: str, timeout: float = 30) -> str:
    """Execute ``code``; everything it printed and the text of its results, in one string."""
    messages: list[dict[str, Any]] = []
    reply = client.execute_interactive(code, timeout=timeout, output_hook=messages.append)
    assert reply["content"]["status"] == "ok", reply["content"]
    return "".join(m["content"].get("text", "") + m["content"].get("data", {}).get("text/plain", "")
                   for m in messages if m["msg_type"] in ("stream", "execute_result", "display_data"))


def until_printed(client: Any, code: str, wanted: str, timeout: float = 20) -> str:
    deadline, seen = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        seen = run(client, code)
        if wanted in seen:
            return seen
        time.sleep(0.3)
    pytest.fail(f"{wanted!r} never appeared: {seen}")


def output_until_shutdown(client: Any, timeout: float = 20) -> str:
    """Send a shutdown request; collect iopub stream text until the kernel's shutdown broadcast."""
    client.shutdown()
    deadline, text = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            message = client.get_iopub_msg(timeout=1)
        except queue.Empty:
            continue
        if message["msg_type"] == "stream":
            text += message["content"]["text"]
        if message["msg_type"] == "shutdown_reply":
            return text
    return text


@pytest.mark.parametrize("kernel", kernel_pythons(), indirect=True)
def test_ledger_ttl_teardown_and_leaving_in_a_kernel(kernel: Any) -> None:
    with Sandbox(speed=50.0) as sandbox:
        auth.login(sandbox.url, sandbox.token, "sbx")
        config.set_current_context("sbx")
        run(kernel, "%load_ext bentocloud_jupyter\n%config BentoCloudMagics.widgets = False")
        run(kernel, "%deploy summarizer:v3 -n gk-one")
        assert "gk-one" in until_printed(kernel, "%bentocloud session", "running")
        run(kernel, "%deploy summarizer:v3 -n gk-ttl --ttl 2s")
        until_printed(kernel, "from bentocloud_jupyter.core.guardrails import ttl\nprint(ttl.notices())",
                      "'gk-ttl' expired")
        assert "terminat" in until_printed(kernel, "%bentocloud session", "gk-ttl")
        assert "1 terminated" in run(kernel, "%bentocloud teardown --yes")
        assert "Nothing to tear down" in run(kernel, "%bentocloud teardown --yes")
        run(kernel, "%deploy summarizer:v3 -n gk-left")
        said = output_until_shutdown(kernel)
        assert "gk-left" in said and "%bentocloud teardown" in said
        assert "gk-one" not in said


TIMERS = "from bentocloud_jupyter.core.guardrails import ttl\nprint([t.name for t in ttl.timers()])"


@pytest.mark.parametrize("kernel", kernel_pythons(), indirect=True)
def test_reload_keeps_one_timer_and_unload_stops_it_in_a_kernel(kernel: Any) -> None:
    with Sandbox(speed=50.0) as sandbox:
        auth.login(sandbox.url, sandbox.token, "sbx")
        config.set_current_context("sbx")
        run(kernel, "%load_ext bentocloud_jupyter\n%config BentoCloudMagics.widgets = False")
        run(kernel, "%deploy summarizer:v3 -n gk-re --ttl 3s")
        assert "gk-re" not in run(kernel, "%reload_ext bentocloud_jupyter")
        assert "gk-re" in run(kernel, TIMERS)
        until_printed(kernel, "from bentocloud_jupyter.core.guardrails import ttl\nprint(ttl.notices())",
                      "'gk-re' expired")
        count = "print('fired', sum(\"'gk-re' expired\" in n for n in ttl.notices()), 'times')"
        assert "fired 1 times" in run(kernel, count)
        run(kernel, "%deploy summarizer:v3 -n gk-un --ttl 1h")
        said = run(kernel, "%unload_ext bentocloud_jupyter")
        assert "gk-un" in said and "timer stops with the extension" in said
        assert "gk-un" not in run(kernel, TIMERS)
        run(kernel, "%load_ext bentocloud_jupyter")
        assert "gk-un" in run(kernel, TIMERS)
