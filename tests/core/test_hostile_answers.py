"""A hostile server (issue 16, findings 5, 9a and 13): deep JSON, paging numbers of ``1e999``, listings that never
end, storage refusals quoting S3 XML, names that only pretend to be loopback. Each is one line, never a traceback
or an endless loop, and a watcher that meets one ends its watches with it."""

from __future__ import annotations

import asyncio
import http.server
import json
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from support import FAST_RETRY

from bentocloud_jupyter.core.deployments.watch import Outcome, WatchHub, WatchState, wait_for
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    InsecureEndpointError,
    ProtocolError,
    ServerError,
    WatchError,
)
from bentocloud_jupyter.core.rest import endpoints
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.http import MAX_JSON_DEPTH, is_loopback, normalize_endpoint, resolves_to_loopback

URL = "https://cloud.test"
TOKEN = "hostile-test-token-0123456789"
DEEP = "[" * 100_000 + "]" * 100_000  # past the interpreter's recursion limit
NESTED = '{"a":' * (MAX_JSON_DEPTH + 5) + "1" + "}" * (MAX_JSON_DEPTH + 5)  # parses, but deeper than we accept
Handler = Callable[[httpx.Request], httpx.Response]


def raw(status: int, text: str, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=text.encode(), headers={"content-type": "application/json", **headers})


def item(name: str, status: str = "deploying") -> dict[str, Any]:
    return {"name": name, "status": status, "cluster": "c"}


def client(handler: Handler) -> BentoCloudClient:
    return BentoCloudClient(URL, TOKEN, transport=httpx.MockTransport(handler), retry=FAST_RETRY)


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text and TOKEN not in text
    return text


# ------------------------------------------------------------------------------------------ deep JSON


@pytest.mark.parametrize("body", [DEEP, NESTED], ids=["past-recursion-limit", "past-our-depth"])
def test_deep_json_is_one_protocol_error(body: str) -> None:
    with client(lambda request: raw(200, body)) as c, pytest.raises(ProtocolError) as info:
        c.get_deployment("d")
    assert "BentoCloud" in one_line(info.value)


def test_a_deep_error_body_still_maps_to_its_status() -> None:
    with client(lambda request: raw(400, DEEP)) as c, pytest.raises(APIError) as info:
        c.get_deployment("d")
    assert info.value.status == 400 and len(one_line(info.value)) < 600


def test_reasonable_nesting_is_still_accepted() -> None:
    deployment = {**item("d", "running"), "extra": json.loads('{"a":' * 20 + "1" + "}" * 20)}
    with client(lambda request: raw(200, json.dumps(deployment))) as c:
        assert c.get_deployment("d").status == "running"


# ------------------------------------------------------------------------------------- paging numbers


@pytest.mark.parametrize("field", ["total", "start", "count"])
def test_paging_numbers_of_1e999_are_one_protocol_error(field: str) -> None:
    page = '{"items": [ITEM], "start": 0, "count": 1, "total": 1}'.replace("ITEM", json.dumps(item("d")))
    page = page.replace(f'"{field}": {1 if field != "start" else 0}', f'"{field}": 1e999')
    with client(lambda request: raw(200, page)) as c:
        with pytest.raises(ProtocolError) as info:
            c.list_deployments()
        one_line(info.value)
        with pytest.raises(ProtocolError):
            c.list_bentos()


def test_a_repeating_server_with_a_huge_total_is_paged_once_more_only() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.params["start"])
        return raw(200, json.dumps({"items": [item("a"), item("b")], "start": 0, "count": 2, "total": 10**30}))
    with client(handler) as c:
        assert [d.name for d in c.list_deployments()] == ["a", "b"]
    assert asked == ["0", "2"]  # the second page added nothing new: the end


def test_a_server_whose_items_never_end_is_refused_after_max_pages() -> None:
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params["start"])
        asked.append(start)
        return raw(200, json.dumps({"items": [item(f"d{start}")], "start": start, "count": 1, "total": 10**12}))
    with client(handler) as c, pytest.raises(ProtocolError) as info:
        list(c.iter_deployments(page_size=1))
    assert len(asked) == endpoints.MAX_PAGES and "pages" in one_line(info.value)


def test_the_async_pager_is_bounded_too() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return raw(200, json.dumps({"items": [item("same")], "start": 0, "count": 1, "total": 10**9}))

    async def scenario() -> list[str]:
        async with AsyncBentoCloudClient(URL, TOKEN, transport=httpx.MockTransport(handler)) as c:
            return [d.name for d in await c.list_deployments()]
    assert asyncio.run(scenario()) == ["same"]


# ------------------------------------------------------------------------------------------- watchers


def async_client(handler: Handler) -> AsyncBentoCloudClient:
    return AsyncBentoCloudClient(URL, TOKEN, transport=httpx.MockTransport(handler), retry=FAST_RETRY)


def watch_all(handler: Handler, *names: str) -> list[WatchState]:
    """Watch ``names`` on a hub against ``handler``; close() must not raise whatever happened."""
    async def scenario() -> list[WatchState]:
        async with async_client(handler) as c:
            hub = WatchHub(c, interval=0.01, fast_interval=0.01)
            futures = [hub.watch(WatchState(name, timeout=30)) for name in names]
            states = await asyncio.wait_for(asyncio.gather(*futures), 20)
            await hub.close()
            return list(states)
    return asyncio.run(scenario())


@pytest.mark.parametrize("body", [DEEP, '{"name": "d", "status": 1e999, "cluster": []}', "<html>proxy</html>"])
def test_a_watcher_meeting_a_malformed_answer_ends_its_watch_with_it(body: str) -> None:
    [state] = watch_all(lambda request: raw(200, body), "d")
    assert state.outcome is Outcome.ERROR and "BentoCloud" in state.message and "\n" not in state.message


def test_a_watcher_over_an_endless_listing_ends_every_watch() -> None:
    asked: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("start", 0))
        asked.append(start)
        items = [item(f"x{start + i}") for i in range(100)]
        return raw(200, json.dumps({"items": items, "start": start, "count": 100, "total": 10**9}))
    states = watch_all(handler, "a", "b")
    assert all(s.outcome is Outcome.ERROR and "pages" in s.message for s in states)
    assert len(asked) == endpoints.MAX_PAGES


class Exploding:
    """A client whose answers raise what no client of ours should let out: the hub must not die of it."""

    async def get_deployment(self, name: str, cluster: str | None = None) -> Any:
        raise RecursionError("maximum recursion depth exceeded")


def test_an_exception_from_the_client_ends_the_watches_and_close_never_raises() -> None:
    async def scenario() -> WatchState:
        hub = WatchHub(Exploding(), interval=0.01, fast_interval=0.01)
        state = await asyncio.wait_for(hub.watch(WatchState("d", timeout=30)), 10)
        await hub.close()
        await hub.close()
        return state
    state = asyncio.run(scenario())
    assert state.outcome is Outcome.ERROR and "RecursionError" in state.message


def test_the_blocking_wait_ends_with_one_line_too() -> None:
    with client(lambda request: raw(200, DEEP)) as c, pytest.raises(WatchError) as info:
        wait_for(c, WatchState("d", timeout=30), sleep=lambda _: None)
    one_line(info.value)


# ------------------------------------------------------------------------- a hostile loopback server


class Hostile(http.server.BaseHTTPRequestHandler):
    """Answers every request with the status, body and headers of ``reply`` (set by the test)."""

    reply: tuple[int, bytes, dict[str, str]] = (200, b"{}", {})
    seen: list[tuple[str, str, str | None]] = []

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        type(self).seen.append((self.command, self.path, self.headers.get("X-YATAI-API-TOKEN")))
        status, body, headers = type(self).reply
        self.send_response(status)
        for key, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture()
def hostile() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    Hostile.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_hostile_loopback_server_over_real_sockets(hostile: str) -> None:
    with BentoCloudClient(hostile, TOKEN, retry=FAST_RETRY) as c:
        Hostile.reply = (200, DEEP.encode(), {"Content-Type": "application/json"})
        with pytest.raises(ProtocolError):
            c.get_deployment("d")
        Hostile.reply = (200, b'{"items": [], "total": 1e999}', {"Content-Type": "application/json"})
        with pytest.raises(ProtocolError):
            c.list_deployments()


S3_DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Request has '
             b"expired</Message><StringToSign>AWS4-HMAC-SHA256 secret-signature</StringToSign></Error>")


@pytest.mark.parametrize("status", [401, 403])
def test_a_storage_refusal_blames_the_url_not_the_token_and_quotes_no_xml(hostile: str, status: int) -> None:
    Hostile.reply = (status, S3_DENIED, {"Content-Type": "application/xml"})
    presigned = f"{hostile}/bucket/object?X-Amz-Signature=secret-signature"
    with BentoCloudClient(URL, TOKEN, transport=httpx.MockTransport(lambda r: raw(200, "{}"))) as c:
        with pytest.raises(APIError) as put:
            c.storage_put(presigned, [b"data"], 4)
        with pytest.raises(APIError) as get, c.download(presigned, presigned=True):
            pass
    for error, direction in ((put.value, "upload"), (get.value, "download")):
        text = one_line(error)
        assert not isinstance(error, AuthenticationError) and error.hint is None and error.status == status
        assert f"{direction} URL" in text and "expired" in text and "try again" in text
        assert "token" not in text.lower() and "<" not in text and "AccessDenied" not in text
        assert "secret-signature" not in text
    assert all(token is None for _, _, token in Hostile.seen)  # storage hosts never see the token


def test_a_storage_5xx_and_a_plain_text_refusal(hostile: str) -> None:
    presigned = f"{hostile}/bucket/object"
    with BentoCloudClient(URL, TOKEN) as c:
        Hostile.reply = (503, b"<html>busy</html>", {})
        with pytest.raises(ServerError, match="storage service failed with 503"):
            c.storage_put(presigned, [b"x"], 1)
        Hostile.reply = (400, b"bad part number", {})
        with pytest.raises(APIError, match="bad part number"):
            c.storage_put(presigned, [b"x"], 1)


def test_an_api_403_still_blames_the_token() -> None:
    with client(lambda request: raw(403, '{"message": "forbidden"}')) as c, pytest.raises(AuthenticationError) as info:
        c.get_deployment("d")
    assert "lacks permission" in str(info.value)


# ---------------------------------------------------------------------------------------- loopback


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answers: dict[str, list[str]]) -> list[str]:
    """``socket.getaddrinfo`` answering from ``answers`` (unknown names fail); returns the names asked."""
    asked: list[str] = []

    def getaddrinfo(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        asked.append(host)
        if host not in answers:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 0))
                for a in answers[host]]
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_a_localhost_subdomain_is_trusted_only_if_it_resolves_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = fake_resolver(monkeypatch, {"evil.localhost": ["203.0.113.7"], "dev.localhost": ["127.0.0.1", "::1"],
                                        "mixed.localhost": ["127.0.0.1", "198.51.100.2"]})
    assert not is_loopback("evil.localhost") and not is_loopback("mixed.localhost")
    assert not is_loopback("unknown.localhost") and not is_loopback("localhost.localdomain")
    assert is_loopback("dev.localhost")
    with pytest.raises(InsecureEndpointError, match=r"evil\.localhost"):
        normalize_endpoint("http://evil.localhost:8080")
    assert normalize_endpoint("http://dev.localhost:8080/") == "http://dev.localhost:8080"
    asked.clear()
    assert is_loopback("localhost") and is_loopback("127.0.0.1") and is_loopback("[::1]") and asked == []


def test_a_hung_resolver_counts_as_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang(host: str, *args: Any, **kwargs: Any) -> list[Any]:
        release.wait(5)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", hang)
    try:
        assert not resolves_to_loopback("slow.localhost", timeout=0.05)
    finally:
        release.set()
