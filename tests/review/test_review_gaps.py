"""Gaps the final review found: a map worker that meets an unexpected error, control characters in --arg."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from support import ready

from bentocloud_jupyter.core.calls.batch import Batch
from bentocloud_jupyter.core.calls.planning import plan
from bentocloud_jupyter.core.deployments.bento_args import parse_bento_args
from bentocloud_jupyter.core.errors import InvalidInputError


def test_an_unexpected_error_fails_its_item_and_never_vanishes(sbx_context: Any) -> None:
    ready("gap-map", "summarizer:v3")
    checked = plan("gap-map", "summarize", [{"text": "a. b."}] * 3, concurrency=1, retries=0, timeout=5,
                   context=None, cluster=None)
    calls = iter(range(10))

    def handler(request: httpx.Request) -> httpx.Response:
        if next(calls) == 1:
            raise RuntimeError("odd transport failure")
        return httpx.Response(200, json={"summary": "ok"})

    result = asyncio.run(Batch(checked, transport=httpx.MockTransport(handler)).run())
    assert [item.ok for item in result] == [True, False, True] and not result.stopped
    assert result[1].error == "Unexpected RuntimeError: odd transport failure"


@pytest.mark.parametrize("value", ["a\x00b", "line\nbreak", "bell\x07"])
def test_control_characters_in_an_arg_value_are_one_line(value: str) -> None:
    with pytest.raises(InvalidInputError, match="control character") as info:
        parse_bento_args([f"key={value}"])
    assert "\n" not in str(info.value) and value not in str(info.value)


def test_tabs_and_ordinary_values_still_pass() -> None:
    assert parse_bento_args(["a=1\t2", "b=x,c=y"]) == {"a": "1\t2", "b": "x", "c": "y"}
