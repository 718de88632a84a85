"""The codespace files API (``/api/v2/deployments/{name}/files``), dev deployments and hostile input."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
import pytest
from support import create, wait_raw_status

from bentocloud_jupyter.sandbox import Sandbox, codespaces

FILES = "/api/v2/deployments/{}/files"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def dev(client: httpx.Client, name: str, cluster: str = "") -> dict[str, Any]:
    resp = create(client, name=name, bento="summarizer:v3", dev=True, cluster=cluster)
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def upload(client: httpx.Client, name: str, files: dict[str, bytes], cluster: str = "") -> httpx.Response:
    body = {"files": [{"path": p, "b64_encoded_content": b64(c)} for p, c in files.items()]}
    return client.post(FILES.format(name), params={"cluster": cluster}, json=body)


def listing(client: httpx.Client, name: str, cluster: str = "") -> list[dict[str, Any]]:
    resp = client.get(FILES.format(name), params={"cluster": cluster})
    assert resp.status_code == 200, resp.text
    files: list[dict[str, Any]] = resp.json()["files"]
    return files


def test_dev_create_manifest_url_and_is_dev_list(sandbox: Sandbox, client: httpx.Client) -> None:
    data = dev(client, "cs-one")
    assert data["manifest"]["dev"] is True and data["urls"] == [f"{sandbox.url}/_svc/cs-one"]
    assert create(client, name="plain", bento="summarizer:v3").status_code == 200
    everywhere = client.get("/api/v2/deployments", params={"all": "true", "q": "is:dev", "count": 10}).json()
    assert [d["name"] for d in everywhere["items"]] == ["cs-one"] and everywhere["total"] == 1
    # bentoml with a cluster sends q empty and filters manifest.dev itself: both kinds come back, flagged
    scoped = client.get("/api/v2/deployments", params={"cluster": "gcp-us-central-1", "q": "", "count": 10}).json()
    assert {d["name"]: d["manifest"]["dev"] for d in scoped["items"]} == {"cs-one": True, "plain": False}
    named = client.get("/api/v2/deployments", params={"cluster": "gcp-us-central-1", "q": "is:dev"}).json()
    assert [d["name"] for d in named["items"]] == ["cs-one"]


def test_files_round_trip(client: httpx.Client) -> None:
    dev(client, "cs-files")
    assert listing(client, "cs-files") == []
    content = b"import bentoml\n"
    assert upload(client, "cs-files", {"service.py": content, "pkg/util.py": b"", "./a//b.txt": b"x"}).json() == {}
    assert listing(client, "cs-files", cluster="gcp-us-central-1") == [
        {"path": "a/b.txt", "size": 1, "md5": hashlib.md5(b"x").hexdigest()},
        {"path": "pkg/util.py", "size": 0, "md5": hashlib.md5(b"").hexdigest()},
        {"path": "service.py", "size": len(content), "md5": hashlib.md5(content).hexdigest()}]
    resp = client.request("DELETE", FILES.format("cs-files"), params={"cluster": ""},
                          json={"paths": ["pkg/util.py", "never/there.py"]})
    assert resp.status_code == 200
    assert [f["path"] for f in listing(client, "cs-files")] == ["a/b.txt", "service.py"]


def test_files_of_unknown_non_dev_or_elsewhere_are_404(client: httpx.Client) -> None:
    create(client, name="prod", bento="summarizer:v3")
    dev(client, "cs-where")
    for name, cluster in (("ghost", ""), ("prod", ""), ("cs-where", "aws-us-west-2")):
        resp = client.get(FILES.format(name), params={"cluster": cluster})
        assert resp.status_code == 404 and "not found" in resp.json()["error"]
        assert upload(client, name, {"a.py": b""}, cluster).status_code == 404
    assert "dev: true" in client.get(FILES.format("prod")).json()["error"]


def test_files_need_a_token(sandbox: Sandbox, client: httpx.Client) -> None:
    dev(client, "cs-auth")
    assert httpx.get(f"{sandbox.url}{FILES.format('cs-auth')}").status_code == 401
    bad = httpx.post(f"{sandbox.url}{FILES.format('cs-auth')}", json={"files": []},
                     headers={"X-YATAI-API-TOKEN": "sbx_wrong"})
    assert bad.status_code == 401 and "sbx_wrong" not in bad.text
    reader = {"X-YATAI-API-TOKEN": sandbox.issue_token("reader", scopes=["read_organization"])}
    assert httpx.get(f"{sandbox.url}{FILES.format('cs-auth')}", headers=reader).status_code == 200
    refused = httpx.post(f"{sandbox.url}{FILES.format('cs-auth')}", json={"files": []}, headers=reader)
    assert refused.status_code == 403 and "write_organization" in refused.json()["error"]
    assert httpx.request("DELETE", f"{sandbox.url}{FILES.format('cs-auth')}", json={"paths": []},
                         headers=reader).status_code == 403


@pytest.mark.parametrize(("path", "words"), [
    ("../etc/passwd", "escapes the project root"),
    ("a/../../x", "escapes the project root"),
    ("..", "escapes the project root"),
    (".", "escapes the project root"),
    ("/etc/passwd", "absolute"),
    ("C:/Windows/x", "absolute"),
    ("a\\..\\..\\x", "'/' separators"),
    ("a\x00b", "no NUL"),
    ("a\n[ERROR] forged.py", "control characters"),
    ("tab\there.py", "control characters"),
    ("x" * 2000, "at most"),
    ("", "non-empty"),
    (5, "non-empty string"),
])
def test_hostile_paths_are_400_and_nothing_is_kept(client: httpx.Client, path: object, words: str) -> None:
    dev(client, "cs-hostile")
    body = {"files": [{"path": "ok.py", "b64_encoded_content": ""}, {"path": path, "b64_encoded_content": ""}]}
    resp = client.post(FILES.format("cs-hostile"), json=body)
    assert resp.status_code == 400 and words in resp.json()["error"]
    assert listing(client, "cs-hostile") == []
    gone = client.request("DELETE", FILES.format("cs-hostile"), json={"paths": [path]})
    assert gone.status_code == 400 and words in gone.json()["error"]


@pytest.mark.parametrize(("body", "words"), [
    ({"files": [{"path": "a.py", "b64_encoded_content": "@@not base64@@"}]}, "not valid base64"),
    ({"files": [{"path": "a.py", "b64_encoded_content": "YQ"}]}, "not valid base64"),
    ({"files": [{"path": "a.py", "b64_encoded_content": None}]}, "must be a base64 string"),
    ({"files": ["a.py"]}, "must be an object"),
    ({"files": {"a.py": ""}}, "send {\"files\""),
    ([], "send {\"files\""),
    (None, "send {\"files\""),
])
def test_bad_upload_bodies_are_400(client: httpx.Client, body: object, words: str) -> None:
    dev(client, "cs-badbody")
    resp = client.post(FILES.format("cs-badbody"), json=body)
    assert resp.status_code == 400 and words in resp.json()["error"]


def test_bad_delete_and_json_bodies_are_400(client: httpx.Client) -> None:
    dev(client, "cs-baddel")
    assert "send {\"paths\"" in client.request("DELETE", FILES.format("cs-baddel"), json={"path": "a"}).json()[
        "error"]
    resp = client.post(FILES.format("cs-baddel"), content=b"{not json", headers={"content-type": "application/json"})
    assert resp.status_code == 400 and "not valid JSON" in resp.json()["error"]
    deep = client.post(FILES.format("cs-baddel"), content=b"[" * 100_000 + b"]" * 100_000)
    assert deep.status_code == 400


def test_huge_bodies_are_413(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codespaces, "MAX_REQUEST_BYTES", 4096)
    dev(client, "cs-huge")
    resp = upload(client, "cs-huge", {"big.bin": b"z" * 8000})
    assert resp.status_code == 413 and "smaller batches" in resp.json()["error"]

    def chunks() -> Any:  # no content-length: the bound holds while streaming
        yield b'{"files": [{"path": "a", "b64_encoded_content": "'
        for _ in range(10):
            yield b"A" * 1000
        yield b'"}]}'

    streamed = client.post(FILES.format("cs-huge"), content=chunks())
    assert streamed.status_code == 413
    assert listing(client, "cs-huge") == []


def test_codespace_bounds_are_413_and_keep_what_was_there(client: httpx.Client,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codespaces, "MAX_TOTAL_BYTES", 100)
    monkeypatch.setattr(codespaces, "MAX_FILES", 3)
    dev(client, "cs-bound")
    assert upload(client, "cs-bound", {"a.py": b"a" * 60}).status_code == 200
    over = upload(client, "cs-bound", {"b.py": b"b" * 60})
    assert over.status_code == 413 and "at most 100 bytes" in over.json()["error"]
    many = upload(client, "cs-bound", {f"{i}.py": b"" for i in range(4)})
    assert many.status_code == 413 and "at most 3 files" in many.json()["error"]
    assert [f["path"] for f in listing(client, "cs-bound")] == ["a.py"]
    assert upload(client, "cs-bound", {"a.py": b"small"}).status_code == 200  # replacing frees the space


def test_a_recreated_name_starts_with_no_files(client: httpx.Client) -> None:
    dev(client, "cs-again")
    upload(client, "cs-again", {"a.py": b"1"})
    assert client.delete("/api/v2/deployments/cs-again", params={"cluster": ""}).status_code == 200
    dev(client, "cs-again")
    assert listing(client, "cs-again") == []
    wait_raw_status(client, "cs-again", {"running"})
