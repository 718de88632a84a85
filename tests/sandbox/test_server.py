"""Start-up paths: in-process Sandbox, the CLI under SIGTERM/SIGINT, host safety, import hygiene."""

from __future__ import annotations

import ast
import os
import re
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import httpx
import pytest

from bentocloud_jupyter.sandbox import Sandbox
from bentocloud_jupyter.sandbox.server import check_host, is_loopback

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "bentocloud_jupyter" / "sandbox"


def test_in_process_lifecycle() -> None:
    sb = Sandbox(token="fixed-token")
    with pytest.raises(RuntimeError):
        _ = sb.url
    assert sb.start() is sb
    try:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", sb.url)
        assert sb.token == "fixed-token"
        with pytest.raises(RuntimeError):
            sb.start()
        assert httpx.get(sb.url + "/api/v1/auth/current", headers={"X-YATAI-API-TOKEN": "fixed-token"}).is_success
    finally:
        sb.stop()
    sb.stop()  # idempotent
    assert Sandbox().token.startswith("sbx_")


def test_port_in_use_raises() -> None:
    with Sandbox() as first:
        port = int(first.url.rsplit(":", 1)[1])
        with pytest.raises(RuntimeError, match="could not listen"):
            Sandbox(port=port).start()


def test_non_loopback_host_warns_without_binding() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("example.com")
    with pytest.warns(UserWarning, match="reachable from other machines"):
        check_host("0.0.0.0")
    with pytest.warns(UserWarning):
        Sandbox(host="0.0.0.0")  # constructed, never started
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Sandbox(host="127.0.0.1")


def test_bad_speed_rejected() -> None:
    with pytest.raises(ValueError):
        Sandbox(speed=0)


def _start_cli(*extra: str) -> tuple[subprocess.Popen[str], str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "bentocloud_jupyter.sandbox", "--port", "0", *extra],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    url = token = ""
    for _ in range(10):
        line = proc.stdout.readline()
        if line.startswith("BentoCloud sandbox listening on "):
            url = line.split()[-1]
        if line.startswith("API token: "):
            token = line.split()[-1]
            break
    assert url.startswith("http://127.0.0.1:") and token, "CLI did not print its URL and token"
    return proc, url, token


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_starts_and_stops_cleanly(sig: signal.Signals) -> None:
    proc, url, token = _start_cli("--token", "cli-token", "--speed", "10")
    try:
        assert token == "cli-token"
        me = httpx.get(url + "/api/v1/auth/current", headers={"X-YATAI-API-TOKEN": token})
        assert me.status_code == 200
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out
    assert "Traceback" not in err


def test_cli_random_token() -> None:
    proc, _, token = _start_cli()
    try:
        assert token.startswith("sbx_")
        proc.terminate()
        proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0


def test_sandbox_is_independent_of_core() -> None:
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [f"{'.' * node.level}{node.module or ''}"]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert "core" not in name.split("."), f"{path.name} imports {name}"


def test_package_import_is_lazy() -> None:
    code = ("import sys, bentocloud_jupyter.sandbox as s; "
            "assert 'uvicorn' not in sys.modules and 'starlette' not in sys.modules; "
            "assert s.Sandbox.__name__ == 'Sandbox' and 'uvicorn' in sys.modules")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True, timeout=30)
