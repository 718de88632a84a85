"""``Sandbox``: the emulator served by uvicorn from a daemon thread, for tests, notebooks and the CLI.

Binding is loopback-only unless a caller explicitly asks for another host, and then it warns: the
sandbox has a single well-known token and no TLS, so it must not face a network by accident.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
import warnings
from types import TracebackType
from typing import Any

import uvicorn

from bentocloud_jupyter.sandbox.app import create_app
from bentocloud_jupyter.sandbox.faults import Faults, SandboxH11Protocol, Stats
from bentocloud_jupyter.sandbox.latency import LatencyModel, model_for
from bentocloud_jupyter.sandbox.state import Store, new_token
from bentocloud_jupyter.sandbox.storage import Blobs
from bentocloud_jupyter.sandbox.uploads import check_mode

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8975
START_TIMEOUT = 10.0


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_host(host: str) -> None:
    """Warn when a non-loopback bind was requested (it is allowed, but only on purpose)."""
    if not is_loopback(host):
        warnings.warn(
            f"the BentoCloud sandbox will listen on {host!r}, reachable from other machines; it has no TLS "
            "and a single static token. Use 127.0.0.1 unless you really mean it.",
            UserWarning,
            stacklevel=3,
        )


def _serve(server: uvicorn.Server) -> None:
    """Thread body: uvicorn exits via SystemExit when it cannot bind; start() reports that instead."""
    with contextlib.suppress(SystemExit):
        server.run()


class Sandbox:
    """A local BentoCloud API emulator.

    Args:
        host: interface to bind (default loopback; anything else warns).
        port: TCP port; 0 picks a free one (read it back from ``.url``).
        token: accepted API token; a random ``sbx_...`` one when None.
        speed: lifecycle speed factor (50 makes a 3.5 s rollout take 70 ms).
        faults: initial fault knobs (a fresh :class:`Faults` when None).
        transfer_mode: how bentos/models travel: ``"proxy"`` (through the API), ``"presigned"`` (one
            presigned PUT/GET) or ``"multipart"`` (presigned multipart parts); also settable later via
            the ``transfer_mode`` attribute or ``POST /_sandbox/config``.
    """

    def __init__(self, host: str = DEFAULT_HOST, port: int = 0, token: str | None = None, speed: float = 1.0,
                 faults: Faults | None = None, transfer_mode: str = "proxy") -> None:
        check_host(host)
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.host = host
        self.port = port
        self.token = token or new_token()
        self.speed = speed
        self.faults = faults if faults is not None else Faults()
        self.state = Store(self.token, speed=speed)
        self.state.transfer_mode = check_mode(transfer_mode)
        self.blobs = Blobs()
        self._stats = Stats()
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._bound_port: int | None = None

    def __repr__(self) -> str:
        where = self.url if self._bound_port else f"{self.host}:{self.port} (stopped)"
        return f"Sandbox({where}, speed={self.speed})"

    @property
    def latency(self) -> LatencyModel:
        """The per-API latency model of the deployed services (base, jitter, per-replica limit, cold start)."""
        return model_for(self.state)

    @property
    def transfer_mode(self) -> str:
        """``"proxy"`` | ``"presigned"`` | ``"multipart"``: what create/update/GET advertise."""
        return self.state.transfer_mode

    @transfer_mode.setter
    def transfer_mode(self, mode: str) -> None:
        self.state.transfer_mode = check_mode(mode)

    @property
    def url(self) -> str:
        """Base URL, no trailing slash, e.g. ``http://127.0.0.1:54321``."""
        if self._bound_port is None:
            raise RuntimeError("the sandbox is not running: call start() first")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self._bound_port}"

    def start(self) -> Sandbox:
        """Serve from a daemon thread; returns once the socket is listening."""
        if self._thread is not None:
            raise RuntimeError("the sandbox is already running")
        self.blobs.open()
        app = create_app(self.state, lambda: self.faults, self._stats, self.blobs)
        config = uvicorn.Config(app, host=self.host, port=self.port, http=SandboxH11Protocol, lifespan="off",
                                log_level="warning", access_log=False, timeout_graceful_shutdown=2)
        server = uvicorn.Server(config)
        thread = threading.Thread(target=_serve, args=(server,), name="bentocloud-sandbox", daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=2)
                self.blobs.close()
                raise RuntimeError(f"the sandbox could not listen on {self.host}:{self.port}")
            time.sleep(0.01)
        self._server, self._thread = server, thread
        self._bound_port = int(server.servers[0].sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        """Stop serving and wait for the thread (idempotent)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=10)
        self.blobs.close()
        self._server = self._thread = None
        self._bound_port = None

    def __enter__(self) -> Sandbox:
        return self if self._thread is not None else self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # ----- test helpers -----------------------------------------------------------------------
    def stats(self) -> dict[str, Any]:
        """``{"total": n, "by_route": {"GET /api/v2/deployments/{name}": n}, "connections": k}``."""
        return self._stats.snapshot()

    def reset_stats(self) -> None:
        self._stats.reset()

    def issue_token(self, name: str = "test-token", scopes: list[str] | None = None,
                    expires_in: float | None = None) -> str:
        """A new valid token value (all scopes unless ``scopes``; expiring after ``expires_in`` seconds of
        the sandbox clock), for tests of scopes and expiry without going through the REST API."""
        expired_at = None if expires_in is None else self.state.clock() + expires_in
        return self.state.issue_token(name, "Issued by Sandbox.issue_token", scopes, expired_at).token

    def expire_token(self, token: str) -> None:
        """That token answers 401 "expired" from now on."""
        self.state.expire_token(token)

    def history(self, name: str) -> list[tuple[str, float]]:
        """(status, epoch time) transitions of a deployment so far."""
        return self.state.history(name)
