"""A deployments table with search, cluster filter, auto-refresh and per-deployment actions.

One list request fills the table; search and the cluster filter work on that result locally, so
typing never sends requests. Auto-refresh is an asyncio task on the kernel's loop using the
context's shared async client. Terminate and delete ask for confirmation first.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.results import DeploymentsView, html_of
from bentocloud_jupyter.widgets._common import Periodic, busy, error_line, guarded, message_html, running_loop
from bentocloud_jupyter.widgets.status import DeploymentStatus

__all__ = ["DeploymentsPanel"]

ALL_CLUSTERS = ""
Key = tuple[str, str]  # (name, cluster): names are unique per cluster


def matches(deployment: Deployment, search: str, cluster: str) -> bool:
    """Case-insensitive match on name or bento, within ``cluster`` unless it is empty (all)."""
    needle = search.strip().lower()
    in_cluster = cluster == ALL_CLUSTERS or deployment.cluster == cluster
    return in_cluster and (not needle or needle in deployment.name.lower() or needle in deployment.bento.lower())


def _listing(view: Any) -> list[Deployment]:
    return list(view.deployments)


class DeploymentsPanel(widgets.VBox):  # type: ignore[misc]
    """Deployments of a context: filter them, watch one, terminate or delete one."""

    message: widgets.HTML

    def __init__(self, context: str | None = None, *, refresh_interval: float = 5.0,
                 deployments: Sequence[Deployment] | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context = context
        self.deployments: list[Deployment] = []
        self.status: DeploymentStatus | None = None
        self._pending: tuple[str, Key] | None = None
        self.search_text = widgets.Text(description="Search", placeholder="name or bento")
        self.cluster_dropdown = widgets.Dropdown(description="Cluster", options=[("All clusters", ALL_CLUSTERS)],
                                                 value=ALL_CLUSTERS)
        self.refresh_button = widgets.Button(description="Refresh", icon="refresh")
        self.auto_toggle = widgets.ToggleButton(value=False, description="Auto-refresh", icon="clock-o")
        self.table = widgets.HTML()
        self.target_dropdown = widgets.Dropdown(description="Deployment", options=[])
        self.watch_button = widgets.Button(description="Watch", icon="eye")
        self.terminate_button = widgets.Button(description="Terminate", icon="stop", button_style="warning")
        self.delete_button = widgets.Button(description="Delete", icon="trash", button_style="danger")
        self.confirm_html = widgets.HTML()
        self.yes_button = widgets.Button(description="Yes", button_style="danger")
        self.no_button = widgets.Button(description="No")
        self.confirm_text = widgets.Text(placeholder="its name, typed back", layout=widgets.Layout(display="none"))
        self.confirm_row = widgets.HBox([self.confirm_html, self.confirm_text, self.yes_button, self.no_button],
                                        layout=widgets.Layout(display="none"))
        self.message = widgets.HTML()
        self.watch_area = widgets.VBox()
        self._actions = [self.watch_button, self.terminate_button, self.delete_button]
        self.children = [
            widgets.HBox([self.search_text, self.cluster_dropdown, self.refresh_button, self.auto_toggle]),
            self.table, widgets.HBox([self.target_dropdown, *self._actions]), self.confirm_row, self.message,
            self.watch_area]
        self.auto_refresher = Periodic(self._auto_refresh, refresh_interval, "bentocloud-deployments-refresh")
        self._wire()
        if deployments is None:
            self.refresh()
        else:  # a listing already in hand (from the verb): no second request
            self._set_clusters([d.cluster for d in deployments])
            self.show(deployments)

    def _wire(self) -> None:
        self.search_text.observe(self._on_filter, names="value")
        self.cluster_dropdown.observe(self._on_filter, names="value")
        self.auto_toggle.observe(self._on_auto, names="value")
        self.refresh_button.on_click(self._on_refresh)
        self.watch_button.on_click(self._on_watch)
        self.terminate_button.on_click(lambda _: self._ask("terminate"))
        self.delete_button.on_click(lambda _: self._ask("delete"))
        self.yes_button.on_click(self._on_yes)
        self.no_button.on_click(self._on_no)

    def __repr__(self) -> str:
        return f"DeploymentsPanel(context={self.context!r}, deployments={len(self.deployments)})"

    def close(self) -> None:
        """Stop auto-refresh and any watch, then close the widget."""
        self.auto_refresher.stop()
        if self.status is not None:
            self.status.close()
        super().close()

    # ----------------------------------------------------------------------------------- listing

    def refresh(self) -> None:
        """Fetch the deployments (and the clusters) with one call each; errors show in the panel."""
        with busy([self.refresh_button, *self._actions]):
            try:
                found = _listing(api.list_deployments(all=True, context=self.context))
                clusters = [str(row[0]) for row in api.clusters(context=self.context).rows]
            except Exception as error:
                self._show(error_line(error), "error")
                return
        self._set_clusters(clusters + [d.cluster for d in found])
        self.show(found)

    async def _auto_refresh(self) -> None:
        loop = asyncio.get_running_loop()
        try:  # the blocking verb in a worker thread: the kernel's loop stays free, the UI is drawn on it
            found = await loop.run_in_executor(
                None, lambda: _listing(api.list_deployments(all=True, context=self.context)))
        except Exception as error:
            self._show(error_line(error) + " (auto-refresh continues)", "error")
            return
        self.show(found)

    def show(self, deployments: Sequence[Deployment]) -> None:
        """Replace the listing and redraw with the current filters."""
        self.deployments = list(deployments)
        self._render()
        self._show(f"{len(self.deployments)} deployment(s), refreshed at {time.strftime('%H:%M:%S')}.")

    @property
    def visible(self) -> list[Deployment]:
        """The deployments the current search and cluster filter let through."""
        return [d for d in self.deployments if matches(d, self.search_text.value, self.cluster_dropdown.value)]

    def _render(self) -> None:
        shown = self.visible
        self.table.value = html_of(DeploymentsView(shown, self.context or ""))
        keys = [(d.name, d.cluster) for d in shown]
        selected = self.target_dropdown.value
        self.target_dropdown.options = [(f"{name} ({cluster})", (name, cluster)) for name, cluster in keys]
        self.target_dropdown.value = selected if selected in keys else (keys[0] if keys else None)
        for button in self._actions:
            button.disabled = not keys

    def _set_clusters(self, names: Sequence[str]) -> None:
        unique = sorted({n for n in names if n})
        current = self.cluster_dropdown.value
        self.cluster_dropdown.options = [("All clusters", ALL_CLUSTERS)] + [(n, n) for n in unique]
        self.cluster_dropdown.value = current if current in unique else ALL_CLUSTERS

    def _show(self, text: str, level: str = "info") -> None:
        self.message.value = message_html(text, level)

    # ----------------------------------------------------------------------------------- callbacks

    @guarded
    def _on_filter(self, _: Any = None) -> None:
        self._render()

    @guarded
    def _on_refresh(self, _: Any = None) -> None:
        self.refresh()

    @guarded
    def _on_auto(self, change: dict[str, Any]) -> None:
        if not change.get("new"):
            self.auto_refresher.stop()
            self._show("Auto-refresh off.")
        elif self.auto_refresher.start():
            self._show(f"Auto-refreshing every {self.auto_refresher.interval:g} s.")
        else:
            self.auto_toggle.value = False
            self._show("Auto-refresh needs a running event loop: use it in a Jupyter kernel.", "error")

    @guarded
    def _on_watch(self, _: Any = None) -> None:
        key = self.target_dropdown.value
        if key is None:
            return
        if running_loop() is None:
            self._show("Watching needs a running event loop: use it in a Jupyter kernel.", "error")
            return
        if self.status is not None:
            self.status.close()
        self.status = DeploymentStatus(key[0], context=self.context, cluster=key[1])
        self.watch_area.children = (self.status,)

    @guarded
    def _ask(self, action: str) -> None:
        key = self.target_dropdown.value
        if key is None:
            return
        self._pending = (action, key)
        self.confirm_html.value = f"<b>Really {esc(action)} {esc(repr(key[0]))} in {esc(key[1])}?</b>"
        self.confirm_row.layout.display = "flex"

    @guarded
    def _on_no(self, _: Any = None) -> None:
        self._pending = None
        self._hide_confirmation()
        self._show("")

    @guarded
    def _on_yes(self, _: Any = None) -> None:
        pending, self._pending = self._pending, None
        self._hide_confirmation()
        if pending is None:
            return
        action, (name, cluster) = pending
        typed, self.confirm_text.value = self.confirm_text.value or None, ""
        try:
            with busy([*self._actions, self.refresh_button]):
                if action == "terminate":
                    api.terminate(name, cluster, context=self.context, confirm=typed)
                    done = f"Terminating {name!r}; it stops in a moment."
                else:
                    done = str(api.delete(name, cluster, context=self.context, confirm=typed))
        except ConfirmationNeeded as needed:  # a protected context: ask for the name, in the same row
            self._pending = pending
            self.confirm_text.value, self.confirm_text.layout.display = "", ""
            self.confirm_row.layout.display = "flex"
            self._show(f"{needed.context!r} is protected: type {name!r} and press Yes; nothing was sent.", "error")
            return
        except Exception as error:
            self._show(error_line(error), "error")
            return
        self.refresh()
        self._show(done, "ok")

    def _hide_confirmation(self) -> None:
        self.confirm_row.layout.display = "none"
        self.confirm_text.layout.display = "none"
        self.confirm_html.value = ""
