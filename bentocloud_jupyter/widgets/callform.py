"""A small form to call a ready deployment, generated from the APIs its OpenAPI document describes.

A Dropdown picks the API; each top-level property of its JSON request schema gets one input (Text or
Textarea for strings, FloatText/IntText for numbers, Checkbox for booleans), and a schema with nested
or unknown fields gets one raw-JSON Textarea prefilled with an example instead. Send runs the call as
a task on the kernel's loop (the button is disabled meanwhile) and shows the escaped, pretty response
with its latency.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.calls.invoke import ApiSpec, CallResult, OpenAPIView
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.widgets._common import busy, error_line, message_html, running_loop

__all__ = ["CallForm"]

_WIDE = {"width": "95%"}
_LABEL = {"description_width": "initial"}


def _input(name: str, schema: Mapping[str, Any], required: bool) -> widgets.Widget:
    """One input for a primitive property; long text (no small ``maxLength``, no enum) gets a Textarea."""
    kind = invoke.schema_kind(schema)
    label = name + (" *" if required else "")
    tip = str(schema.get("description") or schema.get("title") or name)
    common: dict[str, Any] = dict(description=label, tooltip=tip, style=_LABEL)
    default = schema.get("default", schema.get("example"))
    if kind == "boolean":
        return widgets.Checkbox(value=bool(default), indent=False, **common)
    if kind == "integer":
        return widgets.IntText(value=_number(default, int), **common)
    if kind == "number":
        return widgets.FloatText(value=_number(default, float), **common)
    short = "enum" in schema or int(schema.get("maxLength") or 10**6) <= 100
    cls = widgets.Text if short else widgets.Textarea
    return cls(value=str(default or ""), placeholder=tip, layout=widgets.Layout(**_WIDE), **common)


def _number(value: Any, kind: type[int] | type[float]) -> Any:
    try:
        return kind(value or 0)
    except (TypeError, ValueError):  # a schema's default of the wrong type: start from zero
        return kind(0)


class CallForm(widgets.VBox):  # type: ignore[misc]
    """Call the APIs of the ready deployment ``name``; ``load()`` fetches its OpenAPI document (async)."""

    def __init__(self, name: str, *, context: str | None = None, cluster: str | None = None,
                 spec: OpenAPIView | None = None, autoload: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.name = name
        self.context = context
        self.cluster = cluster
        self.spec: OpenAPIView | None = None
        self.api = widgets.Dropdown(description="API", options=[], style=_LABEL)
        self.fields = widgets.VBox()
        self.send_button = widgets.Button(description="Send", icon="paper-plane", button_style="primary",
                                          disabled=True)
        self.output = widgets.HTML()
        self.children = [self.api, self.fields, self.send_button, self.output]
        self.inputs: dict[str, widgets.Widget] = {}
        self.raw: widgets.Textarea | None = None
        self.result: CallResult | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.api.observe(lambda _: self._build(), names="value")
        self.send_button.on_click(lambda _: self._spawn(self.send()))
        if spec is not None:
            self.set_spec(spec)
        elif autoload and running_loop() is not None:
            self.load()

    def __repr__(self) -> str:
        return f"CallForm({self.name!r}, apis={[a.name for a in self.spec.apis] if self.spec else None})"

    def load(self) -> asyncio.Task[Any] | None:
        """Fetch the deployment's APIs on the running loop; a failure shows as one line."""
        self.output.value = message_html("Loading the APIs…")
        return self._spawn(self._load())

    async def _load(self) -> None:
        try:
            self.set_spec(await invoke.aopenapi(self.name, self.context, cluster=self.cluster))
        except Exception as error:
            self.output.value = message_html(f"Cannot list the APIs: {error_line(error)}", "error")

    def set_spec(self, spec: OpenAPIView) -> None:
        self.spec = spec
        names = [a.name for a in spec.apis]
        self.api.options = names
        self.api.value = names[0] if names else None  # a Dropdown whose options were empty picks nothing
        self.output.value = "" if names else message_html("This deployment documents no API to call.", "warning")
        self.send_button.disabled = not names
        self._build()

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        super().close()

    @property
    def chosen(self) -> ApiSpec | None:
        return self.spec.get(str(self.api.value)) if self.spec and self.api.value else None

    def _build(self) -> None:
        """Inputs for the chosen API: one per property of a flat schema, else one raw-JSON Textarea."""
        api = self.chosen
        self.inputs, self.raw = {}, None
        if api is None:
            self.fields.children = []
        elif api.simple:
            self.inputs = {k: _input(k, v, k in api.required) for k, v in api.properties.items()}
            self.fields.children = list(self.inputs.values())
        else:
            self.raw = widgets.Textarea(value=json.dumps(api.example(), indent=2), description="JSON body",
                                        style=_LABEL, layout=widgets.Layout(width="95%", height="8em"))
            self.fields.children = [self.raw]

    def body(self) -> Any:
        """The JSON body the inputs describe (empty optional texts left out).

        Raises:
            InvalidInputError: the raw JSON does not parse.
        """
        if self.raw is not None:
            try:
                return json.loads(self.raw.value or "{}")
            except ValueError as exc:
                raise InvalidInputError(f"The JSON body is not valid JSON ({exc}).") from None
        api = self.chosen
        required = set(api.required) if api else set()
        return {k: w.value for k, w in self.inputs.items() if w.value != "" or k in required}

    async def send(self) -> CallResult | None:
        """Call the chosen API with the form's body; shows the response (or one error line)."""
        api = self.api.value
        if not api:
            return None
        with busy([self.send_button, self.api]):
            self.output.value = message_html(f"Calling {api}…")
            try:
                self.result = await invoke.acall(self.name, str(api), self.body(), None, self.context,
                                                 cluster=self.cluster)
            except Exception as error:
                self.output.value = message_html(error_line(error), "error")
                return None
        self.output.value = html_of(self.result)
        return self.result

    def _spawn(self, work: Any) -> asyncio.Task[Any] | None:
        loop = running_loop()
        if loop is None:
            work.close()
            self.output.value = message_html("No running event loop to call from.", "error")
            return None
        task = loop.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task
