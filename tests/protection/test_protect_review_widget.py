"""The typed-name field under abuse: a wrong name is cleared and never echoed; clicks after the first run nothing."""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.widgets.confirm import TypedNameConfirm

SECRETISH = "typed-in-the-wrong-place-0123456789"


def _needed() -> ConfirmationNeeded:
    return ConfirmationNeeded("Context 'prod' is protected.", kind="deployment", name="web", context="prod",
                              wrong=False)


def _state(widget: Any) -> str:
    """Everything the widget tree would sync to the front end (and a notebook would save)."""
    seen: list[str] = []

    def walk(node: Any) -> None:
        seen.append(repr(node.get_state()))
        for child in getattr(node, "children", ()):
            walk(child)
    walk(widget)
    return "\n".join(seen)


def test_a_wrong_name_is_cleared_and_not_echoed() -> None:
    field = TypedNameConfirm(_needed(), lambda typed: None)
    field.field.value = SECRETISH
    field.button.click()
    assert field.field.value == "" and SECRETISH not in _state(field) and SECRETISH not in repr(field)
    assert "nothing was sent" in field.message.value and not field.done


def test_a_click_during_the_run_sends_nothing_more() -> None:
    calls: list[str] = []
    field: TypedNameConfirm

    def retry(typed: str) -> None:
        calls.append(typed)
        field.button.click()  # a second click handled while the first still runs

    field = TypedNameConfirm(_needed(), retry)
    field.field.value = "web"
    field.button.click()
    field.button.click()
    assert calls == ["web"] and field.done and field.button.disabled and field.field.disabled
