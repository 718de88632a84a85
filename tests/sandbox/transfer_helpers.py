"""bentoml 1.4's push/pull call sequences (reference §7.3-7.5), written with plain httpx for the tests."""

from __future__ import annotations

from typing import Any

import httpx

BUILD_AT = "2026-11-28 05:24:40.710123"


def base(kind: str, repo: str, version: str | None = None) -> str:
    path = f"/api/v1/{kind}_repositories/{repo}/{kind}s"
    return f"{path}/{version}" if version else path


def manifest(kind: str, size: int) -> dict[str, Any]:
    if kind == "model":
        return {"module": "bentoml.picklable_model", "api_version": "v1", "bentoml_version": "1.4.40",
                "size_bytes": size, "metadata": {}, "context": {"framework_name": ""}, "options": {}}
    return {"service": "service:Tiny", "bentoml_version": "1.4.40", "size_bytes": size, "entry_service": "Tiny",
            "name": "tiny", "version": None, "apis": {}, "models": [], "runners": [], "services": [],
            "envs": [], "schema": {}, "dev": False, "image": None, "spec": 2}


def register(client: httpx.Client, kind: str, repo: str, version: str, size: int = 0) -> dict[str, Any]:
    """GET-or-create the repository, then create the version (pending)."""
    if client.get(f"/api/v1/{kind}_repositories/{repo}").status_code == 404:
        assert client.post(f"/api/v1/{kind}_repositories", json={"name": repo, "description": ""}).status_code == 200
    resp = client.post(base(kind, repo), json={"description": "", "version": version, "manifest": manifest(kind, size),
                                               "build_at": BUILD_AT, "labels": []})
    assert resp.status_code == 200, resp.text
    data: dict[str, Any] = resp.json()
    return data


def act(client: httpx.Client, kind: str, repo: str, version: str, action: str, body: Any = None) -> httpx.Response:
    url = f"{base(kind, repo, version)}/{action}"
    return client.patch(url) if body is None else client.patch(url, json=body)


def push(client: httpx.Client, kind: str, repo: str, version: str, data: bytes, part_size: int = 100 << 20
         ) -> str:
    """Push ``data`` the way bentoml does for whatever strategy the sandbox advertises; returns the mode."""
    created = register(client, kind, repo, version, len(data))
    strategy, url = created["transmission_strategy"], ""
    if strategy is None:
        url = act(client, kind, repo, version, "presign_upload_url").json()["presigned_upload_url"]
        strategy = "presigned_url" if url else "proxy"
    assert act(client, kind, repo, version, "start_upload").status_code == 200
    if strategy == "proxy":
        resp = client.put(f"{base(kind, repo, version)}/upload", content=data,
                          headers={"Content-Type": "application/octet-stream"})
        assert resp.status_code == 200, resp.text
        return "proxy"
    if url:
        assert httpx.put(url, content=data).status_code == 200
        mode = "presigned"
    else:
        upload_id = act(client, kind, repo, version, "start_multipart_upload").json()["upload_id"]
        parts = []
        for number, start in enumerate(range(0, len(data), part_size), start=1):
            part_url = act(client, kind, repo, version, "presign_multipart_upload_url",
                           {"upload_id": upload_id, "part_number": number}).json()["presigned_upload_url"]
            resp = httpx.put(part_url, content=data[start:start + part_size])
            assert resp.status_code == 200
            parts.append({"part_number": number, "etag": resp.headers["ETag"]})
        done = act(client, kind, repo, version, "complete_multipart_upload", {"parts": parts, "upload_id": upload_id})
        assert done.status_code == 200, done.text
        mode = "multipart"
    finished = act(client, kind, repo, version, "finish_upload", {"status": "success", "reason": ""})
    assert finished.status_code == 200 and finished.json()["upload_status"] == "success"
    return mode


def pull(client: httpx.Client, kind: str, repo: str, version: str) -> bytes:
    """Download like bentoml: the strategy of the record, presign_download_url when not proxy."""
    record = client.get(base(kind, repo, version)).json()
    if record["transmission_strategy"] == "proxy":
        resp = client.get(f"{base(kind, repo, version)}/download")
        assert resp.status_code == 200, resp.text
        assert int(resp.headers["content-length"]) == len(resp.content)
        return resp.content
    url = act(client, kind, repo, version, "presign_download_url").json()["presigned_download_url"]
    resp = httpx.get(url)
    assert resp.status_code == 200, resp.text
    return resp.content
