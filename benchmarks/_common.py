"""Shared helpers for the benchmark scripts (not a test module, not part of the package).

``isolate_env()`` must run before anything imports ``bentoml``: it pins usage tracking off and points
HOME and BENTOML_HOME at a throw-away directory, so a benchmark never touches the real ``~/bentoml``
or ``~/.bentoml``, and it keeps HTTP clients away from any proxy (all traffic stays on 127.0.0.1).
"""

from __future__ import annotations

import atexit
import math
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
from collections.abc import Sequence
from typing import Any

_HOME: str | None = None


def isolate_env() -> str:
    """Point HOME/BENTOML_HOME at a temp dir (removed at exit), disable tracking and proxies; idempotent."""
    global _HOME
    if _HOME is None:
        _HOME = tempfile.mkdtemp(prefix="bcj-bench-")
        atexit.register(shutil.rmtree, _HOME, True)
    os.environ["HOME"] = _HOME
    os.environ["BENTOML_HOME"] = os.path.join(_HOME, "bentoml")
    os.environ["BENTOML_DO_NOT_TRACK"] = "True"
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
    return _HOME


def bytecode_env(home: str) -> dict[str, str]:
    """The environment for child interpreters, with bytecode cached under ``home``.

    With PYTHONDONTWRITEBYTECODE set, every child would compile this project's sources again while
    pip-installed packages (bentoml) load precompiled bytecode; a private PYTHONPYCACHEPREFIX that the
    warm-up run fills gives every module the same footing, without writing into the source tree.
    """
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(home, "pycache")
    return env


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    return isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127."))


def loopback_only() -> None:
    """Make this process refuse any TCP/UDP connect or DNS lookup that is not loopback (a safety net)."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(f"benchmark guard: connection to {address!r} blocked (loopback only)")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, f"benchmark guard: lookup of {host!r} blocked")
        return real_getaddrinfo(host, *args, **kwargs)

    setattr(socket.socket, "connect", connect)  # noqa: B010  (setattr: monkeypatching a C type's method)
    setattr(socket.socket, "connect_ex", connect_ex)  # noqa: B010
    setattr(socket, "getaddrinfo", getaddrinfo)  # noqa: B010


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], align: str | None = None) -> str:
    """A GitHub-flavoured markdown table; ``align`` is one char per column (``l``/``r``), default l then r."""
    align = align or "l" + "r" * (len(headers) - 1)
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        parts = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align, strict=True)]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if a == "r" else (":" + "-" * (w + 1))
                          for w, a in zip(widths, align, strict=True)) + "|"
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])


def machine() -> str:
    """One line describing where the numbers came from."""
    return (f"Python {platform.python_version()} on {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs ({sys.executable})")


def package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"
