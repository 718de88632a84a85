"""A login panel: paste a token, or create one in the browser, and save it as a context.

The token only passes through the Password field on its way to :func:`~..core.api.login`; the field is
cleared in a ``finally`` so the secret never stays in a synced trait (a saved notebook keeps widget
state). The browser code flow polls as an asyncio task on the kernel's loop, never a thread, so the
kernel stays responsive and the Cancel button works at once.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials.auth import BrowserLogin, LoginResult
from bentocloud_jupyter.core.credentials.config import DEFAULT_ENDPOINT
from bentocloud_jupyter.core.display import esc, format_duration, link
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.widgets._common import busy, error_line, guarded, message_html, running_loop

__all__ = ["LoginPanel"]


class LoginPanel(widgets.VBox):  # type: ignore[misc]
    """Log in to BentoCloud from a notebook; the result is a saved context the ``bentoml`` CLI can use too."""

    message: widgets.HTML

    def __init__(self, endpoint: str = DEFAULT_ENDPOINT, context: str | None = None, *,
                 browser_timeout: float = 300.0, poll_interval: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.browser_timeout = browser_timeout
        self.poll_interval = poll_interval
        self.result: LoginResult | None = None
        self.browser_task: asyncio.Task[None] | None = None
        self._waiter: asyncio.Future[Token] | None = None
        wide = widgets.Layout(width="32em")
        self.endpoint_text = widgets.Text(value=endpoint, description="Endpoint", layout=wide)
        self.context_text = widgets.Text(value=context or "", description="Context", layout=wide,
                                         placeholder="default: the current context's name")
        self.token_text = widgets.Password(description="API token", placeholder="paste a token", layout=wide)
        self.insecure_box = widgets.Checkbox(value=False, indent=False,
                                             description="Allow plain http to a remote endpoint (unsafe)")
        self.login_button = widgets.Button(description="Log in", button_style="primary", icon="sign-in")
        self.browser_button = widgets.Button(description="Create a token in the browser", icon="external-link",
                                             layout=widgets.Layout(width="auto"))
        self.cancel_button = widgets.Button(description="Cancel", icon="times", disabled=True)
        self.link_html = widgets.HTML()
        self.browser_row = widgets.HBox([self.link_html, self.cancel_button],
                                        layout=widgets.Layout(display="none"))
        self.message = widgets.HTML()
        self._inputs = [self.endpoint_text, self.context_text, self.token_text, self.insecure_box,
                        self.login_button, self.browser_button]
        self.children = [self.endpoint_text, self.context_text, self.token_text, self.insecure_box,
                         widgets.HBox([self.login_button, self.browser_button]), self.browser_row, self.message]
        self.login_button.on_click(self._on_login)
        self.browser_button.on_click(self._on_browser)
        self.cancel_button.on_click(self._on_cancel)

    def __repr__(self) -> str:
        state = "working" if self.working else ("logged in" if self.result else "idle")
        return f"LoginPanel(endpoint={self.endpoint_text.value!r}, {state})"

    def close(self) -> None:
        """Stop a pending browser login, then close the widget."""
        if self.browser_task is not None:
            self.browser_task.cancel()
        super().close()

    @property
    def working(self) -> bool:
        """True while a browser login is pending."""
        return self.browser_task is not None and not self.browser_task.done()

    # ------------------------------------------------------------------------------------ pasted token

    @guarded
    def _on_login(self, _: Any = None) -> None:
        with busy(self._inputs):
            try:
                token = self.token_text.value
                self.token_text.value = ""
                self._login(token)
            finally:
                self.token_text.value = ""

    def _login(self, token: str | Token) -> None:
        """Validate and save; shows the outcome (errors are one line, never the token)."""
        self._show("Checking the token with BentoCloud…")
        try:
            # api.login hands the token to auth.login, which takes a Token as well as a str.
            self.result = api.login(self.endpoint_text.value.strip(), token,
                                    self.context_text.value.strip() or None, insecure=self.insecure_box.value)
        except Exception as error:
            self._show(error_line(error), "error")
            return
        self._show(str(self.result), "ok")

    def _show(self, text: str, level: str = "info") -> None:
        self.message.value = message_html(text, level)

    # ----------------------------------------------------------------------------------- browser flow

    @guarded
    def _on_browser(self, _: Any = None) -> None:
        loop = running_loop()
        if loop is None:
            self._show("The browser login needs a running event loop: use it in a Jupyter kernel.", "error")
            return
        if self.working:
            return
        with busy(self._inputs):
            pending = api.start_browser_login(self.endpoint_text.value.strip(), insecure=self.insecure_box.value)
        self._set_working(True)
        self.browser_task = loop.create_task(self._browser_flow(pending), name="bentocloud-browser-login")

    def _on_cancel(self, _: Any = None) -> None:
        if self._waiter is not None:
            self._waiter.cancel()

    async def _browser_flow(self, pending: BrowserLogin) -> None:
        """Show the link and a countdown, wait for approval, then log in with the new token."""
        deadline = time.monotonic() + self.browser_timeout
        waiter = asyncio.ensure_future(pending.wait_async(self.browser_timeout, self.poll_interval))
        self._waiter = waiter
        try:
            while not waiter.done():
                self._countdown(pending.url, deadline)
                await asyncio.wait({waiter}, timeout=1.0)
            if waiter.cancelled():
                self._show("Browser login cancelled.", "warning")
                return
            error = waiter.exception()
            if error is not None:
                self._show(error_line(error), "error")
                return
            self._login(waiter.result())
        finally:
            waiter.cancel()
            self._waiter = None
            self._set_working(False)

    def _countdown(self, url: str, deadline: float) -> None:
        left = format_duration(deadline - time.monotonic())
        self.link_html.value = (f"<div>Approve the new token at {link(url)}<br><small>waiting… "
                                f"{esc(left)} left</small></div>")

    def _set_working(self, working: bool) -> None:
        for control in self._inputs:
            control.disabled = working
        self.cancel_button.disabled = not working
        self.browser_row.layout.display = "flex" if working else "none"
        if working:
            self._show("Waiting for you to approve the login in the browser…")
        else:
            self.link_html.value = ""
