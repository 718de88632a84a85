"""What the fuzz tests share: the seed, a per-call time budget, and putting the sandbox context back.

The seed is fixed so a CI failure replays exactly (``BCJ_FUZZ_SEED=n`` tries another run); every
reported case names its seed and input.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable
from typing import Any, TypeVar

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.tokens import Token

T = TypeVar("T")
SEED = int(os.environ.get("BCJ_FUZZ_SEED", "20240616"))


class Hang(BaseException):
    """Raised by the alarm when one cell or call outlives its budget (BaseException: nothing swallows it)."""


def within(seconds: float, run: Callable[[], T]) -> T:
    """``run()``, interrupted with :class:`Hang` after ``seconds`` (SIGALRM, main thread)."""
    def ring(signum: int, frame: Any) -> None:
        raise Hang(f"still running after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return run()
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def log_in(sandbox: Any) -> None:
    """Make ``sbx`` (the sandbox) the current context again, whatever the last line did to the file."""
    try:
        cfg = config.load_config()
        if cfg.current_context_name == "sbx" and any(c.name == "sbx" and c.endpoint == sandbox.url
                                                     for c in cfg.contexts):
            return
    except Exception:
        config.credentials_path().unlink(missing_ok=True)  # a line left it unreadable: start afresh
    config.save_context(config.Context("sbx", sandbox.url, Token(sandbox.token), "you@sandbox.local"))
    config.set_current_context("sbx")
