"""Every error class, retries and backoff, through httpx.MockTransport and through the sandbox's knobs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from support import FAST_RETRY

from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    BentoCloudError,
    ConflictError,
    ConnectError,
    InsecureEndpointError,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
    RateLimitError,
    RequestTimeout,
    ServerError,
    ValidationError,
)
from bentocloud_jupyter.core.rest import client as client_module
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy, normalize_endpoint
from bentocloud_jupyter.sandbox import Sandbox

SECRET = "sekret-TOKEN-value-0042"
USER = {"name": "u", "email": "u@example.com", "first_name": "", "last_name": ""}
NO_JITTER = RetryPolicy(max_attempts=4, backoff=0.5, max_backoff=8.0, max_total=30.0, jitter=lambda: 1.0)


class Recorder:
    """A MockTransport handler answering from a script, recording requests."""

    def __init__(self, *answers: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


@pytest.fixture()
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    recorded: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", recorded.append)
    return recorded


def make(recorder: Recorder, retry: RetryPolicy = NO_JITTER) -> BentoCloudClient:
    return BentoCloudClient("https://cloud.example", SECRET, context_name="prod",
                            transport=httpx.MockTransport(recorder), retry=retry)


def reply(status: int, payload: Any = None, headers: dict[str, str] | None = None,
          text: str | None = None) -> httpx.Response:
    if text is not None:
        return httpx.Response(status, text=text, headers=headers)
    return httpx.Response(status, json=payload, headers=headers)


ERROR_TABLE = [
    (reply(401, {"error": "bad token"}), AuthenticationError, ["rejected", "%bentocloud login", "'prod'"]),
    (reply(403, {"message": "forbidden"}), AuthenticationError, ["lacks permission"]),
    (reply(404, {"error": "deployment x: record not found"}), NotFoundError, ["not found"]),
    (reply(400, text="record not found"), NotFoundError, ["not found"]),
    (reply(409, {"error": "name taken"}), ConflictError, ["name taken", "another name"]),
    (reply(400, {"error": "bad instance type cpu.9"}), ValidationError, ["cpu.9"]),
    (reply(422, {"detail": "scaling invalid"}), ValidationError, ["scaling invalid"]),
    (reply(429, {}, {"Retry-After": "7"}), RateLimitError, ["7 s"]),
    (reply(500, {}, {"x-trace-id": "trace-123"}), ServerError, ["trace-123", "500"]),
    (reply(503, text="<html>maintenance</html>"), ServerError, ["503", "maintenance"]),
    (reply(418, {"error": "teapot"}), APIError, ["418"]),
    (reply(200, text="<html>not json</html>"), ProtocolError, ["not valid JSON"]),
    (reply(200, text='{"name": "u", "email"'), ProtocolError, ["not valid JSON"]),
    (reply(200, {"no_name": True}), ProtocolError, ["unexpected answer", "'name'"]),
    (reply(200, ["a", "list"]), ProtocolError, ["unexpected answer"]),
    (httpx.ConnectError("connection refused"), ConnectError, ["Cannot connect", "cloud.example"]),
    (httpx.ReadTimeout("slow"), RequestTimeout, ["did not answer", "60 s"]),
    (httpx.RemoteProtocolError("Server disconnected"), ConnectError, ["broke"]),
]


@pytest.mark.parametrize(("answer", "error", "fragments"), ERROR_TABLE,
                         ids=[e[1].__name__ + str(i) for i, e in enumerate(ERROR_TABLE)])
def test_every_failure_maps_to_one_clear_error(answer: Any, error: type[Exception], fragments: list[str],
                                               sleeps: list[float]) -> None:
    with make(Recorder(answer), RetryPolicy(max_attempts=1)) as client, pytest.raises(error) as info:
        client.current_user()
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert "\n" not in message.strip() or message.count("\n") <= 1
    assert SECRET not in message and SECRET not in repr(info.value)
    assert isinstance(info.value, BentoCloudError)


def test_token_echoed_by_the_server_is_redacted(sleeps: list[float]) -> None:
    echo = reply(400, {"error": f"token {SECRET} is malformed; header X-YATAI-API-TOKEN: {SECRET}"})
    with make(Recorder(echo)) as client, pytest.raises(ValidationError) as info:
        client.current_user()
    assert SECRET not in str(info.value) and SECRET not in str(info.value.server_message)
    assert "0042" in str(info.value)


def test_headers_sent(sleeps: list[float]) -> None:
    recorder = Recorder(reply(200, USER))
    with make(recorder) as client:
        client.current_user()
    sent = recorder.requests[0]
    assert sent.headers["X-YATAI-API-TOKEN"] == SECRET
    assert sent.headers["User-Agent"].startswith("bentocloud-jupyter/")
    assert "authorization" not in sent.headers


def test_login_code_flow_sends_no_token(sleeps: list[float]) -> None:
    recorder = Recorder(reply(200, {"code": "abc"}))
    with make(recorder) as client:
        assert client.login_code() == "abc"
    assert "X-YATAI-API-TOKEN" not in recorder.requests[0].headers


def test_get_retries_502_503_504_with_backoff(sleeps: list[float]) -> None:
    recorder = Recorder(reply(502), reply(503), reply(504), reply(200, USER))
    with make(recorder) as client:
        assert client.current_user().name == "u"
    assert len(recorder.requests) == 4
    assert sleeps == [0.5, 1.0, 2.0]


def test_retries_are_capped_in_attempts(sleeps: list[float]) -> None:
    recorder = Recorder(reply(503))
    with make(recorder) as client, pytest.raises(ServerError):
        client.current_user()
    assert len(recorder.requests) == NO_JITTER.max_attempts


def test_retries_are_capped_in_total_time(sleeps: list[float]) -> None:
    recorder = Recorder(reply(429, {}, {"Retry-After": "20"}))
    policy = RetryPolicy(max_attempts=10, max_total=30.0, jitter=lambda: 1.0)
    with make(recorder, policy) as client, pytest.raises(RateLimitError):
        client.current_user()
    assert sleeps == [20.0]  # a second 20 s wait would pass the 30 s budget


def test_retry_after_is_honoured(sleeps: list[float]) -> None:
    recorder = Recorder(reply(429, {}, {"Retry-After": "3"}), reply(200, USER))
    with make(recorder) as client:
        client.current_user()
    assert sleeps == [3.0]


def test_post_is_not_retried_after_5xx_or_a_dropped_connection(sleeps: list[float]) -> None:
    for answer in (reply(503), httpx.RemoteProtocolError("dropped"), httpx.ReadTimeout("slow")):
        recorder = Recorder(answer, reply(200, {}))
        with make(recorder) as client, pytest.raises(BentoCloudError):
            client.terminate_deployment("x")
        assert len(recorder.requests) == 1


def test_post_is_retried_when_it_never_left(sleeps: list[float]) -> None:
    deployment_json = {"name": "x", "status": "terminating", "cluster": {"name": "c"}}
    for answer in (reply(429, {}, {"Retry-After": "1"}), httpx.ConnectError("refused")):
        recorder = Recorder(answer, reply(200, deployment_json))
        with make(recorder) as client:
            assert client.terminate_deployment("x").status == "terminating"
        assert len(recorder.requests) == 2


def test_jitter_stays_within_bounds() -> None:
    policy = RetryPolicy(backoff=1.0, max_backoff=4.0)
    for attempt in range(1, 6):
        delay = policy.delay(attempt)
        ceiling = min(4.0, 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling


@pytest.mark.parametrize(("given", "expected"), [
    ("https://cloud.bentoml.com/", "https://cloud.bentoml.com"),
    ("https://acme.cloud.bentoml.com", "https://acme.cloud.bentoml.com"),
    ("http://127.0.0.1:8975/", "http://127.0.0.1:8975"),
    ("http://localhost:3000/prefix/", "http://localhost:3000/prefix"),
    ("http://[::1]:9/", "http://[::1]:9"),
])
def test_endpoints_are_normalised(given: str, expected: str) -> None:
    assert normalize_endpoint(given) == expected


@pytest.mark.parametrize("bad", ["ftp://x.example", "cloud.bentoml.com", "", "https://user:pw@x.example",
                                 "https://x.example/?a=1", "javascript:alert(1)"])
def test_bad_endpoints_are_refused(bad: str) -> None:
    with pytest.raises(InvalidInputError):
        normalize_endpoint(bad)


def test_plain_http_to_a_remote_host_needs_insecure() -> None:
    with pytest.raises(InsecureEndpointError) as info:
        BentoCloudClient("http://cloud.example", SECRET)
    assert "https" in str(info.value) and SECRET not in str(info.value)
    assert BentoCloudClient("http://cloud.example", SECRET, insecure=True).endpoint == "http://cloud.example"


def test_reprs_never_show_the_token() -> None:
    client = BentoCloudClient("https://cloud.example", SECRET, context_name="prod")
    assert SECRET not in repr(client) + str(client) + repr(client.token) + str(vars(client))


# ------------------------------------------------------------------------- the same through the sandbox


def test_sandbox_fail_next_is_retried_for_get(live: Sandbox) -> None:
    live.faults.fail_next = 2
    live.reset_stats()
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY) as client:
        assert client.current_user().name == "sandbox-user"
    assert live.stats()["by_route"]["GET /api/v1/auth/current"] == 3


def test_sandbox_fail_next_is_not_retried_for_post(live: Sandbox) -> None:
    live.faults.fail_next = 1
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY) as client, pytest.raises(ServerError) as info:
        client.terminate_deployment("anything")
    assert info.value.status == 503 and info.value.trace_id


def test_sandbox_rate_limit_honours_retry_after(live: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr(client_module.time, "sleep", waits.append)
    live.faults.retry_after = 2
    live.faults.rate_limit_next = 1
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY) as client:
        assert client.current_organization().name == "sandbox"
    assert waits == [2.0]


def test_sandbox_dropped_connection(live: Sandbox) -> None:
    live.faults.drop_next = 1
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY) as client:
        assert client.current_user().name == "sandbox-user"  # GET: retried on a fresh connection
    live.faults.drop_next = 1
    with BentoCloudClient(live.url, live.token, retry=FAST_RETRY) as client, pytest.raises(ConnectError):
        client.void_update_deployment("whatever")


def test_sandbox_latency_hits_the_timeout(live: Sandbox) -> None:
    live.faults.latency = 1.0
    with BentoCloudClient(live.url, live.token, timeout=0.2, retry=RetryPolicy(max_attempts=1)) as client, \
            pytest.raises(RequestTimeout) as info:
        client.current_user()
    assert "0.2 s" in str(info.value)


def test_refused_connection_names_the_endpoint() -> None:
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with BentoCloudClient(f"http://127.0.0.1:{port}", SECRET, retry=RetryPolicy(max_attempts=1)) as client, \
            pytest.raises(ConnectError) as info:
        client.current_user()
    assert f"127.0.0.1:{port}" in str(info.value) and SECRET not in str(info.value)


def test_error_payload_shapes_do_not_crash() -> None:
    for payload in ({"error": None}, {"message": 5}, [], "text", None):
        recorder = Recorder(reply(400, payload))
        with make(recorder, RetryPolicy(max_attempts=1)) as client, pytest.raises(ValidationError):
            client.current_user()
    raw = httpx.Response(400, content=b"\xff\xfe\x00garbage")
    with make(Recorder(raw), RetryPolicy(max_attempts=1)) as client, pytest.raises(ValidationError):
        client.current_user()
    assert json.dumps({"ok": True})
