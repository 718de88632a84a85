"""Codespaces against a hostile user (review R1): service files that broke the ast reader (a 500 after the
files were already kept), literals too big to evaluate under the lock, deep JSON calls, Unicode that forges
log lines, and codespaces that together would fill the machine's memory."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import httpx
import pytest
from support import create, poll, wait_raw_status

from bentocloud_jupyter.sandbox import codespaces, devschema
from bentocloud_jupyter.sandbox.svcapis import Api

FILES = "/api/v2/deployments/{}/files"
HEAD = b"import bentoml\n\n@bentoml.service\nclass S:\n    @bentoml.api\n"


def one_api(signature: bytes) -> Api:
    [api] = devschema.read_service({"service.py": HEAD + b"    def " + signature + b": ...\n"}).apis
    return api


def upload(client: httpx.Client, name: str, files: dict[str, bytes]) -> httpx.Response:
    body = {"files": [{"path": p, "b64_encoded_content": base64.b64encode(c).decode()} for p, c in files.items()]}
    return client.post(FILES.format(name), params={"cluster": ""}, json=body)


def running_dev(client: httpx.Client, name: str) -> str:
    assert create(client, name=name, bento="summarizer:v3", dev=True).status_code == 200
    return str(wait_raw_status(client, name, {"running"})["urls"][0])


def test_positional_only_parameters_and_their_defaults_are_read() -> None:
    api = one_api(b"f(self, a: int = 1, /, b: str = 'x') -> str")
    assert api.input["properties"] == {"a": {"title": "A", "type": "integer", "default": 1},
                                       "b": {"title": "B", "type": "string", "default": "x"}}
    assert api.input["required"] == []
    tail = one_api(b"g(self, a, b=2, /)")
    assert tail.input["required"] == ["a"] and tail.input["properties"]["b"]["default"] == 2


def test_a_string_annotation_too_deep_to_parse_is_any_value() -> None:
    api = one_api(b"f(self, a: '" + b"-" * 200_000 + b"1') -> 'list[\\x00]'")
    assert api.input["properties"] == {"a": {"title": "A"}} and api.output == {"title": "Output"}


def test_big_literal_defaults_are_neither_evaluated_nor_shown() -> None:
    many = b"(" + b"1," * 10_000 + b")"
    api = one_api(b"f(self, many: list = " + many + b", long: str = '" + b"y" * 5000 + b"', small: int = 3)")
    props = api.input["properties"]
    assert "default" not in props["many"] and "default" not in props["long"] and props["small"]["default"] == 3


def test_a_service_file_of_a_megabyte_is_not_parsed_under_the_lock() -> None:
    padded = b"#" * 300_000 + b"\n" + HEAD + b"    def f(self) -> str: ...\n"
    with pytest.raises(devschema.DevSchemaError, match="does not read it"):
        devschema.read_service({"service.py": padded})


def test_positional_only_service_synced_over_http_loads(client: httpx.Client) -> None:
    url = running_dev(client, "cs-posonly")
    source = HEAD + b"    def f(self, a: int = 1, /) -> int: ...\n"
    assert upload(client, "cs-posonly", {"service.py": source, codespaces.READY_MARKER: b""}).status_code == 200
    assert [r["route"] for r in httpx.get(f"{url}/schema.json").json()["routes"]] == ["/f"]


def test_a_reader_that_breaks_is_a_failed_reload_not_a_500(client: httpx.Client,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    url = running_dev(client, "cs-broke")

    def broken(files: dict[str, bytes]) -> devschema.DevService:
        raise RuntimeError("bug\n[INFO] forged")

    monkeypatch.setattr(codespaces, "read_service", broken)
    resp = upload(client, "cs-broke", {"service.py": HEAD, codespaces.READY_MARKER: b""})
    assert resp.status_code == 200, resp.text
    readyz = httpx.get(f"{url}/readyz")
    assert readyz.status_code == 503 and "could not read it (RuntimeError)" in readyz.text


def test_a_deeply_nested_call_body_is_400(client: httpx.Client) -> None:
    url = running_dev(client, "cs-deep")
    source = HEAD + b"    def f(self, x: dict = {}) -> dict: ...\n"
    assert upload(client, "cs-deep", {"service.py": source, codespaces.READY_MARKER: b""}).status_code == 200
    deep = b'{"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    poll(lambda: httpx.get(f"{url}/readyz"), lambda r: r.status_code == 200, timeout=5, step=0.01,
         stuck=lambda r: f"readyz still {r.status_code}: {r.text}")
    resp = httpx.post(f"{url}/f", content=deep, headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "nested too deeply" in resp.json()["error"]


@pytest.mark.parametrize("path", ["a\x85[ERROR] forged.py", "a\u2028[ERROR] forged.py", "a\u2029b.py",
                                  "evil\u202eyp.txt", "x\u2066y.py", "c1\x9b31m.py"])
def test_unicode_line_breaks_and_bidi_overrides_in_paths_are_400(client: httpx.Client, path: str) -> None:
    running_dev(client, "cs-uni")
    resp = upload(client, "cs-uni", {path: b""})
    assert resp.status_code == 400 and "control characters" in resp.json()["error"]
    assert client.get(FILES.format("cs-uni"), params={"cluster": ""}).json()["files"] == []


def test_all_codespaces_together_are_bounded_and_a_deleted_one_frees_its_share(
        client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codespaces, "MAX_SANDBOX_BYTES", 1000)
    running_dev(client, "cs-one")
    running_dev(client, "cs-two")
    assert upload(client, "cs-one", {"big.bin": b"1" * 600}).status_code == 200
    refused = upload(client, "cs-two", {"big.bin": b"2" * 600})
    assert refused.status_code == 413 and "over all codespaces" in refused.json()["error"]
    assert upload(client, "cs-one", {"big.bin": b"1" * 900}).status_code == 200  # its own files replaced
    assert client.post("/api/v2/deployments/cs-one/terminate", params={"cluster": ""}).status_code == 200
    assert client.delete("/api/v2/deployments/cs-one", params={"cluster": ""}).status_code == 200
    assert upload(client, "cs-two", {"big.bin": b"2" * 600}).status_code == 200


def test_a_body_of_many_tiny_json_values_is_413_before_it_is_parsed(client: httpx.Client) -> None:
    running_dev(client, "cs-bomb")
    body = b'{"files": [' + b"{}," * (codespaces.MAX_JSON_VALUES + 1) + b"{}]}"
    resp = client.post(FILES.format("cs-bomb"), params={"cluster": ""}, content=body,
                       headers={"content-type": "application/json"})
    assert resp.status_code == 413 and "JSON values" in resp.json()["error"]


def test_nothing_in_a_service_file_is_run(client: httpx.Client, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    touch = f"__import__('pathlib').Path({str(marker)!r}).touch()".encode()
    source = (b"import bentoml\n" + touch + b"\n\n@bentoml.service(name=" + touch + b")\nclass S:\n    " + touch
              + b"\n\n    @bentoml.api(route=" + touch + b")\n    def f(self, a: " + touch + b" = " + touch
              + b") -> " + touch + b":\n        " + touch + b"\n")
    [api] = devschema.read_service({"service.py": source}).apis
    assert api.route == "/f" and "default" not in api.input["properties"]["a"]
    url = running_dev(client, "cs-inert")
    assert upload(client, "cs-inert", {"service.py": source, codespaces.READY_MARKER: b""}).status_code == 200
    poll(lambda: httpx.get(f"{url}/readyz"), lambda r: r.status_code == 200, timeout=5, step=0.01,
         stuck=lambda r: f"readyz still {r.status_code}: {r.text}")
    assert httpx.post(f"{url}/f", json={"a": 1}).status_code == 200
    assert not marker.exists()


def test_a_docstring_with_escapes_and_bidi_is_described_printably() -> None:
    source = HEAD + b'    def f(self) -> str:\n        """Hi \\x1b[31mred\\u202e evil"""\n'
    [api] = devschema.read_service({"service.py": source}).apis
    assert api.description == "Hi ?[31mred? evil"


def test_a_slow_read_blocks_neither_the_sandbox_nor_a_newer_sync(client: httpx.Client,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """The service file is read outside the store's lock and off the event loop; a stale read is dropped."""
    url = running_dev(client, "cs-slow")
    slow = HEAD + b"    def slow(self) -> str: ...\n"
    fast = HEAD + b"    def fast(self) -> str: ...\n"
    entered, release = threading.Event(), threading.Event()
    real = devschema.read_service

    def gated(files: dict[str, bytes]) -> devschema.DevService:
        if files.get("service.py") == slow:
            entered.set()
            release.wait(10)
        return real(files)

    monkeypatch.setattr(codespaces, "read_service", gated)
    first = threading.Thread(target=upload, args=(client, "cs-slow", {"service.py": slow,
                                                                       codespaces.READY_MARKER: b""}))
    first.start()
    try:
        assert entered.wait(5)
        during = httpx.get(f"{url}/readyz", timeout=3)
        assert during.status_code == 503 and "reloading" in during.text
        with httpx.Client(base_url=client.base_url, headers=client.headers, timeout=3) as other:
            assert upload(other, "cs-slow", {"service.py": fast}).status_code == 200
    finally:
        release.set()
        first.join(10)
    poll(lambda: httpx.get(f"{url}/readyz"), lambda r: r.status_code == 200, timeout=5, step=0.01,
         stuck=lambda r: f"readyz still {r.status_code}: {r.text}")
    assert [r["route"] for r in httpx.get(f"{url}/schema.json").json()["routes"]] == ["/fast"]


def test_deleting_a_folder_deletes_what_is_inside_it_and_nothing_else(client: httpx.Client) -> None:
    running_dev(client, "cs-rmdir")
    files = {"app/a.py": b"a", "app/sub/b.py": b"b", "apps.py": b"c", "app.py": b"d"}
    assert upload(client, "cs-rmdir", files).status_code == 200
    assert client.request("DELETE", FILES.format("cs-rmdir"), params={"cluster": ""},
                          json={"paths": ["app"]}).status_code == 200
    listing = client.get(FILES.format("cs-rmdir"), params={"cluster": ""}).json()["files"]
    assert [f["path"] for f in listing] == ["app.py", "apps.py"]
