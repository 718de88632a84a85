"""The typed-name field of a protected context: type the target's name back, then the change is sent.

Shown by the magics when a verb refuses with :class:`~..core.guardrails.confirm.ConfirmationNeeded` and
widgets render. A name that does not match sends nothing and says so here; a matching one calls
``retry(typed)`` once (the verb runs again with ``confirm=typed``) and shows its result below. A wrong name
is cleared from the field (a notebook saves widget state; what was typed may be a token) and never echoed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.widgets._common import error_line, guarded, message_html

__all__ = ["TypedNameConfirm"]

DANGER = "#cf222e"


class TypedNameConfirm(widgets.VBox):  # type: ignore[misc]
    """"Type 'NAME' to confirm": a text field and a button; only the exact name runs ``retry``."""

    message: widgets.HTML

    def __init__(self, needed: ConfirmationNeeded, retry: Callable[[str], Any], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.needed, self._retry, self.done = needed, retry, False
        self.prompt = widgets.HTML(
            f'<div style="color:{DANGER}"><b>Context {esc(repr(needed.context))} is protected.</b> '
            f"Type {esc(repr(needed.name))} to confirm this change to {esc(needed.kind)} "
            f"{esc(repr(needed.name))}.</div>")
        self.field = widgets.Text(placeholder=needed.name, description="Name",
                                  layout=widgets.Layout(width="28em"))
        self.button = widgets.Button(description="Confirm", button_style="danger", icon="check")
        self.message = widgets.HTML()
        self.result = widgets.Output()
        self.children = [self.prompt, widgets.HBox([self.field, self.button]), self.message, self.result]
        self.button.on_click(self._on_submit)

    def __repr__(self) -> str:
        state = "done" if self.done else "waiting"
        return f"TypedNameConfirm({self.needed.kind} {self.needed.name!r} in {self.needed.context!r}: {state})"

    @guarded
    def _on_submit(self, _: Any = None) -> None:
        """Run the change once, and only when the typed name is exactly the target's."""
        if self.done:
            return
        typed = str(self.field.value or "")
        if typed != self.needed.name:
            self.field.value = ""  # never kept: it may be a token typed in the wrong place, saved with the widget state
            self.message.value = message_html(
                f"That is not {self.needed.name!r}: nothing was sent. Type the name exactly.", "error")
            return
        self.done, self.button.disabled, self.field.disabled = True, True, True
        self.message.value = message_html(f"Confirmed: sending the change to {self.needed.name!r}.", "ok")
        try:  # outside the Output: inside, IPython would print the error's traceback and swallow it
            outcome = self._retry(typed)
        except Exception as error:  # the retried verb's failure belongs in this panel, in one line
            self.message.value = message_html(error_line(error), "error")
            return
        if outcome is not None:
            from IPython.display import display

            with self.result:
                display(outcome)
