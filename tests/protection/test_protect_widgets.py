"""The typed-name field (through its model) and the context picker's protected mark."""

from __future__ import annotations

from typing import Any

import pytest
from protect_helpers import Shell

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.errors import NotFoundError
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.ipython.confirm_frontend import ask_typed_name
from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.widgets import ContextPicker
from bentocloud_jupyter.widgets.confirm import TypedNameConfirm


def _needed(wrong: bool = False) -> ConfirmationNeeded:
    return ConfirmationNeeded("Context 'prod' is protected.", kind="deployment", name="web<1>", context="prod",
                              wrong=wrong)


def test_a_wrong_name_sends_nothing_and_says_so() -> None:
    calls: list[str] = []
    field = ask_typed_name(_needed(), lambda typed: calls.append(typed))
    assert isinstance(field, TypedNameConfirm) and "web&lt;1&gt;" in field.prompt.value
    for typed in ("", "web", "WEB<1>", " web<1>"):
        field.field.value = typed
        field.button.click()
        assert calls == [] and "nothing was sent" in field.message.value
    field.field.value = "web<1>"
    field.button.click()
    field.button.click()  # a second click sends nothing more
    assert calls == ["web<1>"] and field.done and field.button.disabled and "Confirmed" in field.message.value


def test_a_failing_retry_is_one_line_in_the_field() -> None:
    def retry(typed: str) -> Any:
        raise NotFoundError(f"No deployment {typed!r}.", status=404)

    field = TypedNameConfirm(_needed(), retry)
    field.field.value = "web<1>"
    field.button.click()
    assert "No deployment" in field.message.value and "Traceback" not in field.message.value


def test_a_wrong_name_on_the_line_gets_no_field() -> None:
    with pytest.raises(ConfirmationNeeded):
        ask_typed_name(_needed(wrong=True), lambda typed: None)


def test_the_magic_shows_the_field_where_widgets_render(cell: Shell, sbx_context: Sandbox,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bentocloud_jupyter.ipython.present.widgets_enabled", lambda: True)
    bc.apply_secret("field-secret", [("KEY", "value-of-field")])
    bc.protect("sbx")
    sbx_context.reset_stats()
    ran = cell("%bentocloud secret delete field-secret")
    field = ran.result
    assert isinstance(field, TypedNameConfirm) and sbx_context.stats()["total"] == 0
    field.field.value = "field-secreT"
    field.button.click()
    assert sbx_context.stats()["total"] == 0 and "field-secret" in sbx_context.state.secrets
    field.field.value = "field-secret"
    field.button.click()
    assert "field-secret" not in sbx_context.state.secrets and field.done


def test_the_picker_marks_protected_contexts_and_notices_changes() -> None:
    config.save_context(config.Context("prod", "https://prod.example", Token("t-picker-prod-1")))
    config.save_context(config.Context("dev", "https://dev.example", Token("t-picker-dev-1")))
    picker = ContextPicker(check_interval=3600)
    try:
        assert not any("[protected]" in label for label, _ in picker.dropdown.options)
        bc.protect("prod")
        assert picker.check_for_changes()
        labels = dict((value, label) for label, value in picker.dropdown.options)
        assert "prod [protected]" in labels["prod"] and "[protected]" not in labels["dev"]
    finally:
        picker.close()
