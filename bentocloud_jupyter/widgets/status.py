"""A live status card for one deployment, driven by the context's shared watcher hub.

The hub polls on the kernel's loop (one request per tick for every watch of a context); each change
sets the HTML widget's ``value``, which reaches the front end as a comm message. The display bundle
also carries ``text/html`` and ``text/plain`` snapshots, and the output is updated once the watch
ends, so a saved notebook (nbconvert, nbviewer, GitHub) shows the final state without widget state.

While the status is ``image-building`` the image builder's log streams into a collapsible, bounded
:class:`~.logview.LogView` (a task on the loop, stopped a few seconds after the build ends so its last
lines arrive, or at once when watching stops); its failures show as one line there and never touch
the watch. Once the deployment is ready, a :class:`~.callform.CallForm` offers its APIs.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.api import following
from bentocloud_jupyter.core.deployments.watch import DEFAULT_TIMEOUT, Goal, Outcome, WatchState
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.guardrails import ttl
from bentocloud_jupyter.core.logs.follow import LogFollower
from bentocloud_jupyter.core.results import Follow, StatusView, html_of
from bentocloud_jupyter.widgets._common import error_line, running_loop
from bentocloud_jupyter.widgets.callform import CallForm
from bentocloud_jupyter.widgets.logview import LogView

__all__ = ["DeploymentStatus", "render_state"]

BUILD_LOG_GRACE = 3.0
"""Seconds the build log may keep streaming after the status leaves image-building (its last lines)."""


def render_state(state: WatchState) -> tuple[str, str]:
    """The (HTML, text) snapshot of a watch: the same StatusView the magics show."""
    view = StatusView(state)
    return html_of(view), repr(view)


class DeploymentStatus(widgets.VBox):  # type: ignore[misc]
    """Watch ``name`` until it settles: badge, timeline, details, URL once ready, error when it fails.

    ``goal`` defaults to READY after an update (``previous_revision`` given: only the new revision
    counts) and to SETTLED otherwise (stop at any final status). ``build_log`` streams the image build's
    log while it builds; ``call_form`` offers the deployment's APIs once it is ready.
    """

    def __init__(self, name: str, *, context: str | None = None, cluster: str | None = None,
                 previous_revision: str | None = None, goal: Goal | None = None,
                 timeout: float = DEFAULT_TIMEOUT, build_log: bool = True, call_form: bool = True,
                 follow: Follow | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if goal is None:
            goal = Goal.READY if previous_revision else Goal.SETTLED
        self.context = context
        self.cluster = cluster
        self._follow = follow
        self.state = (following.watch_state(follow) if follow is not None else
                      WatchState(name, goal=goal, previous_revision=previous_revision, timeout=timeout))
        self.html = widgets.HTML(value=render_state(self.state)[0])
        self.stop_button = widgets.Button(description="Stop watching", icon="stop")
        self.log_view = LogView("Build log", layout=widgets.Layout(display="none"))
        self.call_form = CallForm(name, context=context, cluster=cluster, autoload=False,
                                  layout=widgets.Layout(display="none"))
        self.ttl_line = widgets.HTML(value="")
        self.children = [self.html, self.ttl_line, self.log_view, self.call_form, self.stop_button]
        self._unlisten = ttl.listen(name, self._on_ttl, cluster=follow.cluster if follow is not None else cluster,
                                    context=follow.resolved.context.name if follow is not None else None)
        self.stop_button.on_click(self._on_stop)
        self.build_log: LogFollower | None = None
        self._build_log_wanted, self._call_form_wanted = build_log, call_form
        self._build_log_timer: asyncio.TimerHandle | None = None
        self._watch: following.Watch | None = None
        self._future: asyncio.Future[WatchState] | None = None
        self._handles: list[Any] = []
        if running_loop() is not None:
            self.start()

    @classmethod
    def following(cls, follow: Follow, **kwargs: Any) -> DeploymentStatus:
        """Follow what a verb returned (``DeploymentView.follow``), starting from its snapshot."""
        return cls(follow.name, context=follow.resolved.context.name, cluster=follow.cluster,
                   previous_revision=follow.previous_revision, goal=follow.goal, follow=follow, **kwargs)

    def __repr__(self) -> str:
        return f"DeploymentStatus({self.state.name!r}, status={self.state.status!r}, done={self.state.done})"

    @property
    def done(self) -> asyncio.Future[WatchState]:
        """Resolves with the final :class:`WatchState` (starts the watch if needed)."""
        return self.start()

    def start(self) -> asyncio.Future[WatchState]:
        """Begin watching on the running loop (idempotent).

        Raises:
            RuntimeError: no running event loop (a Jupyter kernel always has one).
        """
        if self._future is not None:
            return self._future
        loop = asyncio.get_running_loop()
        try:
            follow = self._follow or following.follow_deployment(
                self.state.name, context=self.context, cluster=self.cluster, goal=self.state.goal,
                previous_revision=self.state.previous_revision, timeout=self.state.timeout)
            self._watch = following.start_watch(follow, on_change=self._on_change, state=self.state)
        except Exception as error:  # no context, broken file, unusable endpoint: show it, end at once
            self.state.finish(Outcome.ERROR, error_line(error))
            self._future = loop.create_future()
            self._future.set_result(self.state)
            self._on_change(self.state)
            return self._future
        self._future = self._watch.future
        if self.state.done:  # the snapshot in hand had already settled it
            self._on_change(self.state)
        return self._future

    def stop(self) -> None:
        """Stop watching and the build log (the deployment itself is not touched)."""
        self._stop_build_log()
        if self.state.done:
            return
        if self._watch is not None and self._watch.hub is not None:
            self._watch.stop()  # ends our entry; the hub notifies _on_change
        else:
            self.state.finish(Outcome.CANCELLED, f"Stopped watching {self.state.name!r}.")
            self._on_change(self.state)

    def close(self) -> None:
        """Stop watching, then close the widget."""
        self.stop()
        self._unlisten()
        self.call_form.close()
        self.log_view.close()
        super().close()

    def _on_stop(self, _: Any = None) -> None:
        self.stop()

    def _on_ttl(self, text: str) -> None:
        """A TTL timer's warning (minutes before) or notice (after), shown in the card, amber."""
        self.ttl_line.value = f'<div style="color:#9a6700">{esc(text)}</div>'

    def _on_change(self, state: WatchState) -> None:
        """Called by the hub on the loop: redraw, and once over, freeze the saved output too."""
        self.html.value = render_state(state)[0]
        self._track_build_log(state)
        if state.outcome is Outcome.READY:
            self._offer_call_form()
        if not state.done:
            return
        self.stop_button.disabled = True
        handles, self._handles = self._handles, []
        if handles:
            bundle = self._bundle()
            for handle in handles:
                handle.update(bundle, raw=True)

    # ------------------------------------------------------------------------------- build log, calls

    def _track_build_log(self, state: WatchState) -> None:
        """Start following the build log on entering image-building; let it finish shortly after leaving."""
        building = state.status == "image-building" and not state.done
        loop = running_loop()
        if not self._build_log_wanted or loop is None or state.outcome is Outcome.CANCELLED:
            return
        if building and self.build_log is None:
            self.build_log = LogFollower(state.name, context=self.context, cluster=self.cluster, build_only=True,
                                         deployment=state.deployment, register=False)
            self.log_view.follow(self.build_log)
            self.log_view.layout.display = None
        elif not building and self.build_log is not None and self._build_log_timer is None:
            self._build_log_timer = loop.call_later(BUILD_LOG_GRACE, self.build_log.stop)

    def _stop_build_log(self) -> None:
        if self._build_log_timer is not None:
            self._build_log_timer.cancel()
        if self.build_log is not None:
            self.build_log.stop()

    def _offer_call_form(self) -> None:
        if self._call_form_wanted and self.call_form.layout.display == "none" and running_loop() is not None:
            self.call_form.layout.display = None
            self.call_form.load()

    # ------------------------------------------------------------------------------------ display

    def _bundle(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view (while the widget is open) plus HTML and text snapshots for saved notebooks."""
        bundle: dict[str, Any] = {}
        if self.comm is not None:
            bundle.update(super()._repr_mimebundle_(**kwargs) or {})
        bundle["text/html"], bundle["text/plain"] = render_state(self.state)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        if self._future is None and running_loop() is not None:
            self.start()
        return self._bundle(**kwargs)

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display with a display id, so the output's snapshot can be replaced by the final state."""
        from IPython.display import display

        if self._future is None and running_loop() is not None:
            self.start()
        handle = display(self._bundle(), raw=True, display_id=True)
        if handle is not None and not self.state.done:
            self._handles.append(handle)
