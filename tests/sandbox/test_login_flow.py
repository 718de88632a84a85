"""The browser code flow, finished by POSTing the approve form like a person would."""

from __future__ import annotations

import re

import httpx

from bentocloud_jupyter.sandbox import Sandbox


def test_code_flow_hands_out_a_working_token(sandbox: Sandbox) -> None:
    anon = httpx.Client(base_url=sandbox.url)
    code = anon.get("/api/v1/auth/code").json()["code"]
    pending = anon.get("/api/v1/auth/token", params={"code": code})
    assert pending.status_code >= 400 and "approved" in pending.json()["error"]
    page = anon.get("/api_tokens", params={"code": code})
    assert page.status_code == 200 and "Approve" in page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    done = anon.post(action.group(1).replace("&amp;", "&"), data={"code": code})
    assert done.status_code == 200 and "approved" in done.text.lower()
    token = anon.get("/api/v1/auth/token", params={"code": code})
    assert token.status_code == 200
    new = token.json()["token"]
    assert new != sandbox.token
    me = anon.get("/api/v1/auth/current", headers={"X-YATAI-API-TOKEN": new})
    assert me.status_code == 200 and me.json()["name"] == "sandbox-user"
    assert anon.get("/api/v1/auth/token", params={"code": code}).json()["token"] == new


def test_unknown_code_is_404(sandbox: Sandbox) -> None:
    anon = httpx.Client(base_url=sandbox.url)
    assert anon.get("/api/v1/auth/token", params={"code": "bogus"}).status_code == 404
    assert anon.get("/api/v1/auth/token", params={"code": ""}).status_code == 404
    assert anon.get("/api_tokens", params={"code": "bogus"}).status_code == 404
    assert anon.post("/api_tokens/approve", data={"code": "bogus"}).status_code == 404


def test_page_escapes_the_code(sandbox: Sandbox) -> None:
    nasty = '<script>alert("x")</script>'
    page = httpx.get(sandbox.url + "/api_tokens", params={"code": nasty})
    assert "<script>" not in page.text
