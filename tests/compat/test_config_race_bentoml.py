"""The real ``bentoml`` writing the credentials file while our writers do: no seeded context is lost.

``bentoml`` rewrites the file in place without a lock (truncate, then write), so our writers, inside
their lock, can read it empty or half-written; before :mod:`bentocloud_jupyter.core.credentials.guard`
they wrote back only what they had read, and every seeded context was gone. Two races, each bounded to
a few seconds, against the sandbox on 127.0.0.1:

* the ``bentoml cloud login`` command itself, three times (each run spends about a second starting up
  and writes once, so the window is rarely hit: this one checks the real command end to end);
* a loop of ``CloudClientContext.save()``, the call ``cloud login`` writes with, in a ``bentoml``
  process, which hits the window many times a run.

Run in the compat venv: ``.venv-compat/bin/python -m pytest tests/compat/test_config_race_bentoml.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import make_sandbox_fixture

from bentocloud_jupyter.core.credentials import config, guard
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import ConfigError, ContextNotFoundError
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.sandbox import Sandbox

sandbox = make_sandbox_fixture(scope="function")

LOGINS = 3
SAVE_LOOP_SECONDS = 3.0
SEEDED = [Context(f"seeded{i}", f"https://org{i}.example", Token(f"token-{i:02d}-seeded-secret"),
                  f"u{i}@example.com") for i in range(9)]

SAVE_LOOP = """
import os, sys, time
from bentoml._internal.cloud.config import CloudClientContext
deadline, i = time.monotonic() + float(sys.argv[1]), 0
while time.monotonic() < deadline:
    CloudClientContext(name=f"loop{i % 3}", endpoint="https://loop.example", api_token=f"loop-token-{i}",
                       email=None).save(ignore_warning=True)
    i += 1
    time.sleep(0.003)
print(i)
"""


def _bentoml_env() -> dict[str, str]:
    env = dict(os.environ, BENTOML_DO_NOT_TRACK="True")  # BENTOML_HOME: this test's (tests/conftest.py)
    for name in ("BENTO_CLOUD_API_KEY", "BENTO_CLOUD_API_ENDPOINT", "BENTOML_CLOUD_CONTEXT"):
        env.pop(name, None)
    return env


def _bentoml_command() -> list[str]:
    script = Path(sys.executable).with_name("bentoml")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bentoml"]


def _our_writer(worker: int, done: threading.Event, written: list[list[str]], errors: list[str]) -> None:
    """Saves a context, then removes it (a removal we ask for), with idle moments, until bentoml is done."""
    step = 0
    while not done.is_set():
        name = f"ours{worker}-{step // 2}"
        try:
            if step % 2 == 0:
                written.append(config.save_context(Context(name, "https://ours.example", Token("t-ours"))).names)
            else:
                written.append(config.remove_context(name).names)
        except ContextNotFoundError:
            pass  # bentoml rewrote the file from an older read of its own, without our context
        except ConfigError as exc:  # refused rather than guessed: allowed, as long as it says so
            if "kept changing" not in str(exc):
                errors.append(str(exc))
        step += 1
        done.wait(0.01)  # idle moments, as between two commands


def _race(run_bentoml: Callable[[], list[subprocess.CompletedProcess[str]]],
          monkeypatch: pytest.MonkeyPatch) -> int:
    """Seed, run ``bentoml`` against two writers of ours, check every seeded context; returns how many
    of our reads caught ``bentoml`` mid-write."""
    for ctx in SEEDED:
        config.save_context(ctx)
    caught = []
    real = guard.complete_config

    def counting(raw: bytes | None, path: Path) -> Any:
        parsed = real(raw, path)
        if parsed is None:
            caught.append(raw)
        return parsed

    monkeypatch.setattr(guard, "complete_config", counting)
    written: list[list[str]] = []
    errors: list[str] = []
    done = threading.Event()
    writers = [threading.Thread(target=_our_writer, args=(n, done, written, errors)) for n in range(2)]
    for writer in writers:
        writer.start()
    try:
        runs = run_bentoml()
    finally:
        done.set()
        for writer in writers:
            writer.join(timeout=60)
    assert [run.returncode for run in runs] == [0] * len(runs), [run.stderr[-500:] for run in runs]
    assert errors == []
    seeded = {ctx.name for ctx in SEEDED}
    assert written, "our writers never wrote: the test proves nothing"
    assert all(seeded <= set(names) for names in written), "one of our writes dropped a seeded context"
    final = config.load_config()
    assert [ctx for ctx in final.contexts if ctx.name in seeded] == SEEDED
    assert [ctx.api_token.reveal() for ctx in final.contexts if ctx.name in seeded] == \
        [ctx.api_token.reveal() for ctx in SEEDED]
    return len(caught)


def test_bentoml_cloud_login_racing_our_writers_loses_no_seeded_context(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    def logins() -> list[subprocess.CompletedProcess[str]]:
        return [subprocess.run([*_bentoml_command(), "cloud", "login", "--context", f"bml{i}", "--endpoint",
                                sandbox.url, "--api-token", sandbox.token],
                               env=_bentoml_env(), capture_output=True, text=True, timeout=60)
                for i in range(LOGINS)]

    _race(logins, monkeypatch)


def test_bentoml_save_loop_racing_our_writers_loses_no_seeded_context(monkeypatch: pytest.MonkeyPatch) -> None:
    def save_loop() -> list[subprocess.CompletedProcess[str]]:
        return [subprocess.run([sys.executable, "-c", SAVE_LOOP, str(SAVE_LOOP_SECONDS)], env=_bentoml_env(),
                               capture_output=True, text=True, timeout=60)]

    caught = _race(save_loop, monkeypatch)
    print(f"our reads caught bentoml mid-write {caught} times")  # (shown with -s; no count is promised)
