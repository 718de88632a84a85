"""Codespace reloads: readyz around a sync, the api-server log, and the service read with ast following edits."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import pytest
from support import FakeClock, create, poll, wait_raw_status
from test_websockets import open_ws, recv, tail_request

from bentocloud_jupyter.sandbox import Sandbox, codespaces, devschema, pods

FILES = "/api/v2/deployments/{}/files"
SERVICE = '''import bentoml


@bentoml.service(resources={"cpu": "1"})
class Echo:
    @bentoml.api
    def shout(self, text: str, times: int = 2) -> str:
        """Repeat the text louder."""
        return text.upper() * times
'''
EDITED = SERVICE + '''
    @bentoml.api(route="/v2/add")
    async def add(self, a: float, b: float = 1.5, *, tags: list[str] = []) -> float:
        return a + b
'''


def sync(client: httpx.Client, name: str, files: dict[str, bytes]) -> None:
    body = {"files": [{"path": p, "b64_encoded_content": base64.b64encode(c).decode()} for p, c in files.items()]}
    assert client.post(FILES.format(name), params={"cluster": ""}, json=body).status_code == 200


def running_dev(client: httpx.Client, name: str, clock: FakeClock | None = None) -> str:
    assert create(client, name=name, bento="summarizer:v3", dev=True).status_code == 200
    if clock is not None:
        clock.advance(10)
    data: dict[str, Any] = wait_raw_status(client, name, {"running"})
    return str(data["urls"][0])


def log(sandbox: Sandbox, name: str) -> str:
    dep = sandbox.state.get_deployment(name)
    return "\n".join(pods.serving_log(sandbox.state, dep, "pod"))


def test_readyz_waits_for_the_project_then_each_sync_reloads(sandbox: Sandbox, client: httpx.Client,
                                                              clock: FakeClock) -> None:
    url = running_dev(client, "cs-life", clock)
    assert httpx.get(f"{url}/readyz").status_code == 503  # running, but no files yet
    sync(client, "cs-life", {"service.py": SERVICE.encode()})
    waiting = httpx.get(f"{url}/readyz")
    assert waiting.status_code == 503 and ".project_ready" in waiting.text
    assert httpx.post(f"{url}/shout", json={"text": "a"}).status_code == 503
    sync(client, "cs-life", {codespaces.READY_MARKER: b""})
    assert httpx.get(f"{url}/readyz").status_code == 503 and "Service Echo initialized" not in log(sandbox, "cs-life")
    clock.advance(codespaces.RELOAD / sandbox.state.speed)
    assert httpx.get(f"{url}/readyz").text == "ok"
    assert "Project files ready" in log(sandbox, "cs-life") and "Service Echo initialized (/shout)" in log(
        sandbox, "cs-life")
    sync(client, "cs-life", {"service.py": EDITED.encode()})
    assert httpx.get(f"{url}/readyz").status_code == 503
    assert "Detected changes in service.py; reloading..." in log(sandbox, "cs-life")
    clock.advance(codespaces.RELOAD / sandbox.state.speed)
    assert httpx.get(f"{url}/readyz").status_code == 200
    assert "Service Echo initialized (/shout, /v2/add)" in log(sandbox, "cs-life")
    client.request("DELETE", FILES.format("cs-life"), json={"paths": ["service.py"]})
    assert "not found in the synced files" in httpx.get(f"{url}/readyz").text


def test_schema_docs_and_calls_follow_the_edits(sandbox: Sandbox, client: httpx.Client) -> None:
    url = running_dev(client, "cs-edit")
    sync(client, "cs-edit", {"service.py": SERVICE.encode(), codespaces.READY_MARKER: b""})
    schema = httpx.get(f"{url}/schema.json").json()
    assert schema["name"] == "Echo" and [r["route"] for r in schema["routes"]] == ["/shout"]
    shout = schema["routes"][0]
    assert shout["description"] == "Repeat the text louder." and shout["output"]["type"] == "string"
    assert shout["input"]["properties"] == {"text": {"title": "Text", "type": "string"},
                                            "times": {"title": "Times", "type": "integer", "default": 2}}
    assert shout["input"]["required"] == ["text"]
    sync(client, "cs-edit", {"service.py": EDITED.encode()})
    doc = httpx.get(f"{url}/docs.json").json()
    assert set(doc["paths"]) == {"/readyz", "/livez", "/shout", "/v2/add"} and doc["info"]["title"] == "Echo"
    add = doc["paths"]["/v2/add"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert add["properties"]["tags"] == {"title": "Tags", "type": "array", "items": {"type": "string"},
                                         "default": []}
    wait_ready(url)
    first = httpx.post(f"{url}/v2/add", json={"a": 1})
    assert first.status_code == 200 and first.json() == httpx.post(f"{url}/v2/add", json={"a": 1}).json()
    assert isinstance(first.json(), float)
    said = httpx.post(f"{url}/shout", json={"text": "hi"})
    assert said.headers["content-type"].startswith("text/plain") and "hi" in said.text and "not run" in said.text
    bad = httpx.post(f"{url}/shout", json={"times": 3})
    assert bad.status_code == 400 and "body.text: field required" in bad.json()["error"]
    assert httpx.post(f"{url}/gone", json={}).status_code == 404
    assert httpx.get(f"{url}/shout").status_code == 405 and httpx.post(f"{url}/schema.json").status_code == 405


def wait_ready(url: str) -> None:
    poll(lambda: httpx.get(f"{url}/readyz"), lambda r: r.status_code == 200, timeout=5, step=0.01,
         stuck=lambda r: f"readyz still {r.status_code}: {r.text}")


def test_a_syntax_error_keeps_the_last_good_schema_and_readyz_503(sandbox: Sandbox, client: httpx.Client) -> None:
    url = running_dev(client, "cs-broken")
    sync(client, "cs-broken", {"service.py": SERVICE.encode(), codespaces.READY_MARKER: b""})
    wait_ready(url)
    sync(client, "cs-broken", {"service.py": b"import bentoml\n\n@bentoml.service\nclass Echo(:\n    pass\n"})
    readyz = httpx.get(f"{url}/readyz")
    assert readyz.status_code == 503 and "SyntaxError" in readyz.text and "line 4" in readyz.text
    assert "[ERROR] [cli] Failed to reload the service: SyntaxError" in log(sandbox, "cs-broken")
    assert [r["route"] for r in httpx.get(f"{url}/schema.json").json()["routes"]] == ["/shout"]
    refused = httpx.post(f"{url}/shout", json={"text": "a"})
    assert refused.status_code == 503 and "line 4" in refused.json()["error"]
    sync(client, "cs-broken", {"service.py": EDITED.encode()})
    wait_ready(url)
    assert len(httpx.get(f"{url}/schema.json").json()["routes"]) == 2


def test_a_codespace_that_never_parsed_serves_no_documents(client: httpx.Client) -> None:
    url = running_dev(client, "cs-never")
    sync(client, "cs-never", {"service.py": b"def (", codespaces.READY_MARKER: b""})
    resp = httpx.get(f"{url}/docs.json")
    assert resp.status_code == 503 and "SyntaxError" in resp.json()["error"]


def test_the_reload_reaches_the_log_websocket(sandbox: Sandbox, client: httpx.Client) -> None:
    running_dev(client, "cs-ws")
    with open_ws(sandbox, "/ws/v2/deployments/cs-ws/pods", cluster="gcp-us-central-1") as conn:
        pod = recv(conn)["payload"][0]["name"]
    with open_ws(sandbox, "/ws/v1/clusters/gcp-us-central-1/tail", namespace="yatai", pod_name=pod) as conn:
        conn.send(tail_request("main"))
        recv(conn)
        sync(client, "cs-ws", {"service.py": SERVICE.encode(), codespaces.READY_MARKER: b""})
        seen = ""
        while "Service Echo initialized" not in seen:
            msg = recv(conn)
            if msg["type"] == "success":
                seen += "".join(base64.b64decode(i).decode() for i in msg["payload"]["items"])
    assert seen.index("Project files ready") < seen.index("Service Echo initialized")


def test_bentofile_names_the_service_module_and_class() -> None:
    other = b"import bentoml\n@bentoml.service\nclass First:\n    pass\n@bentoml.service\nclass Second:\n" \
            b"    @bentoml.task\n    def job(self, n): ...\n"
    files = {"bentofile.yaml": b"service: 'app.main:Second'\ninclude: ['*.py']\n", "app/main.py": other}
    found = devschema.read_service(files)
    assert (found.path, found.name, [a.route for a in found.apis]) == ("app/main.py", "Second", ["/job"])
    assert found.apis[0].input["properties"] == {"n": {"title": "N"}} and found.apis[0].input["required"] == ["n"]
    assert devschema.read_service({"service.py": other}).name == "First"
    assert devschema.service_target({"bentofile.yaml": b"include: ['*.py']\n"}) == ("service.py", None)


@pytest.mark.parametrize(("files", "words"), [
    ({}, "service file service.py not found"),
    ({"service.py": b"x = 1\n"}, "no a class decorated with @bentoml.service"),
    ({"bentofile.yaml": b"service: svc:Nope\n", "svc.py": b"import bentoml\n"}, "svc.py has no class Nope"),
    ({"service.py": b"a = 1\x00\n"}, "null bytes"),
    ({"service.py": b"#" * (devschema.MAX_SERVICE_BYTES + 1)}, "the sandbox does not read it"),
    ({"service.py": b"x = " + b"(" * 5000 + b")" * 5000}, "service.py"),
])
def test_unreadable_services_say_why(files: dict[str, bytes], words: str) -> None:
    with pytest.raises(devschema.DevSchemaError) as caught:
        devschema.read_service(files)
    assert words in str(caught.value)


def test_annotations_defaults_and_handlers_stay_small() -> None:
    source = b'''import bentoml
import typing as t
@bentoml.service
class S:
    @bentoml.api
    def a(self, x: "int", y: dict[str, t.Any] = {"k": 1}, z: t.Optional[str] = None, w: bool = object()) -> dict:
        ...
    @bentoml.api(route="  ")
    def b(self) -> list[int]: ...
    @bentoml.api(route="/x\\n[ERROR] forged")
    def d(self) -> None: ...
    @bentoml.api(route="v1/ok/{id}")
    def e(self) -> None: ...
    @bentoml.api
    def c(self, ok: bool) -> bool: ...
    def helper(self): ...
'''
    svc = devschema.read_service({"service.py": source})
    a, b, d, e, c = svc.apis
    assert (d.route, e.route) == ("/d", "/v1/ok/{id}")  # a route that is no URL path falls back to the name
    assert a.input["properties"] == {"x": {"title": "X", "type": "integer"},
                                     "y": {"title": "Y", "type": "object", "default": {"k": 1}},
                                     "z": {"title": "Z", "default": None}, "w": {"title": "W", "type": "boolean"}}
    assert a.input["required"] == ["x"] and b.route == "/b" and b.handler({}) == []
    assert a.handler({"x": 1}) == {"api": "a", "input": {"x": 1}, "note": "sandbox codespace: user code is not run"}
    assert c.handler({"ok": True}) == c.handler({"ok": True}) and isinstance(c.handler({"ok": True}), bool)
