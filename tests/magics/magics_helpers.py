"""The cell runner of the magics tests: records EVERY output of every cell.

Every output of every magics test (stdout, stderr, each mimetype of results and of display data,
warnings, log records) is collected; after the test, no sandbox token may appear in any of it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from IPython.core.interactiveshell import InteractiveShell

SECRETS: set[str] = set()


@dataclass
class Run:
    """The outcome of one cell: its result, its formatted bundle, what it printed and displayed."""

    result: Any
    error: BaseException | None
    bundle: dict[str, Any]
    stdout: str
    stderr: str
    displayed: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return str(self.bundle.get("text/plain", ""))

    @property
    def html(self) -> str:
        return str(self.bundle.get("text/html", ""))


class Cell:
    """Runs cells in the shell and records everything they output."""

    def __init__(self, shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
        self.shell = shell
        self.capsys = capsys
        self.everything: list[str] = []

    def __call__(self, source: str) -> Run:
        publisher = CapturingDisplayPublisher()
        self.shell.display_pub = publisher
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            outcome = self.shell.run_cell(source, store_history=False)
        captured = self.capsys.readouterr()
        value = outcome.result
        bundle: dict[str, Any] = {}
        if value is not None:
            data, _ = self.shell.display_formatter.format(value)
            bundle = dict(data)
        displayed = [dict(getattr(o, "data", None) or o.get("data", {})) for o in publisher.outputs]
        self.everything += [captured.out, captured.err, repr(bundle), repr(displayed)]
        self.everything += [str(w.message) for w in caught]
        error = outcome.error_in_exec or outcome.error_before_exec
        return Run(value, error, bundle, captured.out, captured.err, displayed, [str(w.message) for w in caught])
