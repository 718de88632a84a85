"""The codespace panel under the cell: phase badge, files synced and the last sync's latency, pod status, the
endpoint, the refused file and line, the api-server log (bounded, collapsed in an Accordion), the call form,
and Detach / Terminate.

It follows ``handle.state`` through ``state.listeners`` (the engine calls them on the kernel's loop), so it
never polls and never blocks. Terminate in a protected context asks for the name to be typed back (the
core's ``ConfirmationNeeded``) in a text field beside the button; a wrong name sends nothing.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any, Protocol

import ipywidgets as widgets

from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.widgets._common import busy, error_line, message_html, running_loop
from bentocloud_jupyter.widgets.callform import CallForm
from bentocloud_jupyter.widgets.codespace_view import (
    Coalescer,
    CodespaceView,
    error_html,
    header_html,
    log_text,
)

__all__ = ["CodespaceHandle", "CodespacePanel"]

_OVER = (Phase.DETACHED, Phase.TERMINATED)


class CodespaceHandle(Protocol):
    """What the panel needs of ``core.codespaces.handle.Codespace``."""

    state: CodespaceState

    def detach(self) -> Any: ...

    def terminate(self, confirm: str | None = None) -> Any: ...


class CodespacePanel(widgets.VBox):  # type: ignore[misc]
    """Follows one codespace handle; ``call_form=False`` leaves the form out."""

    def __init__(self, handle: CodespaceHandle, *, call_form: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.handle = handle
        state = handle.state
        self.header = widgets.HTML()
        self.error = widgets.HTML()
        self.log_html = widgets.HTML()
        self.log_panel = widgets.Accordion(children=[self.log_html], selected_index=None)
        self.call_form = CallForm(state.name, context=state.context, cluster=state.cluster, autoload=False,
                                  layout=widgets.Layout(display="none"))
        self.detach_button = widgets.Button(description="Detach", icon="unlink",
                                            tooltip="Stop syncing; the codespace keeps running")
        self.terminate_button = widgets.Button(description="Terminate", icon="stop", button_style="danger",
                                               tooltip="Terminate the codespace on BentoCloud")
        self.confirm_text = widgets.Text(placeholder=f"type {state.name} to confirm", description="Name",
                                         layout=widgets.Layout(display="none"))
        self.message = widgets.HTML()
        buttons = widgets.HBox([self.detach_button, self.terminate_button, self.confirm_text])
        self.children = [self.header, self.error, self.log_panel, self.call_form, buttons, self.message]
        self.detach_button.on_click(lambda _: self.detach())
        self.terminate_button.on_click(lambda _: self.terminate())
        self.log_panel.observe(lambda _: self.redraw(self.handle.state), names="selected_index")
        self._call_form_wanted = call_form
        self._apis: tuple[str, ...] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._handles: list[Any] = []
        self._coalesce = Coalescer(self.redraw)
        self.redraw(state)
        state.listeners.append(self._coalesce)

    def __repr__(self) -> str:
        return repr(CodespaceView(self.handle.state))

    # ------------------------------------------------------------------------------------ drawing

    def redraw(self, state: CodespaceState) -> None:
        """Draw ``state`` (the log's text only while it is expanded) and offer or reload the call form."""
        self.header.value = header_html(state)
        self.error.value = error_html(state)
        self.log_panel.set_title(0, f"api-server log ({len(state.logs)} line{'' if len(state.logs) == 1 else 's'})")
        if self.log_panel.selected_index == 0:
            text = log_text(state)
            self.log_html.value = f'<pre style="max-height:24em;overflow:auto">{esc(text or "No log yet.")}</pre>'
        self._track_call_form(state)
        over = state.phase in _OVER
        self.detach_button.disabled = over
        self.terminate_button.disabled = state.phase is Phase.TERMINATED
        if over:
            self._freeze()

    def _track_call_form(self, state: CodespaceState) -> None:
        """Once ready, the form lists the service's APIs; reloaded when a reload changed them."""
        if not self._call_form_wanted or state.phase is not Phase.READY or state.api_names == self._apis:
            return
        if running_loop() is None:
            return
        self._apis = state.api_names
        self.call_form.layout.display = None
        self.call_form.load()

    # ------------------------------------------------------------------------------------ actions

    def detach(self) -> None:
        """Stop syncing (the codespace keeps running)."""
        name = self.handle.state.name
        self._act(self.handle.detach, lambda: message_html(
            f"Detached: codespace {name!r} keeps running (`%bentocloud terminate {name}` stops it).", "warning"))

    def terminate(self) -> None:
        """Terminate; in a protected context the typed name (the text field) is sent as ``confirm``."""
        typed = self.confirm_text.value.strip()
        name = self.handle.state.name

        def call() -> Any:
            confirm = typed if self.confirm_text.layout.display != "none" else None
            act = getattr(self.handle, "terminate_async", None)  # on the loop: the request never blocks it
            if act is not None and running_loop() is not None:
                return act(confirm=confirm) if confirm is not None else act()
            return self.handle.terminate(confirm=confirm) if confirm is not None else self.handle.terminate()

        self._act(call, lambda: message_html(f"Codespace {name!r} terminated.", "ok"))

    def _act(self, call: Callable[[], Any], done: Callable[[], str]) -> None:
        """Run a handle action; an awaitable one becomes a task on the loop; errors are one line."""
        try:
            result = call()
        except Exception as error:
            self._failed(error)
            return
        if not inspect.isawaitable(result):
            self._done(result, done)
            return
        loop = running_loop()
        if loop is None:
            self.message.value = message_html("No running event loop to run this on.", "error")
            return
        task = loop.create_task(self._finish(result, done))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _finish(self, work: Any, done: Callable[[], str]) -> None:
        try:
            with busy([self.detach_button, self.terminate_button]):
                result = await work
        except Exception as error:
            self._failed(error)
        else:
            self._done(result, done)
        self.redraw(self.handle.state)

    def _done(self, result: Any, done: Callable[[], str]) -> None:
        """The handle's own one-line answer (a Message) when it gives one, else ours."""
        if isinstance(result, Message):
            self.message.value = message_html(result.text, "ok" if result.level == "info" else result.level)
        else:
            self.message.value = done()
        self.confirm_text.layout.display = "none"

    def _failed(self, error: BaseException) -> None:
        """Show one line; a protected context's question opens the name field."""
        if isinstance(error, ConfirmationNeeded):
            self.confirm_text.layout.display = None
            self.confirm_text.value = ""
        self.message.value = message_html(error_line(error), "error")

    def close(self) -> None:
        """Stop listening (the codespace and its sync are not touched), then close."""
        self._coalesce.cancel()
        if self._coalesce in self.handle.state.listeners:
            self.handle.state.listeners.remove(self._coalesce)
        for task in list(self._tasks):
            task.cancel()
        self.call_form.close()
        super().close()

    # ------------------------------------------------------------------------------------ display

    def _bundle(self, **kwargs: Any) -> dict[str, Any]:
        """The widget view (while open) plus HTML and text snapshots for saved notebooks."""
        bundle: dict[str, Any] = {}
        if self.comm is not None:
            bundle.update(super()._repr_mimebundle_(**kwargs) or {})
        view = CodespaceView(self.handle.state)
        bundle["text/html"], bundle["text/plain"] = view._repr_html_(), repr(view)
        return bundle

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        return self._bundle(**kwargs)

    def _ipython_display_(self, **kwargs: Any) -> None:
        """Display with a display id, so the saved snapshot is replaced once the codespace is left."""
        from IPython.display import display

        handle = display(self._bundle(), raw=True, display_id=True)
        if handle is not None and self.handle.state.phase is not Phase.TERMINATED:
            self._handles.append(handle)

    def _freeze(self) -> None:
        """Replace the saved snapshot once left (detached: again if it is then terminated from here)."""
        if not self._handles:
            return
        bundle = self._bundle()
        for handle in self._handles:
            handle.update(bundle, raw=True)
        if self.handle.state.phase is Phase.TERMINATED:
            self._handles = []
