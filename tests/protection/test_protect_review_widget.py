"""The typed-name field under abuse: a wrong name is cleared and never echoed; clicks after the first run nothing."""

from __future__ import annotations

from typing import Any

import pytest
from IPython.core.displaypub import CapturingDisplayPublisher
from protect_helpers import Shell
from support import ready

import bentocloud_jupyter as bc
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.sandbox import Sandbox
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


def test_the_banner_is_shown_once_through_the_field_and_its_retry(cell: Shell, sbx_context: Sandbox,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bentocloud_jupyter.ipython.present.widgets_enabled", lambda: True)
    ready("review-field")
    bc.protect("sbx")
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", sbx_context.token)  # reached through the env key: still asked
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", sbx_context.url)
    sbx_context.reset_stats()
    publisher = CapturingDisplayPublisher()
    ran = cell("%bentocloud terminate review-field")
    field = ran.result
    assert isinstance(field, TypedNameConfirm) and field.needed.context == "sbx"
    assert sbx_context.stats()["total"] == 0
    banners = [d for d in ran.displayed if "BentoCloud →" in str(d.get("text/plain"))]
    assert len(banners) == 1 and "PROTECTED BENTO_CLOUD_API_KEY" in banners[0]["text/plain"]
    cell.ip.display_pub = publisher
    field.field.value = "review-field"
    field.button.click()
    field.button.click()
    assert field.done and "Traceback" not in field.message.value, field.message.value
    assert not any("BentoCloud →" in str(o.get("data", {})) for o in publisher.outputs)
    assert sbx_context.stats()["total"] > 0  # the retry, once, did send the terminate
