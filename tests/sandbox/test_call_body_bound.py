"""The sandbox's fake services refuse an API call's body past MAX_CALL_BYTES with 413, before reading it all."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from support import create, wait_raw_status

from bentocloud_jupyter.sandbox import services


def deploy(client: httpx.Client, name: str) -> str:
    assert create(client, name=name, bento="summarizer:v3").status_code == 200
    url: str = wait_raw_status(client, name, {"running"})["urls"][0]
    return url


def test_declared_length_past_the_bound_is_413_without_the_body(client: httpx.Client) -> None:
    url = urlsplit(deploy(client, "big-declared"))
    head = (f"POST {url.path}/summarize HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {services.MAX_CALL_BYTES + 1}\r\n\r\n").encode()
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 80), timeout=10) as sock:
        sock.sendall(head + b'{"text": "')  # the rest never comes: the answer must not wait for it
        answer = b""
        while b"request body over" not in answer and (more := sock.recv(4096)):
            answer += more
    assert answer.startswith(b"HTTP/1.1 413") and b"request body over" in answer


def test_streamed_body_past_the_bound_is_413(client: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> None:
    url = deploy(client, "big-chunked")
    monkeypatch.setattr(services, "MAX_CALL_BYTES", 4096)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b'{"text": "'
        for _ in range(8):
            yield b"x" * 1024
        yield b'"}'

    response = httpx.post(f"{url}/summarize", content=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413
    assert f"over {4096} bytes" in response.json()["error"]


def test_a_body_within_the_bound_is_served(client: httpx.Client) -> None:
    url = deploy(client, "small-body")
    response = httpx.post(f"{url}/summarize", json={"text": "word " * 1000})
    assert response.status_code == 200 and response.json()["summary"].endswith("...")
