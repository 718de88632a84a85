"""One error mapper, one User-Agent, hints as data: REST, websockets and calls into deployments agree."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from websockets.datastructures import Headers
from websockets.exceptions import InvalidStatus
from websockets.http11 import Response as WsResponse

from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    BentoCloudError,
    ConflictError,
    InsecureEndpointError,
    NotFoundError,
    NotReadyError,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    ValidationError,
)
from bentocloud_jupyter.core.logs import protocol as logs
from bentocloud_jupyter.core.logs.wire import LogTail, QuietClock
from bentocloud_jupyter.core.rest import errors_map
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.errors_map import Refusal, api_error, error_class
from bentocloud_jupyter.core.rest.http import USER_AGENT, Call, RetryPolicy, response_error, transport_error
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token

TOKEN = "mapper-test-token-24680"
CLASSES: list[tuple[int, type[APIError]]] = [
    (401, AuthenticationError), (403, AuthenticationError), (404, NotFoundError), (409, ConflictError),
    (400, ValidationError), (422, ValidationError), (429, RateLimitError), (500, ServerError), (502, ServerError),
    (503, ServerError), (418, APIError), (302, APIError)]


@pytest.mark.parametrize(("status", "kind"), CLASSES)
def test_every_surface_picks_the_same_class(status: int, kind: type[APIError]) -> None:
    body = {"error": "nope"}
    rest = response_error(Call("GET", "/x", lambda b: b), httpx.Response(status, json=body), "https://c.example")
    target = invoke._Target("svc", "https://svc.example.com", True, {})
    call = invoke._call_error(target, "predict", httpx.Response(status, json=body))
    ws = logs._open_error(InvalidStatus(WsResponse(status, "", Headers(), json.dumps(body).encode())),
                          logs.WsEndpoint("wss://c.example"), "the pods")
    assert type(rest) is type(call) is type(ws) is kind is error_class(status)
    assert all(e.status == status and e.server_message == "nope" for e in (rest, call, ws) if isinstance(e, APIError))


def test_only_rest_reads_400_record_not_found_as_not_found() -> None:
    assert error_class(400, "deployment x: record not found", legacy_not_found=True) is NotFoundError
    assert error_class(400, "deployment x: record not found") is ValidationError


def test_wording_by_status_then_class_then_api_error() -> None:
    wording: errors_map.Wording = {503: "asleep {status}{said}", ServerError: "broken {status}",
                                   APIError: "other {status} at {endpoint}"}
    refusal = Refusal(503, "zzz")
    assert api_error(refusal, wording, endpoint="e").message == "asleep 503: zzz"
    assert api_error(Refusal(500), wording, endpoint="e").message == "broken 500"
    assert api_error(Refusal(409), wording, endpoint="e").message == "other 409 at e"


def test_refusals_carry_retry_after_trace_id_and_the_login_hint() -> None:
    limited = api_error(Refusal.of(httpx.Response(429, headers={"Retry-After": "7"})), {APIError: "slow{wait}"},
                        endpoint="e")
    assert isinstance(limited, RateLimitError) and limited.retry_after == 7.0 and limited.message == "slow in 7 s"
    traced = Refusal.of(httpx.Response(500, headers={"x-trace-id": "t-1"}, content=b"\xff\xfe boom"))
    assert traced.trace_id == "t-1" and "boom" in traced.server_message
    refused = api_error(Refusal(401), {APIError: "no"}, endpoint="e")
    assert refused.hint is not None and refused.hint.verb == "login"
    assert api_error(Refusal(401), {APIError: "no"}, endpoint="e", login_hint=False).hint is None


def test_server_words_are_one_short_redacted_line() -> None:
    Token(TOKEN)  # a token we know is masked wherever it shows up
    said = errors_map.server_message(json.dumps({"message": f"bad\n token {TOKEN} " + "x" * 1000}))
    assert "\n" not in said and TOKEN not in said and len(said) <= errors_map.MAX_SERVER_TEXT + 3


def test_a_bad_200_is_a_decoding_error_beside_api_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>proxy</html>")

    with BentoCloudClient("https://c.example", TOKEN, transport=httpx.MockTransport(answer),
                          retry=RetryPolicy(max_attempts=1)) as client, pytest.raises(ProtocolError) as caught:
        client.current_user()
    assert not isinstance(caught.value, APIError) and isinstance(caught.value, BentoCloudError)
    assert caught.value.endpoint == "https://c.example" and "not valid JSON" in str(caught.value)


def test_one_user_agent_everywhere() -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["User-Agent"])
        return httpx.Response(200, json={"name": "u", "email": "e"})

    with BentoCloudClient("https://c.example", TOKEN, transport=httpx.MockTransport(answer)) as client:
        client.current_user()
    target = invoke._target(Deployment("svc", "running", "c", urls=("https://svc.example.com",)),
                            Context("c", "https://c.example", Token(TOKEN)))
    from websockets.sync.client import connect

    assert seen == [USER_AGENT] and target.headers["User-Agent"] == USER_AGENT
    assert logs._options(connect)["user_agent_header"] == USER_AGENT


def test_both_clients_bind_one_endpoint_list_with_typed_methods() -> None:
    def methods(cls: type[Any]) -> set[str]:
        return {name for klass in cls.__mro__ for name, value in vars(klass).items()
                if type(value).__name__ == "_Endpoint"}

    assert methods(BentoCloudClient) == methods(AsyncBentoCloudClient) >= {"get_deployment", "get_item"}
    client = AsyncBentoCloudClient("https://c.example", TOKEN)
    assert asyncio.iscoroutinefunction(client.get_deployment) and client.get_deployment.__name__ == "get_deployment"
    asyncio.run(client.aclose())


def test_the_core_names_what_to_run_not_how_to_type_it() -> None:
    not_ready = Deployment("svc", "deploying", "c", urls=("https://svc.example.com",))
    with pytest.raises(NotReadyError) as caught:
        invoke._target(not_ready, Context("c", "https://c.example", Token(TOKEN)))
    assert caught.value.hint is not None and caught.value.hint.verb == "status"
    assert caught.value.hint.args["name"] == "svc"
    with pytest.raises(InsecureEndpointError) as insecure:
        logs.ws_base("http://cloud.example.com")
    assert insecure.value.hint is not None and insecure.value.hint.args == {"insecure": True}
    slow = transport_error(httpx.ReadTimeout("slow"), Call("GET", "/x", lambda b: b), "https://c.example", 60.0)
    assert isinstance(slow, RequestTimeout) and slow.hint is not None and slow.hint.verb == "configure"
    for error in (caught.value, insecure.value, slow):
        assert "%" not in error.message and "--" not in error.message


def _items(*chunks: bytes) -> str:
    return json.dumps({"type": "success", "payload": {"items": [base64.b64encode(c).decode() for c in chunks]}})


def test_a_log_tail_is_plain_code() -> None:
    tail = LogTail("w", "main", False, 10)
    assert json.loads(tail.request)["payload"]["container_name"] == "main"
    assert tail.take(_items(b"one\ntw", b"o\nthr")) == ["one", "two"]
    assert tail.take(json.dumps({"type": "heartbeat"})) == []
    assert tail.take(json.dumps({"type": "success", "message": "EOF"})) is None
    assert tail.finish() == ["thr"]


def test_a_blocking_read_stops_when_quiet_or_late() -> None:
    clock = QuietClock(100.0, timeout=15.0, idle=3.0)
    assert clock.beat_due(100.0) and not clock.beat_due(101.0) and clock.beat_due(105.0)
    assert clock.wait(101.0) == pytest.approx(2.0)
    clock.heard(102.5)
    assert clock.wait(104.0) == pytest.approx(1.5)
    assert clock.wait(105.5) is None
    busy = QuietClock(0.0, timeout=15.0, idle=3.0)
    busy.heard(14.9)
    assert busy.wait(15.0) is None
