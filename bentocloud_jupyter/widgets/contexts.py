"""A context picker over the credentials file shared with the ``bentoml`` CLI.

Choosing a context writes ``current_context_name`` (so ``bentoml`` follows); removing one asks first.
Another process (a terminal running ``bentoml cloud login``) may change the file at any time: a
periodic task on the kernel's loop compares the file's stat signature every couple of seconds and
re-reads it only when that changed, so the picker stays current without a kernel restart. Protected
contexts (``%bentocloud protect``) are marked, and a change of their file is noticed the same way.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.credentials.protected import protected_path
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.guardrails.whereami import shown_endpoint
from bentocloud_jupyter.widgets._common import Periodic, busy, error_line, guarded, message_html

__all__ = ["ContextPicker"]

CURRENT_MARK = "★"
PROTECTED_MARK = "[protected]"
Stamp = tuple[Any, ...]


def stat_signature(path: Path) -> tuple[int, ...]:
    """What changes when ``path`` is rewritten or its mode changes (a protected-contexts file others may write
    is refused, and the picker should say so); empty when it is absent or unreadable."""
    try:
        info = path.stat()
    except OSError:
        return ()
    return (info.st_mtime_ns, info.st_size, info.st_ino, info.st_mode)


def file_stamp() -> Stamp:
    """What changes when the file, the protected contexts or the overriding environment change; two ``stat``s."""
    path = api.credentials_file()
    env = (os.environ.get("BENTO_CLOUD_API_KEY") is not None, os.environ.get("BENTO_CLOUD_API_ENDPOINT"))
    return (str(path), stat_signature(path), stat_signature(protected_path()), env)


def context_label(ctx: Context, current: str, protected: bool = False) -> str:
    """``★ name [protected] - email @ endpoint``; plain text (the Dropdown shows labels as text, not HTML)."""
    mark = CURRENT_MARK if ctx.name == current else "  "
    flag = f" {PROTECTED_MARK}" if protected else ""
    return f"{mark} {ctx.name}{flag} - {ctx.email or '(no email)'} @ {shown_endpoint(ctx.endpoint)}"


class ContextPicker(widgets.VBox):  # type: ignore[misc]
    """Pick the current context, remove one (with confirmation), and see when the environment overrides them."""

    message: widgets.HTML

    def __init__(self, *, check_interval: float = 2.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.banner = widgets.HTML()
        self.dropdown = widgets.Dropdown(description="Context", layout=widgets.Layout(width="42em"))
        self.remove_button = widgets.Button(description="Remove", icon="trash")
        self.confirm_html = widgets.HTML()
        self.yes_button = widgets.Button(description="Yes, remove", button_style="danger")
        self.no_button = widgets.Button(description="No")
        self.confirm_row = widgets.HBox([self.confirm_html, self.yes_button, self.no_button],
                                        layout=widgets.Layout(display="none"))
        self.message = widgets.HTML()
        self.children = [self.banner, widgets.HBox([self.dropdown, self.remove_button]), self.confirm_row,
                         self.message]
        self._stamp: Stamp | None = None
        self._syncing = False
        self._pending_remove: str | None = None
        self._protected: frozenset[str] = frozenset()
        self.watcher = Periodic(self.check_for_changes, check_interval, "bentocloud-context-picker")
        self.dropdown.observe(self._on_choose, names="value")
        self.remove_button.on_click(self._on_remove)
        self.yes_button.on_click(self._on_yes)
        self.no_button.on_click(self._on_no)
        self.refresh()
        self.watcher.start()  # only when a loop is running; otherwise when displayed

    def __repr__(self) -> str:
        return f"ContextPicker(current={self.dropdown.value!r}, contexts={len(self.dropdown.options)})"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.watcher.start()  # displayed inside a kernel: its loop is running now
        return super()._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Stop watching the file, then close the widget."""
        self.watcher.stop()
        super().close()

    # ------------------------------------------------------------------------------------- reading

    def refresh(self) -> None:
        """Re-read the file and redraw; a broken file shows its error here instead of raising."""
        self._stamp = file_stamp()  # taken before reading, so a write during the read is seen next time
        try:
            view = api.contexts()
        except Exception as error:
            self._set_options([], "")
            self.banner.value = ""
            self._show(error_line(error), "error")
            return
        self._set_options(view.contexts, view.current, getattr(view, "protected", frozenset()))
        notes = [message_html(view.banner, "warning")] + [message_html(p, "warning") for p in view.problems]
        self.banner.value = "".join(notes)
        if not view.contexts:
            self._show(f"No contexts in {view.path}; log in with LoginPanel() or `%bentocloud login`.")

    def check_for_changes(self) -> bool:
        """Refresh if the file changed since the last read (cheap: one ``stat``); True if it did."""
        if file_stamp() == self._stamp:
            return False
        self.refresh()
        return True

    def _set_options(self, contexts: Sequence[Context], current: str,
                     protected: frozenset[str] = frozenset()) -> None:
        seen: dict[str, Context] = {}
        for ctx in contexts:
            seen.setdefault(ctx.name, ctx)  # duplicates: the first one wins, as in bentoml
        self._protected = protected
        self._syncing = True
        try:
            self.dropdown.options = [(context_label(ctx, current, name in protected), name)
                                     for name, ctx in seen.items()]
            self.dropdown.value = current if current in seen else None
        finally:
            self._syncing = False
        self.dropdown.disabled = not seen
        self.remove_button.disabled = not seen

    def _show(self, text: str, level: str = "info") -> None:
        self.message.value = message_html(text, level)

    # ------------------------------------------------------------------------------------- actions

    @guarded
    def _on_choose(self, change: dict[str, Any]) -> None:
        name = change.get("new")
        if self._syncing or not name:
            return
        try:
            api.use_context(name)
        except Exception as error:
            self.refresh()  # put the dropdown back on the file's current context
            self._show(error_line(error), "error")
            return
        self.refresh()
        self._show(f"The current context is now {name!r}; the bentoml CLI uses it too.", "ok")

    @guarded
    def _on_remove(self, _: Any = None) -> None:
        name = self.dropdown.value
        if not name:
            return
        self._pending_remove = name
        kept = (" It is protected: the protection stays, for whichever context is saved under that name next."
                if name in self._protected else "")
        self.confirm_html.value = f"<b>Really remove context {esc(repr(name))}?</b>{esc(kept)}"
        self.confirm_row.layout.display = "flex"
        self.remove_button.disabled = True

    @guarded
    def _on_yes(self, _: Any = None) -> None:
        name, self._pending_remove = self._pending_remove, None
        self._hide_confirmation()
        if name is None:
            return
        try:
            with busy([self.dropdown, self.remove_button]):
                removed = api.logout(name)
        except Exception as error:
            self.refresh()
            self._show(error_line(error), "error")
            return
        self.refresh()
        self._show(str(removed), "ok")

    @guarded
    def _on_no(self, _: Any = None) -> None:
        self._pending_remove = None
        self._hide_confirmation()
        self._show("")

    def _hide_confirmation(self) -> None:
        self.confirm_row.layout.display = "none"
        self.confirm_html.value = ""
        self.remove_button.disabled = not self.dropdown.options
