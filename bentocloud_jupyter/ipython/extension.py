"""Loading and unloading the IPython extension: idempotent registration, clean shutdown.

Loading stays light: only the magics class and the completion hooks are imported here; the HTTP
client, YAML, asyncio machinery and the core API load with the first magic that needs them.

Leaving (``%unload_ext``, or a kernel shutdown) says once what this kernel left running in BentoCloud and
the one command that stops it. The shutdown hook wraps the kernel instance's ``do_shutdown``: ipykernel 6
and 7 both call it from ``shutdown_request`` before they send the reply and stop, so output printed there
still reaches the front end (``atexit`` runs after the kernel's streams are gone).

Loading also makes the shell's tracebacks pass through :func:`~.tokens.redact`: with ``%xmode Verbose`` a
traceback shows the values of each frame's variables, and the frames of the HTTP and websocket libraries
hold the headers we gave them, token included (our own frames hold :class:`~.tokens.Token` objects).
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from typing import Any

__all__ = ["at_exit", "load", "say_goodbye", "unload"]

_loaded: dict[int, Any] = {}


def load(ipython: Any) -> None:
    """Register ``%bentocloud``, ``%deploy`` (line and cell) and the completers; a second load changes nothing."""
    if id(ipython) in _loaded:
        return
    from bentocloud_jupyter.ipython.completion import complete_bentocloud, complete_deploy
    from bentocloud_jupyter.ipython.magics import BentoCloudMagics

    magics = BentoCloudMagics(shell=ipython, parent=ipython)
    ipython.register_magics(magics)
    ipython.set_hook("complete_command", complete_bentocloud, str_key="%bentocloud")
    ipython.set_hook("complete_command", complete_deploy, str_key="%deploy")
    _loaded[id(ipython)] = magics
    _guard_tracebacks(ipython)
    _hook_shutdown(getattr(ipython, "kernel", None))
    _resume_timers()
    atexit.unregister(at_exit)  # once, however often the extension is loaded again
    atexit.register(at_exit)


def unload(ipython: Any) -> None:
    """Stop all background work (TTL timers too: armed again by the next load) and remove the magics."""
    magics = _loaded.pop(id(ipython), None)
    if magics is not None and not _reloading():
        say_goodbye(unloading=True)
    _unhook_shutdown(getattr(ipython, "kernel", None))
    _shutdown()
    ttl = sys.modules.get("bentocloud_jupyter.core.guardrails.ttl")
    if ttl is not None:
        ttl.suspend()
    _unguard_tracebacks(ipython)
    if magics is None:
        return
    for kind in ("line", "cell"):
        table = ipython.magics_manager.magics.get(kind, {})
        for name in ("bentocloud", "deploy"):
            table.pop(name, None)
    ipython.magics_manager.registry.pop(type(magics).__name__, None)


def _reloading() -> bool:
    """Unloaded by ``%reload_ext`` (IPython's ``reload_extension`` is on the stack): the extension comes
    straight back with its timers, so there is no leaving to announce."""
    frame = sys._getframe(1)
    while frame is not None:
        if frame.f_code.co_name == "reload_extension" and "IPython" in frame.f_code.co_filename:
            return True
        frame = frame.f_back  # type: ignore[assignment]
    return False


def _guard_tracebacks(ipython: Any) -> None:
    """Wrap the shell's traceback formatter (every mode, %tb, and the kernel's error messages) with redact."""
    formatter = getattr(ipython, "InteractiveTB", None)
    if formatter is None or getattr(formatter.structured_traceback, "bentocloud_redacting", False):
        return
    from bentocloud_jupyter.core.tokens import redact

    original = formatter.structured_traceback

    def structured_traceback(*args: Any, **kwargs: Any) -> Any:
        lines = original(*args, **kwargs)
        return [redact(line) if isinstance(line, str) else line for line in lines]

    structured_traceback.bentocloud_redacting = True  # type: ignore[attr-defined]
    formatter.structured_traceback = structured_traceback


def _unguard_tracebacks(ipython: Any) -> None:
    formatter: Any = getattr(ipython, "InteractiveTB", None)
    wrapped = vars(formatter).get("structured_traceback") if formatter is not None else None
    if getattr(wrapped, "bentocloud_redacting", False):
        del formatter.structured_traceback


def _resume_timers() -> None:
    """Arm the TTL timers an earlier unload stopped (``%reload_ext``), once each."""
    ttl = sys.modules.get("bentocloud_jupyter.core.guardrails.ttl")
    if ttl is not None and ttl.suspended():
        ttl.resume()


def say_goodbye(unloading: bool = False) -> None:
    """Print what this kernel left running (nothing when it left nothing), flushed so it is delivered."""
    ledger = sys.modules.get("bentocloud_jupyter.core.guardrails.ledger")
    if ledger is None:  # never imported: this kernel started nothing
        return
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    message = leaving_message(unloading)
    lines = [message] if message else []
    lines += _attached_notes({entry.name for entry in ledger.left_running()})
    if lines:
        print("\n".join(lines), flush=True)


def _attached_notes(listed: set[str]) -> list[str]:
    """Codespaces this kernel syncs but did not start (attached): each keeps running, and how to stop it."""
    handles = sys.modules.get("bentocloud_jupyter.core.codespaces.handle")
    if handles is None:
        return []
    return [handles.leaving_note(cs.state) for cs in handles.all_attached()
            if cs.state.name not in listed and cs.state.phase.value != "terminated"]


def at_exit() -> None:
    """At interpreter exit: a shell with no kernel (terminal IPython, which has no shutdown request) says
    goodbye here, where its terminal still shows it; then all background work stops."""
    if any(getattr(getattr(magics, "shell", None), "kernel", None) is None for magics in _loaded.values()):
        with contextlib.suppress(Exception):  # an exit must never fail on a goodbye
            say_goodbye()
    _shutdown()


def _hook_shutdown(kernel: Any) -> None:
    """Say goodbye when the kernel is asked to shut down, before it replies (once per kernel)."""
    if kernel is None or getattr(vars(kernel).get("do_shutdown"), "bentocloud_goodbye", False):
        return
    original = kernel.do_shutdown

    def do_shutdown(restart: bool) -> Any:
        try:
            say_goodbye()
        except Exception as exc:  # a goodbye must never stop a shutdown
            print(f"(bentocloud: could not list what this kernel left running: {type(exc).__name__})")
        return original(restart)

    do_shutdown.bentocloud_goodbye = True  # type: ignore[attr-defined]
    kernel.do_shutdown = do_shutdown


def _unhook_shutdown(kernel: Any) -> None:
    if kernel is not None and getattr(vars(kernel).get("do_shutdown"), "bentocloud_goodbye", False):
        del kernel.do_shutdown


def _shutdown() -> None:
    """Stop followers, watchers and connections, touching only modules already imported.

    A module that was never imported has nothing running, so shutting down (at exit, or on unload)
    never pays for importing the client just to find there is nothing to close.
    """
    follow = sys.modules.get("bentocloud_jupyter.core.logs.follow")
    if follow is not None:
        follow.stop_following(all=True)
    handles = sys.modules.get("bentocloud_jupyter.core.codespaces.handle")
    if handles is not None:  # the live syncs stop; the codespaces keep running (said by the goodbye)
        handles.detach_all()
    present = sys.modules.get("bentocloud_jupyter.ipython.present")
    session = sys.modules.get("bentocloud_jupyter.core.rest.session")
    if present is not None:
        present.stop_all()
    elif session is not None:
        session.close_all()
