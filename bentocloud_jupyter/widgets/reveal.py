"""A new API token shown once: hidden until "Reveal", then forgotten for good on "Done" or after a while.

Why a widget: a created token must never become text output (a saved notebook and its history keep
every output). The token is held by this panel only (masked everywhere it could print); "Reveal" puts
it into one read-only field to select and copy; "Done", or ``forget_after`` seconds, empties that field
(a saved notebook's widget state then holds nothing) and drops the panel's reference for good.
"""

from __future__ import annotations

import asyncio
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.org_views import NewTokenView
from bentocloud_jupyter.core.rest.durations import check_duration
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.widgets._common import message_html, running_loop

__all__ = ["FORGET_AFTER", "TokenReveal"]

FORGET_AFTER = 120.0
"""Seconds a revealed token stays on screen before it is forgotten."""


class TokenReveal(widgets.VBox):  # type: ignore[misc]
    """Shows a just-created token once: reveal it, copy it from the field, then it is gone."""

    def __init__(self, created: NewTokenView, *, forget_after: float = FORGET_AFTER, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.details = created.details
        self._token: Token | None = created.token
        self.forget_after = check_duration(forget_after, "forget_after", maximum=24 * 3600.0)  # NaN breaks timers
        self._timer: asyncio.TimerHandle | None = None
        self.summary = widgets.HTML(f"<div>API token <b>{esc(created.details.name)}</b> created "
                                    f"(uid {esc(created.details.uid)}). It is shown once: reveal it, copy it "
                                    "from the field and keep it safe.</div>")
        self.field = widgets.Text(value="", placeholder="hidden", layout=widgets.Layout(width="40em"))
        self.reveal_button = widgets.Button(description="Reveal", icon="eye", button_style="warning")
        self.done_button = widgets.Button(description="Done, forget it", icon="check", disabled=True)
        self.message = widgets.HTML()
        self.children = [self.summary, self.field, widgets.HBox([self.reveal_button, self.done_button]),
                         self.message]
        self.reveal_button.on_click(self.reveal)
        self.done_button.on_click(self.forget)
        self.field.observe(self._keep_value, names="value")

    @property
    def holds_token(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        state = "holding the token" if self.holds_token else "forgotten"
        return f"TokenReveal({self.details.name!r}, {state})"

    def reveal(self, _: Any = None) -> None:
        """Show the token in the field (once); it is forgotten on Done or after :attr:`forget_after` s."""
        if self._token is None:
            return
        self.reveal_button.disabled, self.done_button.disabled = True, False
        self.field.value = self._token.reveal()
        self.message.value = message_html(f"Select and copy it now; it is forgotten in {self.forget_after:g} s "
                                          "or when you press Done.", "warning")
        loop = running_loop()
        if loop is not None:
            self._timer = loop.call_later(self.forget_after, self.forget)

    def forget(self, _: Any = None) -> None:
        """Empty the field and drop the token for good."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._token = None
        self.field.value = ""
        self.field.placeholder = "forgotten"
        self.reveal_button.disabled = self.done_button.disabled = True
        self.message.value = message_html("The token is forgotten here; BentoCloud never shows it again.", "ok")

    def _keep_value(self, change: Any) -> None:
        """The field is for copying: an edit is put back (or cleared once forgotten)."""
        wanted = self._token.reveal() if self._token is not None and self.reveal_button.disabled else ""
        if change["new"] != wanted:
            self.field.value = wanted

    def close(self) -> None:
        self.forget()
        super().close()
