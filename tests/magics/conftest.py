"""An IPython shell with the extension loaded, a live sandbox, and a recorder of EVERY output.

Every output of every magics test (stdout, stderr, each mimetype of results and of display data,
warnings, log records) is collected; after the test, no sandbox token may appear in any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import FAST_RETRY, SECRETS, Cell

from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=50) as sb:
        SECRETS.add(sb.token)
        yield sb


@pytest.fixture()
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    session.settings.retry = FAST_RETRY
    yield ip
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.settings.retry = None


@pytest.fixture()
def cell(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], sandbox: Sandbox,
         caplog: pytest.LogCaptureFixture) -> Iterator[Cell]:
    """Run cells; afterwards assert that no token appeared in any output, warning or log."""
    sandbox.faults.__init__()  # type: ignore[misc]
    caplog.set_level(logging.DEBUG)
    recorder = Cell(shell, capsys)
    yield recorder
    sandbox.faults.__init__()  # type: ignore[misc]
    everything = "\n".join([*recorder.everything, caplog.text])
    for secret in SECRETS:
        assert secret not in everything, "a token leaked into an output"


@pytest.fixture()
def logged_in(cell: Cell, sandbox: Sandbox) -> Cell:
    """A shell whose current context ``sbx`` points at the sandbox (saved through the core, not the magic)."""
    from bentocloud_jupyter.core.credentials import auth, config

    auth.login(sandbox.url, sandbox.token, "sbx")
    config.set_current_context("sbx")
    return cell
