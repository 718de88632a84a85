"""Start and stop the local BentoCloud sandbox inside the kernel (``%bentocloud sandbox``).

Starting saves a context named ``sandbox`` pointing at it and makes it current, remembering which
context was current before (in the sandbox context itself, so ``--stop`` works even after a kernel
restart); stopping removes that context and switches back.
"""

from __future__ import annotations

import math
import socket
from typing import Any

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.results import Message
from bentocloud_jupyter.core.tokens import Token

__all__ = ["MAX_SPEED", "SANDBOX_CONTEXT", "running_sandbox", "start_sandbox", "stop_sandbox"]

SANDBOX_CONTEXT = "sandbox"
_PREVIOUS_KEY = "bentocloud_jupyter_previous_context"
MAX_SPEED = 10_000.0  # faster than this, every lifecycle step is shorter than a poll
_running: Any = None


def running_sandbox() -> Any:
    """The sandbox started by this kernel, or None."""
    return _running


def start_sandbox(port: int = 0, speed: float = 1.0) -> Message:
    """Start the sandbox on 127.0.0.1 and make context ``sandbox`` current.

    Raises:
        InvalidInputError: a port outside 0..65535 or in use, a speed that is not a number above 0, or the
        ``sandbox`` extra (starlette, uvicorn) is not installed.
    """
    global _running
    if _running is not None:
        return Message(f"The sandbox is already running at {_running.url} (context {SANDBOX_CONTEXT!r}).")
    _check(port, speed)
    if not _port_free(port):
        raise InvalidInputError(f"Port {port} on 127.0.0.1 is in use; pick another port, or 0 for any free one.")
    try:
        from bentocloud_jupyter.sandbox.server import Sandbox
    except ImportError:
        raise InvalidInputError("The sandbox needs the `sandbox` extra: pip install 'bentocloud-jupyter[sandbox]', "
                                "then restart the kernel.") from None
    try:
        sandbox = Sandbox(port=port, speed=speed).start()
    except RuntimeError:
        raise InvalidInputError(f"The sandbox could not listen on 127.0.0.1:{port} (is the port in use?); pick another "
                                "port, or 0 for any free one.") from None
    cfg = config.load_config()
    previous = cfg.current_context_name
    existing = cfg.find(SANDBOX_CONTEXT)
    if existing is not None:  # a leftover from an earlier run: keep the context it remembered
        previous = existing.extra.get(_PREVIOUS_KEY, previous)
    extra = {_PREVIOUS_KEY: previous} if previous != SANDBOX_CONTEXT else {}
    config.save_context(Context(SANDBOX_CONTEXT, sandbox.url, Token(sandbox.token), "you@sandbox.local", extra))
    config.set_current_context(SANDBOX_CONTEXT)
    _running = sandbox
    return Message(f"Sandbox running at {sandbox.url}; context {SANDBOX_CONTEXT!r} is now current "
                   f"(previous: {previous!r}). No account needed; `%bentocloud sandbox --stop` switches back.")


def _check(port: Any, speed: Any) -> None:
    """Refuse what would fail inside the server thread (an out-of-range port) or stall it (speed 0, NaN, inf)."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise InvalidInputError(f"The sandbox port must be a whole number from 0 (any free port) to 65535, not "
                                f"{port!r}.")
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not (math.isfinite(speed) and speed > 0):
        raise InvalidInputError(f"The sandbox speed must be a number above 0 (e.g. 10), not {speed!r}.")
    if speed > MAX_SPEED:
        raise InvalidInputError(f"The sandbox speed is at most {MAX_SPEED:g}, not {speed!r}.")


def _port_free(port: int) -> bool:
    """Whether the sandbox could listen on ``port`` (asked first: the server would log its own error lines)."""
    if port == 0:
        return True
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def stop_sandbox() -> Message:
    """Stop the sandbox, remove its context and make the previous context current again."""
    global _running
    if _running is not None:
        _running.stop()
        _running = None
    cfg = config.load_config()
    ctx = cfg.find(SANDBOX_CONTEXT)
    if ctx is None:
        return Message("No sandbox is running.")
    previous = ctx.extra.get(_PREVIOUS_KEY)
    after = config.remove_context(SANDBOX_CONTEXT)
    if previous and after.find(str(previous)) is not None:
        config.set_current_context(str(previous))
        return Message(f"Sandbox stopped; the current context is {previous!r} again.")
    return Message(f"Sandbox stopped; current context: {after.current_context_name!r}.")
