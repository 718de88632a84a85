"""Protected contexts and the banner: an IPython shell with the extension, and a recorder of every output.

After each test no sandbox token may appear in anything a cell printed or displayed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell
from support import SHORT_RETRY

from bentocloud_jupyter.sandbox import Sandbox


@dataclass
class Ran:
    """One cell: its formatted result, what it printed, what it displayed, its error."""

    bundle: dict[str, Any]
    stdout: str
    stderr: str
    error: BaseException | None
    result: Any = None
    displayed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return str(self.bundle.get("text/plain", ""))


class Shell:
    """Runs magics lines in an InteractiveShell and records everything."""

    def __init__(self, ip: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
        self.ip, self.capsys, self.everything = ip, capsys, []  # type: list[str]

    def __call__(self, source: str) -> Ran:
        publisher = CapturingDisplayPublisher()
        self.ip.display_pub = publisher
        outcome = self.ip.run_cell(source, store_history=False)
        out = self.capsys.readouterr()
        bundle = dict(self.ip.display_formatter.format(outcome.result)[0]) if outcome.result is not None else {}
        displayed = [dict(o.get("data", {})) for o in publisher.outputs]
        self.everything += [out.out, out.err, repr(bundle), repr(displayed)]
        error = outcome.error_in_exec or outcome.error_before_exec
        return Ran(bundle, out.out, out.err, error, outcome.result, displayed)


@pytest.fixture(autouse=True)
def fresh_organizations() -> Iterator[None]:
    """The organizations the banner learnt (by whoami, login) are per process: none from another test."""
    from bentocloud_jupyter.core.guardrails.whereami import forget_organizations

    forget_organizations()
    yield
    forget_organizations()


@pytest.fixture()
def cell(sbx_context: Sandbox, capsys: pytest.CaptureFixture[str]) -> Iterator[Shell]:
    """A shell with the extension loaded, logged in to the sandbox as context ``sbx``."""
    from bentocloud_jupyter.core.rest import session

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    session.settings.retry = SHORT_RETRY
    runner = Shell(ip, capsys)
    yield runner
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.settings.retry = None
    assert sbx_context.token not in "\n".join(runner.everything), "a token leaked into an output"
