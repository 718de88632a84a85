"""CallForm: inputs generated from a deployment's OpenAPI schema, Send on the loop, the escaped response."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import ipywidgets as widgets
import pytest
from support import deploy, make_sandbox_fixture, ready, run_loop, until, use_context
from widget_helpers import assert_secret_absent

from bentocloud_jupyter.core.calls.invoke import ApiSpec, OpenAPIView
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets.callform import CallForm

GENERATE = ApiSpec("generate", "Generate", {"type": "object", "required": ["prompt"], "properties": {
    "prompt": {"type": "string"}, "temperature": {"type": "number", "default": 0.7},
    "max_tokens": {"type": "integer"}, "stream": {"type": "boolean"},
    "mode": {"type": "string", "enum": ["a", "b"]}}})
NESTED = ApiSpec("batch", "", {"type": "object",
                               "properties": {"rows": {"type": "array", "items": {"type": "number"}}}})


own_sandbox = make_sandbox_fixture(scope="module")  # its deployments must not show up in the other panels' tests


@pytest.fixture()
def logged_in(own_sandbox: Sandbox) -> Iterator[Sandbox]:
    yield use_context(own_sandbox, "forms")
    session.close_all()


def test_inputs_follow_the_schema_without_a_loop() -> None:
    form = CallForm("svc", spec=OpenAPIView("svc", (GENERATE, NESTED)))
    kinds = {name: type(w).__name__ for name, w in form.inputs.items()}
    assert kinds == {"prompt": "Textarea", "temperature": "FloatText", "max_tokens": "IntText",
                     "stream": "Checkbox", "mode": "Text"}
    assert form.inputs["prompt"].description == "prompt *" and form.inputs["temperature"].value == 0.7
    form.inputs["prompt"].value = "hello"
    assert form.body() == {"prompt": "hello", "temperature": 0.7, "max_tokens": 0, "stream": False}
    form.api.value = "batch"  # a nested schema: one raw JSON box with an example
    assert form.inputs == {} and form.raw is not None and json.loads(form.raw.value) == {"rows": [0.0]}
    assert form.fields.children == (form.raw,)
    form.send_button.click()  # no running loop: said, not raised
    assert "No running event loop" in form.output.value


def test_summarizer_form_sends_and_shows_the_response(logged_in: Sandbox) -> None:
    name = ready("cf-sum")
    flips: list[bool] = []

    async def main() -> CallForm:
        form = CallForm(name)
        await until(lambda: form.api.options == ("summarize",))
        assert isinstance(form.inputs["text"], widgets.Textarea) and not form.send_button.disabled
        form.inputs["text"].value = "<b>Bold</b> claims first. Then the rest."
        form.send_button.observe(lambda change: flips.append(change["new"]), names="disabled")
        form.send_button.click()
        await until(lambda: form.result is not None)
        return form

    form = run_loop(main)
    assert flips == [True, False]
    assert form.result is not None and form.result.body == {"summary": "<b>Bold</b> claims first."}
    assert "&lt;b&gt;Bold&lt;/b&gt; claims first." in form.output.value and "<b>Bold" not in form.output.value
    assert " ms" in form.output.value and "cf-sum/summarize" in form.output.value
    assert repr(form) == "CallForm('cf-sum', apis=['summarize'])"


def test_protected_nested_schema_uses_raw_json(logged_in: Sandbox) -> None:
    name = ready("cf-iris", "iris_classifier:v1", access_authorization=True)

    async def main() -> CallForm:
        form = CallForm(name)
        await until(lambda: form.raw is not None)
        form.raw.value = "{not json"  # type: ignore[union-attr]
        assert await form.send() is None and "not valid JSON" in form.output.value
        form.raw.value = json.dumps({"input_data": [[6.7, 3.0, 5.2, 2.3]]})  # type: ignore[union-attr]
        assert await form.send() is not None
        return form

    form = run_loop(main)
    assert form.result is not None and form.result.body == [2] and "200" in form.output.value
    assert_secret_absent(form, logged_in.token)


def test_failures_show_one_line(logged_in: Sandbox) -> None:
    name = ready("cf-sum")
    frozen = time.time()

    async def main() -> tuple[CallForm, CallForm]:
        wrong = CallForm(name, spec=OpenAPIView(name, (ApiSpec("summarize", "", {
            "type": "object", "properties": {"txt": {"type": "string"}}}),)))
        wrong.inputs["txt"].value = "hi"
        await wrong.send()
        logged_in.state.clock = lambda: frozen
        deploy("summarizer:v3", "cf-wait")
        waiting = CallForm("cf-wait")
        await until(lambda: "Cannot list" in waiting.output.value)
        return wrong, waiting

    try:
        wrong, waiting = run_loop(main)
    finally:
        logged_in.state.clock = time.time
    assert "refused the input (400: body.text: field required)" in wrong.output.value
    assert "#cf222e" in wrong.output.value and not wrong.send_button.disabled
    assert "&#x27;cf-wait&#x27; is deploying, not ready" in waiting.output.value
    assert waiting.send_button.disabled and waiting.api.options == ()
