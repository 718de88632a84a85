"""The websocket side without a server: URLs (no path prefix, ws/wss, no token over remote ws://), message
decoding (EOF, heartbeats, errors, base64 chunks split anywhere), pod selection and the bounded buffer."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    InsecureEndpointError,
    InvalidInputError,
    NotFoundError,
    ProtocolError,
)
from bentocloud_jupyter.core.logs import follow as logfollow
from bentocloud_jupyter.core.logs import protocol as logs
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.rest.session import INSECURE_KEY
from bentocloud_jupyter.core.tokens import Token

TOKEN = "tok-abcdefghijklmnop"


@pytest.mark.parametrize(("endpoint", "base"), [
    ("https://cloud.bentoml.com", "wss://cloud.bentoml.com"),
    ("https://acme.cloud.bentoml.com:8443/api/prefix/", "wss://acme.cloud.bentoml.com:8443"),
    ("http://127.0.0.1:8975/some/prefix", "ws://127.0.0.1:8975"),
    ("http://localhost:3000", "ws://localhost:3000"),
    ("http://[::1]:9000/x", "ws://[::1]:9000"),
])
def test_ws_base_maps_the_scheme_and_drops_the_path_prefix(endpoint: str, base: str) -> None:
    assert logs.ws_base(endpoint) == base


def test_path_prefix_endpoint_maps_to_a_ws_url_without_the_prefix() -> None:
    ws = logs.WsEndpoint.for_context(Context("c", "https://gw.example.com/bentocloud/v2", Token(TOKEN)))
    place = logs.PodPlace("dep", "gcp us", "acme", "yatai", "summarizer", "v3")
    url = ws.url(*place.tail("dep-pod-1"))
    assert url == ("wss://gw.example.com/ws/v1/clusters/gcp%20us/tail?namespace=yatai&pod_name=dep-pod-1"
                   "&timestamps=false")
    assert "bentocloud" not in url and TOKEN not in url
    assert ws.url(*place.bento_pods()) == (
        "wss://gw.example.com/ws/v1/clusters/gcp%20us/pods?organization_name=acme&namespace=yatai"
        "&selector=yatai.ai%2Fbento-repository%3Dsummarizer%2Cyatai.ai%2Fbento%3Dv3")
    assert ws.url(*place.deployment_pods()) == (
        "wss://gw.example.com/ws/v2/deployments/dep/pods?organization_name=acme&cluster=gcp+us")
    assert ws.headers() == {"X-YATAI-API-TOKEN": TOKEN}
    assert TOKEN not in repr(ws)


def test_no_token_over_plain_ws_to_a_remote_host() -> None:
    with pytest.raises(InsecureEndpointError, match="plain ws://"):
        logs.ws_base("http://cloud.example.com")
    with pytest.raises(InsecureEndpointError):
        logs.WsEndpoint.for_context(Context("c", "http://cloud.example.com", Token(TOKEN)))
    allowed = Context("c", "http://cloud.example.com", Token(TOKEN), extra={INSECURE_KEY: True})
    assert logs.WsEndpoint.for_context(allowed).base == "ws://cloud.example.com"
    with pytest.raises(InvalidInputError):
        logs.ws_base("ftp://cloud.example.com")


def _deployment(status: str = "running", bento: Any = "default") -> Deployment:
    if bento == "default":
        bento = {"name": "v3", "version": "v3", "repository": {"name": "summarizer"}}
    raw = {"name": "dep", "status": status, "kube_namespace": "yatai",
           "cluster": {"name": "gcp-us-central-1", "organization_name": "acme"},
           "latest_revision": {"name": "r1", "targets": [{"name": "main", "bento": bento}]}}
    return Deployment.from_api(raw)


def test_pod_place_reads_the_deployment_json() -> None:
    place = logs.PodPlace.of(_deployment())
    assert place == logs.PodPlace("dep", "gcp-us-central-1", "acme", "yatai", "summarizer", "v3")
    with pytest.raises(NotFoundError, match="no bento revision"):
        logs.PodPlace.of(_deployment(bento=None))


def _msg(kind: str, message: Any = None, payload: Any = None) -> str:
    return json.dumps({"type": kind, "message": message, "payload": payload})


def _items(*chunks: bytes) -> str:
    return _msg("success", None, {"items": [base64.b64encode(c).decode() for c in chunks], "type": "append"})


def test_log_messages() -> None:
    assert logs.log_chunks(_msg("success", "EOF"), "w") is None
    assert logs.log_chunks(_msg("heartbeat"), "w") == []
    assert logs.log_chunks(_msg("success", None, None), "w") == []
    assert logs.log_chunks(_items(b"a\n", b"b"), "w") == [b"a\n", b"b"]
    with pytest.raises(APIError, match="pod 'x' not found") as caught:
        logs.log_chunks(_msg("error", "pod 'x' not found\n in cluster"), "wss://h (the log)")
    assert not isinstance(caught.value, AuthenticationError) and "\n" not in str(caught.value)
    with pytest.raises(AuthenticationError, match="log in"):
        logs.log_chunks(_msg("error", "invalid API token: log in again"), "w")
    with pytest.raises(ProtocolError, match="not a JSON object"):
        logs.log_chunks("<html>proxy error</html>", "w")
    with pytest.raises(ProtocolError, match="base64"):
        logs.log_chunks(_msg("success", None, {"items": ["***not base64***"]}), "w")


def test_pod_lists() -> None:
    pods = logs.parse_pods(_msg("success", "", [
        {"name": "b", "namespace": "yatai", "labels": {logs.BUILDER_LABEL: "true"}, "status": {"phase": "Running"}},
        {"name": "r", "namespace": "yatai", "labels": {logs.BUILDER_LABEL: "false"}, "runner_name": "Svc"}]), "w")
    assert [(p.name, p.is_image_builder, p.phase) for p in pods] == [("b", True, "Running"), ("r", False, "")]
    with pytest.raises(ProtocolError):
        logs.parse_pods(_msg("success", "", [{"labels": {}}]), "w")
    with pytest.raises(APIError, match="cluster 'x'"):
        logs.parse_pods(_msg("error", "cluster 'x': record not found"), "w")


def test_sources_prefer_the_builder_while_building_or_failed() -> None:
    builder = logs.Pod("b", labels={logs.BUILDER_LABEL: "true"})
    replica = logs.Pod("r", labels={})
    running, building, failed = _deployment("running"), _deployment("image-building"), _deployment("image-build-failed")
    assert [s.label for s in logs.pick_sources(running, [replica], builder)] == ["r (main)"]
    assert [s.label for s in logs.pick_sources(building, [builder], None)] == ["b (builder)"]
    assert [s.label for s in logs.pick_sources(failed, [], builder)] == ["b (builder)"]
    assert [s.label for s in logs.pick_sources(running, [], builder)] == ["b (builder)"]  # nothing else to show
    assert logs.pick_sources(running, [], None) == []
    assert not logs.needs_builder(running, [replica]) and logs.needs_builder(building, [replica])


def test_lines_survive_any_chunk_boundary() -> None:
    text = "héllo wörld ✓\r\nsecond line\n\nlast without newline".encode()
    for size in (1, 2, 3, 5, 7, len(text)):
        decoder, lines = logs.LineDecoder(), []
        for start in range(0, len(text), size):
            lines += decoder.feed(text[start:start + size])
        lines += decoder.flush()
        assert lines == ["héllo wörld ✓", "second line", "", "last without newline"], size


def test_long_lines_and_invalid_utf8_are_bounded() -> None:
    decoder = logs.LineDecoder()
    assert decoder.feed(b"x" * (logs.MAX_PARTIAL + 10)) == ["x" * logs.MAX_LINE + " […]"]  # no newline: emitted
    assert decoder.feed(b"\xff\xfebad\n") == ["\ufffd\ufffdbad"]
    assert decoder.flush() == []


def test_buffer_keeps_only_the_last_lines() -> None:
    buffer = logfollow.LogBuffer(max_lines=500)
    for i in range(10_000):
        buffer.append(f"line {i}")
    buffer.append("y" * 100_000)
    assert len(buffer.lines) == 500 and buffer.total == 10_001 and buffer.dropped == 9_501
    assert buffer.lines[0] == "line 9501" and len(buffer.lines[-1]) == logs.MAX_LINE + len(" […]")


def test_logs_view_escapes_and_reads_as_text() -> None:
    view = logfollow.LogsView("dep", (logfollow.LogSection("pod-1 (main)", ("<script>alert(1)</script>", "ok"), 3),),
                         "status running", "")
    html = view._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html and "3 earlier lines dropped" in html
    assert repr(view).splitlines() == ["Logs of 'dep': status running", "==> pod-1 (main) <==",
                                       "[... 3 earlier lines dropped]", "<script>alert(1)</script>", "ok"]
    failed = logfollow.LogsView("dep", error="Cannot connect <x>")
    assert "Cannot connect &lt;x&gt;" in failed._repr_html_() and repr(failed).endswith("error: Cannot connect <x>")
