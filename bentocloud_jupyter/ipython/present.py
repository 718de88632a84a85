"""Live deployment status under a cell, without ever blocking the kernel.

Three tiers: the ``DeploymentStatus`` widget where a kernel with a widget front end runs; else HTML (and
text) updated in place through a display id (nbconvert, frontends without widgets); else, with no
event loop at all (terminal IPython), one snapshot plus a hint to use ``--wait``. Watching always runs
on the kernel's own asyncio loop through the context's :class:`~.core.watch.WatchHub`; no thread ever
posts output.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bentocloud_jupyter.core.credentials.config import resolve_context
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT, Goal, WatchHub, WatchState
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.results import DeploymentView, Message, StatusView

__all__ = ["show_status", "unwatch", "watched"]

_active: dict[str, tuple[WatchHub, WatchState]] = {}


def widgets_enabled() -> bool:
    """True inside a Jupyter kernel (widget front ends: JupyterLab, Notebook 7, VS Code, Colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def show_status(name: str, *, context: str | None = None, cluster: str | None = None,
                previous_revision: str | None = None, goal: Goal = Goal.SETTLED,
                timeout: float = DEFAULT_TIMEOUT, use_widgets: bool = True) -> Any:
    """Start a live display of ``name``; returns what the cell should show (or None if already shown)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        client, _ = session.client_for(context)
        note = f"(no event loop here: run `%bentocloud status {name} --wait` to follow it)"
        return DeploymentView(client.get_deployment(name, cluster), note=note)
    resolved = resolve_context(context)
    if use_widgets and widgets_enabled():
        from bentocloud_jupyter.widgets import DeploymentStatus

        widget = DeploymentStatus(name, context=context, cluster=cluster, previous_revision=previous_revision,
                                  goal=goal, timeout=timeout)
        _active[name] = (session.hub_for(resolved), widget.state)
        return widget
    return _show_html(name, resolved, cluster, WatchState(name, goal, previous_revision, timeout))


def _show_html(name: str, resolved: Any, cluster: str | None, state: WatchState) -> None:
    from IPython.display import display

    handle = display(StatusView(state), display_id=True)
    hub = session.hub_for(resolved)

    def refresh(current: WatchState) -> None:
        if handle is not None:
            handle.update(StatusView(current))
        if current.done and _active.get(name, (None, None))[1] is current:
            del _active[name]

    hub.watch(state, cluster, on_change=refresh)
    _active[name] = (hub, state)
    return None


def watched() -> list[str]:
    """Names of the deployments being watched live."""
    return [name for name, (_, state) in _active.items() if not state.done]


def unwatch(name: str | None = None, all: bool = False) -> Message:
    """Stop the live display of ``name``, or of every deployment with ``all``."""
    names = list(_active) if all or name is None else [name]
    stopped = []
    for item in names:
        hub, state = _active.pop(item, (None, None))
        if hub is not None and state is not None and not state.done:
            with contextlib.suppress(Exception):
                hub.unwatch(item, state)
            stopped.append(item)
    if not stopped:
        return Message("Nothing was being watched." if name is None or all else f"{name!r} was not being watched.")
    return Message(f"Stopped watching {', '.join(repr(n) for n in stopped)}.")


def stop_all() -> None:
    """Cancel every watch (extension unload, kernel shutdown)."""
    _active.clear()
    session.close_all()
