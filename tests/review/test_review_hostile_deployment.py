"""Review finding: a deployment answering JSON nested past the interpreter's limit must not crash a call or a map.

Before the fix ``response.json()`` raised RecursionError out of the reader (only ValueError was caught): ``bc.call``
showed a traceback and a ``bc.map`` worker died with it instead of recording one line on the item.
"""

from __future__ import annotations

import httpx
import pytest

from bentocloud_jupyter.core.calls.invoke import CallRequest, call_exchange, spec_exchange
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import ProtocolError
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token

CTX = Context("c", "https://cloud.example.com", Token("review-deep-token-314159"))
DEEP = b"[" * 100_000 + b"]" * 100_000


def _dep() -> Deployment:
    return Deployment("svc", "running", "c", urls=("https://svc.example.com",), access_authorization=False)


def _answer() -> httpx.Response:
    return httpx.Response(200, content=DEEP, headers={"content-type": "application/json"})


def test_a_deeply_nested_call_answer_is_kept_as_text() -> None:
    exchange = call_exchange(_dep(), CTX, CallRequest.of("/generate", {"x": 1}, None))
    result = exchange.read(_answer(), 1.0)
    assert result.status == 200 and isinstance(result.body, str)


def test_a_deeply_nested_docs_json_is_one_line() -> None:
    with pytest.raises(ProtocolError, match="not JSON"):
        spec_exchange(_dep(), CTX).read(_answer(), 1.0)
