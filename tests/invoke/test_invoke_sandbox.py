"""Calling deployments served by the sandbox: the token only when the deployment wants it, readiness, API
errors quoted in one line, file bodies, the OpenAPI listing, and the async twin."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx
import pytest
from support import ready

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.errors import (
    AuthenticationError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
    ValidationError,
)
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.sandbox import Sandbox


def test_open_deployment_gets_no_token(logged_in: Sandbox, sent: list[httpx.Request]) -> None:
    name = ready("iv-open")
    result = api.call(name, "summarize", {"text": "First <b>sentence</b> here. Second one."})
    assert result.status == 200 and result.is_json and result.body == {"summary": "First <b>sentence</b> here."}
    assert 0 < result.latency_ms < 5000
    [request] = sent
    assert request.method == "POST" and request.url.path == f"/_svc/{name}/summarize"
    assert "authorization" not in request.headers and "x-yatai-api-token" not in request.headers
    assert json.loads(request.content) == {"text": "First <b>sentence</b> here. Second one."}
    assert repr(result).startswith(f"200 from {name}/summarize in ") and '"summary"' in repr(result)
    html = result._repr_html_()
    assert "<b>sentence" not in html and "&lt;b&gt;sentence" in html and " ms" in html
    assert result._repr_json_() == result.body


def test_protected_deployment_gets_the_bearer_token(logged_in: Sandbox, sent: list[httpx.Request]) -> None:
    name = ready("iv-auth", "iris_classifier:v1", access_authorization=True)
    result = api.call(name, "classify", json.dumps({"input_data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]}))
    assert result.body == [0, 2]
    spec = api.openapi(name)
    assert [request.headers.get("authorization") for request in sent] == [f"Bearer {logged_in.token}"] * 2
    assert all("x-yatai-api-token" not in request.headers for request in sent)
    classify = spec.get("classify")
    assert classify is not None and not classify.simple and classify.example() == {"input_data": [[0.0]]}
    for shown in (repr(result), result._repr_html_(), repr(spec), spec._repr_html_()):
        assert logged_in.token not in shown


def test_a_missing_token_is_refused_with_the_apis_message(logged_in: Sandbox, monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    name = ready("iv-auth", "iris_classifier:v1", access_authorization=True)
    real_send = httpx.Client.send

    def without_token(self: httpx.Client, request: httpx.Request, **kwargs: object) -> httpx.Response:
        request.headers.pop("authorization", None)
        return real_send(self, request, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx.Client, "send", without_token)
    with pytest.raises(AuthenticationError) as caught:
        api.call(name, "classify", {"input_data": [[1, 2, 3, 4]]})
    message = str(caught.value)
    assert "401" in message and "requires access authorization" in message and "\n" not in message
    assert caught.value.status == 401 and logged_in.token not in message


def test_not_ready_is_refused_before_any_request(logged_in: Sandbox, sent: list[httpx.Request]) -> None:
    frozen = time.time()
    logged_in.state.clock = lambda: frozen
    try:
        api.deploy("summarizer:v3", name="iv-wait")
        with pytest.raises(NotReadyError, match="'iv-wait' is deploying, not ready to be called"):
            api.call("iv-wait", "summarize", {"text": "x"})
        with pytest.raises(NotReadyError, match="not ready"):
            api.openapi("iv-wait")
    finally:
        logged_in.state.clock = time.time
    assert sent == []


def test_unknown_api_and_bad_input_quote_the_api(logged_in: Sandbox) -> None:
    name = ready("iv-open")
    with pytest.raises(NotFoundError) as missing:
        api.call(name, "summarise", {"text": "x"})
    assert "no API 'summarise' (404: no API at /summarise: see /docs.json)" in str(missing.value)
    with pytest.raises(ValidationError) as refused:
        api.call(name, "/summarize/", {"txt": "x"})
    assert str(refused.value) == "API 'summarize' of 'iv-open' refused the input (400: body.text: field required)."
    with pytest.raises(NotFoundError, match="'iv-ghost'"):
        api.call("iv-ghost", "summarize")


def test_file_bodies_and_body_mistakes(logged_in: Sandbox, tmp_path: Path, sent: list[httpx.Request]) -> None:
    name = ready("iv-open")
    body = tmp_path / "input.json"
    body.write_text('{"text": "From a file. Yes."}')
    assert api.call(name, "summarize", file=str(body)).body == {"summary": "From a file."}
    assert sent[-1].headers["content-type"] == "application/json" and sent[-1].content == body.read_bytes()
    with pytest.raises(InvalidInputError, match="Cannot read"):
        api.call(name, "summarize", file=str(tmp_path / "missing.bin"))
    with pytest.raises(InvalidInputError, match="not both"):
        api.call(name, "summarize", {"text": "x"}, str(body))
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        api.call(name, "summarize", "{text: x}")
    with pytest.raises(InvalidInputError, match="not an API name"):
        api.call(name, "../admin")
    assert len(sent) == 1


def test_scaled_to_zero_counts_as_ready_and_async_twin(logged_in: Sandbox) -> None:
    name = ready("iv-zero", "llm-chat:v1", scaling_min=0, envs=["OPENAI_API_KEY=sk-test-not-real"])
    client, _ = session.client_for()
    deadline = time.monotonic() + 5
    while client.get_deployment(name).status != "scaled-to-zero":
        assert time.monotonic() < deadline
        time.sleep(0.02)

    async def main() -> tuple[invoke.CallResult, invoke.OpenAPIView]:
        try:
            return await invoke.acall(name, "chat", {"prompt": "hi"}), await invoke.aopenapi(name)
        finally:
            session.close_all()
            await asyncio.sleep(0.05)

    result, spec = asyncio.run(main())
    assert result.status == 200 and "You said" in result.body["reply"]
    assert [(a.name, list(a.properties), a.simple) for a in spec.apis] == [("chat", ["prompt"], True)]
