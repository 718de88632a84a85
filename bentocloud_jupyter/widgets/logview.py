"""A collapsible, bounded log view fed by a :class:`~..core.logfollow.LogFollower`, and the live display of
``%bentocloud logs NAME --follow``.

Memory and traffic stay bounded however chatty the log: the follower keeps only its last 500 lines
(each cut at 2000 characters), tells the view at most every 0.1 s, and a collapsed view only updates
its button's line count, not the text. Everything runs on the kernel's loop; no thread posts output.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.logs.follow import LogFollower, log_html
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.widgets._common import message_html

__all__ = ["LogView", "present"]



class LogView(widgets.VBox):  # type: ignore[misc]
    """A ToggleButton "<title> (N lines)" that shows or hides the last lines of a follower, escaped.

    ``stoppable`` adds a Stop button (for a view of its own; a status card stops its log itself).
    """

    def __init__(self, title: str = "Log", *, expanded: bool = False, stoppable: bool = False,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.title = title
        self.toggle = widgets.ToggleButton(value=expanded, description=f"{title} (0 lines)", icon="list",
                                           tooltip="Show or hide the log", layout=widgets.Layout(width="auto"))
        self.stop_button = widgets.Button(description="Stop", icon="stop", tooltip="Stop following the log",
                                          layout=widgets.Layout(display=None if stoppable else "none"))
        self.html = widgets.HTML()
        self.children = [widgets.HBox([self.toggle, self.stop_button]), self.html]
        self.follower: LogFollower | None = None
        self._handles: list[Any] = []
        self.toggle.observe(lambda _: self.refresh(), names="value")
        self.stop_button.on_click(lambda _: self.stop())
        self.refresh()

    def __repr__(self) -> str:
        total = self.follower.buffer.total if self.follower else 0
        return f"LogView({self.title!r}, lines={total})"

    def follow(self, follower: LogFollower) -> LogView:
        """Show ``follower``'s lines from now on (it is started if it was not)."""
        self.follower = follower
        follower.listeners.append(self._on_update)
        if follower.task is None:
            follower.start()
        self.refresh()
        return self

    def stop(self) -> None:
        """Stop the follower (the lines stay)."""
        if self.follower is not None:
            self.follower.stop()

    def close(self) -> None:
        self.stop()
        super().close()

    def refresh(self) -> None:
        """Redraw: the line count always, the text only while expanded."""
        follower = self.follower
        total = follower.buffer.total if follower else 0
        self.toggle.description = f"{self.title} ({total} line{'' if total == 1 else 's'})"
        self.html.layout.display = None if self.toggle.value else "none"
        if follower is not None and follower.done:
            self.stop_button.disabled = True
        if self.toggle.value:
            self.html.value = self._html()

    def _html(self) -> str:
        follower = self.follower
        if follower is None:
            return message_html("No log yet.")
        dropped = follower.buffer.dropped
        head = message_html(f"{dropped} earlier lines not kept", "info") if dropped else ""
        body = log_html(follower.buffer.text())
        if follower.error:
            tail = message_html(follower.error, "error")
        else:
            tail = f'<div style="color:#6e7781;font-size:0.85em">{esc(follower.note)}</div>'
        return head + body + tail

    def _on_update(self, follower: LogFollower) -> None:
        self.refresh()
        if follower.done:
            handles, self._handles = self._handles, []
            for handle in handles:
                handle.update(self._bundle(), raw=True)

    # ------------------------------------------------------------------------------------ display

    def _bundle(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view (while open) plus HTML and text snapshots, for saved notebooks."""
        bundle: dict[str, Any] = {}
        if self.comm is not None:
            bundle.update(super()._repr_mimebundle_(**kwargs) or {})
        view = self.follower.view() if self.follower else None
        bundle["text/html"] = html_of(view) if view else ""
        bundle["text/plain"] = repr(view) if view else repr(self)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._bundle(**kwargs)

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display with a display id, so the saved snapshot is replaced by the final lines when it ends."""
        from IPython.display import display

        handle = display(self._bundle(), raw=True, display_id=True)
        if handle is not None and not (self.follower and self.follower.done):
            self._handles.append(handle)


def present(follower: LogFollower, *, use_widgets: bool = True) -> Any:
    """Show a started follower live: a :class:`LogView` where widgets render, else HTML updated in place
    through a display id (stop it with ``%bentocloud unwatch NAME``). Returns what the cell should show."""
    if use_widgets:
        return LogView(f"Logs of {follower.name}", expanded=True, stoppable=True).follow(follower)
    from IPython.display import display

    handle = display(follower.view(), display_id=True)
    if handle is not None:
        follower.listeners.append(lambda f: handle.update(f.view()))
    return None
