"""Protected contexts and the banner: an IPython shell with the extension, and a recorder of every output.

After each test no sandbox token may appear in anything a cell printed or displayed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from IPython.core.interactiveshell import InteractiveShell
from protect_helpers import Shell
from support import SHORT_RETRY

from bentocloud_jupyter.sandbox import Sandbox


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
