"""The cell runner of the protection tests: runs magics lines in an InteractiveShell and records every output."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell


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
