"""invoke without a server: which URLs may carry the token, OpenAPI parsing, error mapping and redaction."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import (
    APIError,
    InsecureEndpointError,
    NotReadyError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.rest.session import INSECURE_KEY
from bentocloud_jupyter.core.tokens import Token

TOKEN = "unit-invoke-token-987654"
CTX = Context("c", "https://cloud.example.com", Token(TOKEN))


def _dep(url: str, auth: bool, status: str = "running") -> Deployment:
    return Deployment("svc", status, "c", urls=(url,), access_authorization=auth)


def test_the_token_goes_only_where_it_is_needed_and_safe() -> None:
    remote_open = invoke._target(_dep("http://svc.example.com/", False), CTX)
    assert remote_open.url == "http://svc.example.com" and "Authorization" not in remote_open.headers
    secure = invoke._target(_dep("https://svc.example.com", True), CTX)
    assert secure.headers["Authorization"] == f"Bearer {TOKEN}" and TOKEN not in repr(secure)
    assert "Authorization" in invoke._target(_dep("http://127.0.0.1:3000", True), CTX).headers
    with pytest.raises(InsecureEndpointError, match="refusing to send it"):
        invoke._target(_dep("http://svc.example.com", True), CTX)
    trusted = Context("c", "http://x", Token(TOKEN), extra={INSECURE_KEY: True})
    assert "Authorization" in invoke._target(_dep("http://svc.example.com", True), trusted).headers
    with pytest.raises(NotReadyError, match="no single http"):
        invoke._target(_dep("javascript:alert(1)", False), CTX)
    with pytest.raises(NotReadyError, match="is image-building, not ready"):
        invoke._target(_dep("https://svc.example.com", False, "image-building"), CTX)


DOC: dict[str, Any] = {
    "openapi": "3.0.2",
    "paths": {
        "/readyz": {"get": {}},
        "/docs.json": {"get": {}},
        "/generate": {"post": {"summary": "Generate text", "requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/GenerateInput"}}}}}},
        "/upload": {"post": {"requestBody": {"content": {"multipart/form-data": {"schema": {}}}}}},
        "/status": {"get": {}},
        "/tree": {"post": {"requestBody": {"content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Node"}}}}}},
    },
    "components": {"schemas": {
        "GenerateInput": {"type": "object", "required": ["prompt"], "properties": {
            "prompt": {"type": "string", "description": "what to say"},
            "temperature": {"type": "number", "default": 0.7},
            "max_tokens": {"type": ["integer", "null"]},
            "stream": {"type": "boolean"},
            "mode": {"type": "string", "enum": ["a", "b"]}}},
        "Node": {"type": "object", "properties": {"children": {"type": "array",
                                                               "items": {"$ref": "#/components/schemas/Node"}}}},
    }},
}


def test_openapi_apis_with_resolved_schemas() -> None:
    apis = invoke.parse_openapi(DOC)
    assert [a.name for a in apis] == ["generate", "upload", "tree"]
    generate, upload, tree = apis
    assert generate.summary == "Generate text" and generate.simple and generate.required == ["prompt"]
    assert {k: invoke.schema_kind(v) for k, v in generate.properties.items()} == {
        "prompt": "string", "temperature": "number", "max_tokens": "integer", "stream": "boolean", "mode": "string"}
    assert generate.example() == {"prompt": "", "temperature": 0.7, "max_tokens": 0, "stream": False, "mode": ""}
    assert upload.schema is None and not upload.simple and upload.example() == {}
    assert not tree.simple and list(tree.example()) == ["children"]  # a recursive schema is cut, not looped
    view = invoke.OpenAPIView("svc", apis)
    assert view.get("/generate/") is generate and view.get("nope") is None
    assert "generate(prompt: string, temperature: number" in repr(view) and "upload((raw JSON))" in repr(view)
    with pytest.raises(ProtocolError):
        invoke.parse_openapi({"swagger": "2.0"})


def _error(status: int, body: Any, auth: bool = False) -> APIError:
    target = invoke._Target("svc", "https://svc.example.com", auth, {})
    return invoke._call_error(target, "predict", httpx.Response(status, json=body))


def test_errors_quote_the_api_and_hide_tokens() -> None:
    echoed = _error(500, {"error": f"boom: header was Bearer {TOKEN}"})
    assert isinstance(echoed, ServerError) and TOKEN not in str(echoed) and "boom" in str(echoed)
    assert "****" in str(echoed) and TOKEN not in str(echoed.server_message)
    assert "waking up from zero replicas" in str(_error(503, {"error": "is scaled-to-zero"}))
    assert isinstance(_error(429, {"detail": "slow down"}), RateLimitError)
    teapot = _error(418, {"message": "short and stout\n" + "x" * 1000})
    assert type(teapot) is APIError and "\n" not in str(teapot) and len(str(teapot)) < 400
    assert "access authorization looks off" in str(_error(401, {"error": "who are you"}, auth=False))
    assert "%bentocloud login" in str(_error(403, {"error": "no"}, auth=True))


def test_result_display() -> None:
    text = invoke.CallResult("svc", "echo", 200, "<i>plain</i>", 3.2, "text/plain")
    assert text.text == "<i>plain</i>" and "&lt;i&gt;" in text._repr_html_() and text._repr_json_() is None
    failed_colour = invoke.CallResult("svc", "echo", 302, {"a": "é"}, 1.0, "application/json", True)
    assert '"a": "é"' in failed_colour.text and "#6e7781" in failed_colour._repr_html_()
