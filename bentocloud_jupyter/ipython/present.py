"""``present``: the one place a result becomes what the cell shows, and the one widgets-or-not decision.

* A result with something to follow (``DeploymentView.follow``) becomes a live status: the
  ``DeploymentStatus`` widget where a widget front end runs, else HTML (and text) updated in place through
  a display id, else (no event loop: terminal IPython) the snapshot with a hint to use ``--wait``. It starts
  from the snapshot the verb fetched: no "unknown" frame, no second GET, no second credentials resolution.
* A running batch (``map``, ``bench``) becomes its progress panel, a started log follower a live log view,
  contexts and a complete deployments listing their panels, where widgets render.
* A codespace handle (``code``) becomes its panel where widgets render, else an HTML snapshot updated in
  place through a display id on every change of its state (no event loop: the handle shows itself).
* Anything else shows itself (every result has ``_repr_html_`` and a text ``__repr__``).
"""

from __future__ import annotations

import asyncio
from typing import Any

from bentocloud_jupyter.core.api.following import start_watch, stop_all, unwatch, watch_state, watched
from bentocloud_jupyter.core.calls.handle import BatchHandle
from bentocloud_jupyter.core.codespaces.state import CodespaceState
from bentocloud_jupyter.core.defaults import DEFAULT_TIMEOUT
from bentocloud_jupyter.core.logs.follow import LogFollower
from bentocloud_jupyter.core.results import ContextsView, DeploymentsView, DeploymentView, Follow, StatusView

__all__ = ["present", "show_status", "stop_all", "unwatch", "watched", "widgets_enabled"]


def widgets_enabled() -> bool:
    """True inside a Jupyter kernel (widget front ends: JupyterLab, Notebook 7, VS Code, Colab)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def present(result: Any, *, use_widgets: bool = True) -> Any:
    """What the cell should show for ``result`` (None when it was displayed already)."""
    widgets = use_widgets and widgets_enabled()
    if isinstance(result, DeploymentView) and result.follow is not None:
        return _live_status(result, result.follow, widgets)
    if isinstance(getattr(result, "state", None), CodespaceState):
        return _codespace(result, widgets)
    if widgets and isinstance(result, BatchHandle):
        from bentocloud_jupyter.widgets.batch import BatchPanel

        return BatchPanel(result)
    if isinstance(result, LogFollower):
        from bentocloud_jupyter.widgets.logview import present as present_logs

        return present_logs(result, use_widgets=widgets)
    if widgets and isinstance(result, ContextsView):
        from bentocloud_jupyter.widgets import ContextPicker

        return ContextPicker()
    if widgets and isinstance(result, DeploymentsView) and result.complete:
        from bentocloud_jupyter.widgets import DeploymentsPanel

        return DeploymentsPanel(context=result.requested_context, deployments=result.deployments)
    return result


def show_status(target: DeploymentView | str, *, context: str | None = None, cluster: str | None = None,
                timeout: float = DEFAULT_TIMEOUT, use_widgets: bool = True) -> Any:
    """``bentocloud_jupyter.watch``: show live a verb's result (``bc.watch(bc.deploy(...))``) or a name."""
    if isinstance(target, str):
        from bentocloud_jupyter.core import api

        target = api.status(target, cluster, timeout=timeout, context=context)
    return present(target, use_widgets=use_widgets)


def _live_status(view: DeploymentView, follow: Follow, widgets: bool) -> Any:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        note = f"(no event loop here: run `%bentocloud status {follow.name} --wait` to follow it)"
        return DeploymentView(view.deployment, note=" ".join(filter(None, (view.note, note))),
                              previous_revision=view.previous_revision)
    if widgets:
        from bentocloud_jupyter.widgets import DeploymentStatus

        return DeploymentStatus.following(follow)
    from IPython.display import display

    state = watch_state(follow)
    handle = display(StatusView(state), display_id=True)
    if handle is not None:
        start_watch(follow, on_change=lambda current: handle.update(StatusView(current)), state=state)
    return None


def _codespace(handle: Any, widgets: bool) -> Any:
    """The panel, or a snapshot re-drawn through a display id whenever the engine announces a change."""
    if widgets:
        from bentocloud_jupyter.widgets import CodespacePanel

        return CodespacePanel(handle)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return handle
    from IPython.display import display

    from bentocloud_jupyter.widgets.codespace_view import Coalescer, CodespaceView

    state: CodespaceState = handle.state
    shown = display(CodespaceView(state), display_id=True)
    if shown is not None:
        state.listeners.append(Coalescer(lambda current: shown.update(CodespaceView(current)), interval=0.5))
    return None
