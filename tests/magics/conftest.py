"""An IPython shell with the extension loaded, a live sandbox, and a recorder of EVERY output.

Every output of every magics test (stdout, stderr, each mimetype of results and of display data,
warnings, log records) is collected; after the test, no sandbox token may appear in any of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import SECRETS, Cell
from support import SHORT_RETRY, make_sandbox_fixture

from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="module", then=lambda sb: SECRETS.add(sb.token))


@pytest.fixture()
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    session.settings.retry = SHORT_RETRY
    yield ip
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.settings.retry = None


@pytest.fixture()
def cell(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], sandbox: Sandbox,
         caplog: pytest.LogCaptureFixture) -> Iterator[Cell]:
    """Run cells; afterwards assert that no token appeared in any output, warning or log."""
    sandbox.faults.reset()
    caplog.set_level(logging.DEBUG)
    recorder = Cell(shell, capsys)
    yield recorder
    sandbox.faults.reset()
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
