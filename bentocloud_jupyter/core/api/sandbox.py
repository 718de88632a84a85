"""Start and stop the local BentoCloud sandbox inside the kernel (``%bentocloud sandbox``).

Starting saves a context named ``sandbox`` pointing at it and makes it current, remembering which
context was current before (in the sandbox context itself, so ``--stop`` works even after a kernel
restart); stopping removes that context and switches back.
"""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.results import Message
from bentocloud_jupyter.core.tokens import Token

__all__ = ["SANDBOX_CONTEXT", "running_sandbox", "start_sandbox", "stop_sandbox"]

SANDBOX_CONTEXT = "sandbox"
_PREVIOUS_KEY = "bentocloud_jupyter_previous_context"
_running: Any = None


def running_sandbox() -> Any:
    """The sandbox started by this kernel, or None."""
    return _running


def start_sandbox(port: int = 0, speed: float = 1.0) -> Message:
    """Start the sandbox on 127.0.0.1 and make context ``sandbox`` current.

    Raises:
        InvalidInputError: the ``sandbox`` extra (starlette, uvicorn) is not installed.
    """
    global _running
    if _running is not None:
        return Message(f"The sandbox is already running at {_running.url} (context {SANDBOX_CONTEXT!r}).")
    try:
        from bentocloud_jupyter.sandbox.server import Sandbox
    except ImportError:
        raise InvalidInputError("The sandbox needs the `sandbox` extra: pip install 'bentocloud-jupyter[sandbox]', "
                                "then restart the kernel.") from None
    sandbox = Sandbox(port=port, speed=speed).start()
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
