"""Fixtures every test gets: a private BENTOML_HOME and HOME, clean env vars, and no network but loopback."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import make_sandbox_fixture

# Hints are worded by every loaded front end; in a notebook the extension is always loaded, so the tests
# read messages as a notebook user does (`%bentocloud login`, with the Python form beside it).
import bentocloud_jupyter.ipython.words  # noqa: F401

_CLOUD_ENV_VARS = ("BENTO_CLOUD_API_KEY", "BENTO_CLOUD_API_ENDPOINT", "BENTOML_CLOUD_CONTEXT")
_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost", ""}


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs with its own BENTOML_HOME and HOME; the real ~/bentoml is never touched."""
    home = tmp_path / "bentoml-home"
    monkeypatch.setenv("BENTOML_HOME", str(home))
    (tmp_path / "user-home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.setenv("BENTOML_DO_NOT_TRACK", "True")
    for name in _CLOUD_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    return home


def is_loopback_host(host: Any) -> bool:
    """True for loopback addresses and names; anything else is refused by the guard below."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode()
    host = str(host).strip("[]")
    if host in _LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make any DNS lookup or connection to a non-loopback address fail inside the test process."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback_host(address[0]):
            raise ConnectionRefusedError(f"test guard: connection to {address[0]!r} blocked (loopback only)")

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def guarded_connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_loopback_host(host):
            raise socket.gaierror(socket.EAI_NONAME, f"test guard: lookup of {host!r} blocked (loopback only)")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield


# ---------------------------------------------------------------------------------- a local BentoCloud
# Folders override ``sandbox`` (another speed or a wider scope) where they need to.

sandbox = make_sandbox_fixture(scope="module", speed=50.0)  # shared by the tests of one module


@pytest.fixture()
def live(sandbox: Any) -> Iterator[Any]:
    """The shared sandbox with its fault knobs cleared before and after the test, shared clients closed."""
    from bentocloud_jupyter.core.rest import session

    sandbox.faults.reset()
    yield sandbox
    sandbox.faults.reset()
    session.close_all()


@pytest.fixture()
def sbx_context(live: Any) -> Any:
    """A validated context ``sbx`` pointing at the sandbox, saved and made current in this test's file."""
    from bentocloud_jupyter.core.credentials import auth, config

    auth.login(live.url, live.token, "sbx")
    config.set_current_context("sbx")
    return live
