"""The fuzz's fixtures: a shell logged in to a sandbox (module-wide), no prompts, a deep working folder."""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from support import SHORT_RETRY, make_sandbox_fixture

from bentocloud_jupyter.core.rest import session

sandbox = make_sandbox_fixture(scope="module", speed=50.0)


@pytest.fixture()
def no_prompts(monkeypatch: pytest.MonkeyPatch) -> None:
    """No hidden prompt or question may wait for a human: both behave as a closed stdin."""
    def closed(*args: Any, **kwargs: Any) -> str:
        raise EOFError

    monkeypatch.setattr(getpass, "getpass", closed)
    monkeypatch.setattr("builtins.input", closed)


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deep working folder, so relative paths such as ``../../x`` stay inside the test's tmp_path."""
    here = tmp_path / "a" / "b" / "c"
    here.mkdir(parents=True)
    monkeypatch.chdir(here)
    return here


@pytest.fixture()
def fuzz_shell(sandbox: Any, no_prompts: None, workdir: Path) -> Iterator[InteractiveShell]:
    """An IPython shell with the extension loaded; everything a fuzzed line started is stopped afterwards."""
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    session.settings.retry = SHORT_RETRY
    sandbox.faults.reset()
    yield ip
    _stop_everything(ip)
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")
    session.settings.retry = None
    session.close_all()


def _stop_everything(ip: InteractiveShell) -> None:
    from bentocloud_jupyter.core.api import sandbox as local_sandbox

    ip.run_cell("%bentocloud unwatch --all", store_history=False)
    with contextlib.suppress(Exception):  # none was running
        local_sandbox.stop_sandbox()
