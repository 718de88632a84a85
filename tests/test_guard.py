"""The network guard itself: non-loopback traffic fails, loopback works."""

from __future__ import annotations

import socket

import pytest


def test_non_loopback_connection_is_blocked() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(ConnectionRefusedError):
        sock.connect(("192.0.2.1", 443))


def test_dns_lookup_is_blocked() -> None:
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("cloud.bentoml.com", 443)


def test_loopback_is_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
