"""Uploads and downloads in the three transfer modes, their validation and their faults (plain httpx)."""

from __future__ import annotations

import io
import os
import tarfile
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from support import FakeClock
from transfer_helpers import act, base, pull, push, register

from bentocloud_jupyter.sandbox import Faults, Sandbox
from bentocloud_jupyter.sandbox.__main__ import parse_args

MODES = ["proxy", "presigned", "multipart"]


@pytest.mark.parametrize("kind", ["bento", "model"])
@pytest.mark.parametrize("mode", MODES)
def test_round_trip_is_byte_for_byte(mode: str, kind: str, sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = mode
    data = os.urandom(300_001)
    assert push(client, kind, "tiny", "v1", data, part_size=70_000) == mode
    record = client.get(base(kind, "tiny", "v1")).json()
    assert record["upload_status"] == "success" and record["upload_finished_at"] and record["upload_started_at"]
    assert record["presigned_upload_url"] == "" and record["presigned_download_url"] == ""
    assert record["transmission_strategy"] == {"proxy": "proxy", "presigned": None, "multipart": "presigned_url"}[mode]
    assert pull(client, kind, "tiny", "v1") == data
    assert sandbox.blobs.root is not None and len(list(sandbox.blobs.root.rglob("archive.tar"))) == 1


def test_multipart_accepts_any_part_sizes_and_uneven_order(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = "multipart"
    register(client, "model", "parts", "v1")
    upload_id = act(client, "model", "parts", "v1", "start_multipart_upload").json()["upload_id"]
    chunks = [os.urandom(n) for n in (5, 70_000, 1, 12_345)]
    etags = {}
    for number in (3, 1, 4, 2):  # parallel clients finish parts in any order
        url = act(client, "model", "parts", "v1", "presign_multipart_upload_url",
                  {"upload_id": upload_id, "part_number": number}).json()["presigned_upload_url"]
        resp = httpx.put(url, content=chunks[number - 1])
        assert resp.status_code == 200 and resp.headers["ETag"].startswith('"')
        etags[number] = resp.headers["ETag"]
    parts = [{"part_number": n, "etag": etags[n]} for n in (1, 2, 3, 4)]
    assert act(client, "model", "parts", "v1", "complete_multipart_upload",
               {"parts": parts, "upload_id": upload_id}).status_code == 200
    act(client, "model", "parts", "v1", "finish_upload", {"status": "success", "reason": ""})
    assert pull(client, "model", "parts", "v1") == b"".join(chunks)


def test_complete_multipart_validates_etags(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = "multipart"
    register(client, "bento", "etags", "v1")
    upload_id = act(client, "bento", "etags", "v1", "start_multipart_upload").json()["upload_id"]
    url = act(client, "bento", "etags", "v1", "presign_multipart_upload_url",
              {"upload_id": upload_id, "part_number": 1}).json()["presigned_upload_url"]
    etag = httpx.put(url, content=b"part one").headers["ETag"]

    def complete(parts: object, uid: object = upload_id) -> httpx.Response:
        return act(client, "bento", "etags", "v1", "complete_multipart_upload", {"parts": parts, "upload_id": uid})

    for bad, words in (([], "at least one"), ([{"part_number": 1, "etag": ""}], "no etag"),
                       ([{"part_number": 1, "etag": '"0000"'}], "does not match"),
                       ([{"part_number": 2, "etag": etag}], "never uploaded"),
                       ([{"part_number": 1, "etag": etag}, {"part_number": 1, "etag": etag}], "ascending")):
        resp = complete(bad)
        assert resp.status_code == 400 and words in resp.json()["error"], resp.text
    assert complete([{"part_number": 1, "etag": etag}], "upload-forged").status_code == 400
    bad_part = act(client, "bento", "etags", "v1", "presign_multipart_upload_url",
                   {"upload_id": upload_id, "part_number": 0})
    assert bad_part.status_code == 400
    assert complete([{"part_number": 1, "etag": etag.strip('"')}]).status_code == 200  # S3 accepts unquoted
    assert complete([{"part_number": 1, "etag": etag}]).status_code == 400  # no longer open


def test_finish_upload_failed_keeps_the_reason(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = "presigned"
    assert register(client, "model", "broken", "v1")["upload_status"] == "pending"
    assert act(client, "model", "broken", "v1", "start_upload").json()["upload_status"] == "uploading"
    done = act(client, "model", "broken", "v1", "finish_upload", {"status": "failed", "reason": "disk full"})
    assert done.status_code == 200
    assert (done.json()["upload_status"], done.json()["upload_finished_reason"]) == ("failed", "disk full")
    assert act(client, "model", "broken", "v1", "finish_upload", {"status": "maybe"}).status_code == 400
    assert client.get(f"{base('model', 'broken', 'v1')}/download").status_code == 400


def test_bare_push_and_bento_update(client: httpx.Client) -> None:
    register(client, "bento", "bare", "v1")
    resp = act(client, "bento", "bare", "v1", "finish_upload", {"status": "success", "reason": "bento for development"})
    assert resp.json()["upload_status"] == "success"
    updated = client.patch(base("bento", "bare", "v1"), json={"description": "new", "manifest": None,
                                                               "labels": [{"key": "a", "value": "b"}]})
    assert updated.status_code == 200
    assert updated.json()["description"] == "new" and updated.json()["labels"] == [{"key": "a", "value": "b"}]
    assert updated.json()["manifest"]["entry_service"] == "Tiny"


def _signed(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_presigned_urls_are_signed_per_method_and_expire(sandbox: Sandbox, client: httpx.Client,
                                                         clock: FakeClock) -> None:
    sandbox.transfer_mode = "presigned"
    register(client, "model", "signed", "v1")
    url = act(client, "model", "signed", "v1", "presign_upload_url").json()["presigned_upload_url"]
    assert url.startswith(f"{sandbox.url}/_storage/models/signed/v1/archive.tar?")
    plain, query = _signed(url)
    forged = httpx.put(plain, params={**query, "signature": "0" * 64}, content=b"x")
    assert forged.status_code == 403 and "<Code>AccessDenied</Code>" in forged.text
    assert httpx.put(plain, content=b"x").status_code == 403
    assert httpx.get(url).status_code == 403  # a PUT URL cannot be used to GET
    longer = httpx.put(plain, params={**query, "expires": str(int(query["expires"]) + 10)}, content=b"x")
    assert longer.status_code == 403
    clock.advance(3601)
    expired = httpx.put(url, content=b"x")
    assert expired.status_code == 403 and "expired" in expired.text
    fresh = act(client, "model", "signed", "v1", "presign_download_url").json()["presigned_download_url"]
    assert httpx.get(fresh).status_code == 404  # nothing uploaded yet: S3's NoSuchKey


def test_presign_forbidden_fault(sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = "presigned"
    push(client, "model", "ok", "v1", b"payload")
    sandbox.faults.presign_forbidden = True
    register(client, "model", "refused", "v1")
    url = act(client, "model", "refused", "v1", "presign_upload_url").json()["presigned_upload_url"]
    assert httpx.put(url, content=b"data").status_code == 403
    download = act(client, "model", "ok", "v1", "presign_download_url").json()["presigned_download_url"]
    assert httpx.get(download).status_code == 403
    sandbox.faults.presign_forbidden = False
    assert httpx.get(download).content == b"payload"


@pytest.mark.parametrize("mode", ["proxy", "presigned"])
def test_drop_upload_after_cuts_the_connection(mode: str, sandbox: Sandbox, client: httpx.Client) -> None:
    sandbox.transfer_mode = mode
    sandbox.faults.drop_upload_after = 100_000
    register(client, "model", "cut", "v1")
    act(client, "model", "cut", "v1", "start_upload")
    if mode == "proxy":
        target, headers = f"{sandbox.url}{base('model', 'cut', 'v1')}/upload", {"X-YATAI-API-TOKEN": sandbox.token}
    else:
        target, headers = act(client, "model", "cut", "v1", "presign_upload_url").json()["presigned_upload_url"], {}
    with pytest.raises(httpx.TransportError):
        httpx.put(target, content=os.urandom(1_000_000), headers=headers)
    record = client.get(base("model", "cut", "v1")).json()
    if mode == "proxy":  # the server itself notices (bentoml sends no finish_upload in proxy mode)
        assert record["upload_status"] == "failed" and "interrupted" in record["upload_finished_reason"]
    else:
        assert record["upload_status"] == "uploading"
    assert httpx.put(target, content=b"small", headers=headers).status_code == 200  # under the limit
    assert not list(sandbox.blobs.root.rglob("*.partial")) if sandbox.blobs.root else True


def test_seeded_artifacts_download_a_generated_archive(client: httpx.Client) -> None:
    resp = client.get(f"{base('bento', 'summarizer', 'v3')}/download")
    assert resp.status_code == 200 and resp.headers["content-type"] == "application/x-tar"
    with tarfile.open(fileobj=io.BytesIO(resp.content)) as tar:
        names = tar.getnames()
        bento_yaml = tar.extractfile("./bento.yaml")
        assert bento_yaml is not None and b"entry_service: Summarizer" in bento_yaml.read()
    assert {"./bento.yaml", "./README.md", "./src/service.py"} <= set(names)
    model = client.get(f"{base('model', 'iris_clf', 'v1')}/download")
    with tarfile.open(fileobj=io.BytesIO(model.content)) as tar:
        assert "./model.yaml" in tar.getnames()


def test_transfer_mode_knob_and_admin_config(sandbox: Sandbox, client: httpx.Client) -> None:
    admin = httpx.Client(base_url=sandbox.url)
    assert admin.get("/_sandbox/config").json() == {"transfer_mode": "proxy"}
    assert admin.post("/_sandbox/config", json={"transfer_mode": "multipart"}).json()["transfer_mode"] == "multipart"
    assert sandbox.transfer_mode == "multipart"
    assert client.get(base("bento", "summarizer", "v1")).json()["transmission_strategy"] == "presigned_url"
    assert admin.post("/_sandbox/config", json={"transfer_mode": "ftp"}).status_code == 400
    assert admin.post("/_sandbox/config", json={"speed": 2}).status_code == 400
    with pytest.raises(ValueError):
        sandbox.transfer_mode = "carrier-pigeon"
    faults = admin.post("/_sandbox/faults", json={"drop_upload_after": 5, "presign_forbidden": True}).json()
    assert faults["drop_upload_after"] == 5 and faults["presign_forbidden"] is True
    assert admin.post("/_sandbox/faults", json={"drop_upload_after": -1}).status_code == 400
    admin.post("/_sandbox/reset", json={})
    assert sandbox.faults == Faults() and sandbox.transfer_mode == "multipart"  # config survives a reset
    admin.close()
    with Sandbox(transfer_mode="presigned") as other:
        assert other.transfer_mode == "presigned"
        root = other.blobs.root
        assert root is not None and root.is_dir()
    assert not root.exists()  # stored bytes are deleted on stop


def test_cli_flag() -> None:
    assert parse_args(["--transfer-mode", "multipart"]).transfer_mode == "multipart"
    assert parse_args([]).transfer_mode == "proxy"
