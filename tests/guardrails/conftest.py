"""An IPython shell with the extension loaded and a logged-in sandbox context, for the guardrails tests.

The ledger lives in the process: every test starts with it empty, so one test's deployments never show
up in another's ``session``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from support import SHORT_RETRY, make_sandbox_fixture

from bentocloud_jupyter.core.guardrails import ledger, ttl
from bentocloud_jupyter.core.rest import session

sandbox = make_sandbox_fixture(scope="module", speed=50.0)


@dataclass
class Ran:
    """One cell: its result's text and HTML, what it printed, and its error."""

    text: str
    html: str
    out: str
    error: BaseException | None
    displayed: list[str]


class Shell:
    """Runs magics the way a notebook cell does."""

    def __init__(self, ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
        self.ip, self.capsys = ip, capsys

    def __call__(self, source: str) -> Ran:
        publisher = CapturingDisplayPublisher()
        self.ip.display_pub = publisher
        outcome = self.ip.run_cell(source, store_history=False)
        captured = self.capsys.readouterr()
        data: dict[str, Any] = {}
        if outcome.result is not None:
            data = dict(self.ip.display_formatter.format(outcome.result)[0])
        shown = [str(dict(getattr(o, "data", None) or o.get("data", {})).get("text/plain", ""))
                 for o in publisher.outputs]
        return Ran(str(data.get("text/plain", "")), str(data.get("text/html", "")), captured.out + captured.err,
                   outcome.error_in_exec or outcome.error_before_exec, shown)


@pytest.fixture(autouse=True)
def empty_ledger() -> Iterator[None]:
    """Each test starts and ends with nothing in the ledger and no timer."""
    _clear()
    yield
    _clear()


def _clear() -> None:
    for entry in ledger.entries():
        ledger.forget(entry.context, entry.name, entry.cluster)
    ttl.cancel_all()


@pytest.fixture()
def shell(sbx_context: Any, capsys: pytest.CaptureFixture[str]) -> Iterator[Shell]:
    """A shell with the extension, logged in to the sandbox as context ``sbx``; widgets off (headless)."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    ip.run_line_magic("config", "BentoCloudMagics.widgets = False")
    session.settings.retry = SHORT_RETRY
    yield Shell(ip, capsys)
    ip.run_line_magic("config", "BentoCloudMagics.widgets = True")  # the shell is shared: leave it as found
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.settings.retry = None

