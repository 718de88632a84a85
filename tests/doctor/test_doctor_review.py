"""The doctor under review (R1): a server that dribbles or pads its answers, odd JSON types, absurd dates,
every line that is not ok saying what to do, the token absent from DEBUG logs, the credentials file's
folder as the file really lives (symlinks, owners), and the doctor in a plain script and in terminal IPython."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from doctor_hostile import ORG, TOKEN, USER, Hostile

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.doctor import probe as probe_module
from bentocloud_jupyter.core.doctor.report import Check, DoctorReport
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.core.tokens import Token


def one(report: DoctorReport, name: str) -> Check:
    lines = report.by_name(name)
    assert len(lines) == 1, repr(report)
    return lines[0]


def every_line_not_ok_says_what_to_do(report: DoctorReport) -> None:
    silent = [check for check in report.checks if check.level != "ok" and not check.advice]
    assert not silent, repr(report)


def test_a_body_dribbled_a_byte_at_a_time_is_cut_at_the_timeout(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", body=USER, dribble=0.05)  # ~100 bytes: 5 s were it all read
    reach = one(api.doctor(timeout=0.3), "reachable")
    assert reach.level == "fail" and "did not answer" in reach.found and "0.6" in reach.advice


def test_a_body_of_megabytes_is_refused_without_reading_it_all(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", body=USER, pad=probe_module.MAX_BODY + 1)
    report = api.doctor(timeout=5)
    reach = one(report, "reachable")
    assert reach.level == "fail" and "larger than" in reach.found
    every_line_not_ok_says_what_to_do(report)


def test_a_body_just_under_the_bound_is_read(hostile: Hostile) -> None:
    hostile.answer("/api/v1/current_org", body=ORG, pad=probe_module.MAX_BODY // 2)
    assert one(api.doctor(timeout=5), "identity").level == "ok"


@pytest.mark.parametrize(("path", "body", "name"), [
    ("/api/v1/auth/current", [USER], "reachable"),
    ("/api/v1/auth/current", "alice", "reachable"),
    ("/api/v1/auth/current", {**USER, "name": [1]}, "reachable"),
    ("/api/v1/current_org", [ORG], "identity"),
    ("/api/v1/api_tokens", {"items": "x"}, "token expiry"),
    ("/api/v1/api_tokens", {"items": [None, 5, {"name": 1, "user": "x", "last_used_at": 5}]}, "token expiry"),
])
def test_odd_json_types_are_one_line_that_says_what_to_do(hostile: Hostile, path: str, body: Any,
                                                          name: str) -> None:
    hostile.answer(path, body=body)
    report = api.doctor(timeout=5)
    line = one(report, name)
    assert "broke" not in line.found and "\n" not in line.found, repr(report)
    every_line_not_ok_says_what_to_do(report)


@pytest.mark.parametrize("setup", ["500", "401", "org 503", "tokens 403", "garbled date", "not json", "stall",
                                   "far clock", "expired token"])
def test_every_line_that_is_not_ok_says_what_to_do(hostile: Hostile, setup: str) -> None:
    answers: dict[str, tuple[str, dict[str, Any]]] = {
        "500": ("/api/v1/auth/current", {"status": 500, "body": {"message": "boom"}}),
        "401": ("/api/v1/auth/current", {"status": 401, "body": {"error": "bad token"}}),
        "org 503": ("/api/v1/current_org", {"status": 503, "body": {"error": "down"}}),
        "tokens 403": ("/api/v1/api_tokens", {"status": 403, "body": {"error": "no scope"}}),
        "not json": ("/api/v1/auth/current", {"body": b"<html>portal</html>"}),
        "stall": ("/api/v1/auth/current", {"body": USER, "stall": True}),
        "expired token": ("/api/v1/api_tokens", {"body": {"items": [{
            "name": "t", "user": USER, "last_used_at": "2026-01-01T00:00:00Z", "expired_at": "2020-01-01T00:00:00Z",
            "is_expired": True}], "start": 0, "count": 1, "total": 1}}),
    }
    if setup in answers:
        path, kwargs = answers[setup]
        hostile.answer(path, **kwargs)
    for answer in hostile.routes.values():
        if setup == "garbled date":
            answer.date = "garbage"
        if setup == "far clock":
            answer.date = "Fri, 31 Dec 9999 23:59:59 GMT"
    report = api.doctor(timeout=0.3 if setup == "stall" else 5)
    if setup != "tokens 403":  # an unreadable token list is only "unknown" (ok)
        assert not report.healthy or any(c.level == "warn" for c in report.checks), repr(report)
    every_line_not_ok_says_what_to_do(report)


def test_no_credentials_and_an_unknown_context_say_what_to_do(live: Any) -> None:
    every_line_not_ok_says_what_to_do(api.doctor())
    every_line_not_ok_says_what_to_do(api.doctor("nope"))


def test_an_absurd_server_date_reads_in_days_not_in_billions_of_seconds(hostile: Hostile) -> None:
    for answer in hostile.routes.values():
        answer.date = "Fri, 31 Dec 9999 23:59:59 GMT"
    clock = one(api.doctor(timeout=5), "clock")
    assert clock.level == "warn" and "days" in clock.found and "behind" in clock.found


def test_an_expiry_in_year_one_is_a_readable_date(hostile: Hostile) -> None:
    hostile.answer("/api/v1/api_tokens", body={"items": [{
        "name": "t", "user": USER, "last_used_at": "2026-01-01T00:00:00Z", "expired_at": "0001-01-01T00:00:00Z"}],
        "start": 0, "count": 1, "total": 1})
    expiry = one(api.doctor(timeout=5), "token expiry")
    assert expiry.level == "fail" and "0001-01-01 00:00 UTC" in expiry.found


def test_debug_logs_of_httpx_and_httpcore_never_show_the_token(hostile: Hostile,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    hostile.answer("/api/v1/current_org", status=500, body={"message": f"echo {TOKEN}"}, headers={"X-Echo": TOKEN})
    with caplog.at_level(logging.DEBUG):
        for name in ("httpx", "httpcore", "bentocloud_jupyter"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        report = api.doctor(timeout=5)
    assert any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)  # they did log
    assert TOKEN not in caplog.text and TOKEN not in repr(report) + html_of(report)


def test_a_symlinked_file_is_judged_by_the_folder_it_really_lives_in(hostile: Hostile, tmp_path: Path) -> None:
    path = config.credentials_path()
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    target = shared / "yatai.yaml"
    path.rename(target)
    path.symlink_to(target)
    report = api.doctor(timeout=5)
    link_folder, real_folder = report.by_name("credentials folder")
    assert link_folder.level == "ok" and str(path.parent) in link_folder.found
    assert real_folder.level == "warn" and str(shared) in real_folder.found and "chmod 700" in real_folder.advice
    assert "symlink" in one(report, "credentials file").found


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="chown needs root")
def test_a_folder_of_another_user_is_a_warning(hostile: Hostile) -> None:
    folder = config.credentials_path().parent
    os.chown(folder, 65534, -1)
    try:
        line = one(api.doctor(timeout=5), "credentials folder")
    finally:
        os.chown(folder, os.getuid(), -1)
    assert line.level == "warn" and "another user" in line.found and line.advice


SCRIPT = "from bentocloud_jupyter.core import api\nprint(repr(api.doctor(timeout=5)))\n"


def run(argv: list[str], tmp_path: Path) -> str:
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython"), "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stdout + done.stderr and TOKEN not in done.stdout + done.stderr
    return done.stdout


def test_the_doctor_runs_in_a_plain_script(hostile: Hostile, tmp_path: Path) -> None:
    out = run([sys.executable, "-c", SCRIPT], tmp_path)
    assert "plain Python" in out and "user Alice" in out and "0 fail" in out


def test_the_magic_runs_in_terminal_ipython_without_a_kernel(hostile: Hostile, tmp_path: Path) -> None:
    ipython = Path(sys.executable).with_name("ipython")
    if not ipython.exists():
        pytest.skip("no ipython script beside this Python")
    code = ("get_ipython().run_line_magic('load_ext', 'bentocloud_jupyter'); "
            "print(repr(get_ipython().run_line_magic('bentocloud', 'doctor --timeout 5')))")
    out = run([str(ipython), "--no-banner", "--quick", "-c", code], tmp_path)
    assert "IPython outside a kernel (terminal)" in out and "user Alice" in out, out


def test_headers_dribbled_a_byte_at_a_time_are_cut_at_the_timeout(hostile: Hostile) -> None:
    """httpx's timeout is per read: a server that never stops sending a header would hold the doctor."""
    release = threading.Event()
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = server.accept()
        with conn, contextlib.suppress(OSError):
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
            for _ in range(250):  # 5 s of header, were it all waited for
                if release.wait(0.02):
                    return
                conn.sendall(b"a")
            body = json.dumps(USER).encode()
            conn.sendall(b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}"
    config.save_context(config.Context("dribble", url, Token(TOKEN)))
    try:
        reach = one(api.doctor("dribble", timeout=0.3), "reachable")
    finally:
        release.set()
        server.close()
    assert reach.level == "fail" and "did not answer" in reach.found and "0.6" in reach.advice


def test_more_time_is_never_past_what_the_verb_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.doctor import remote
    from bentocloud_jupyter.core.errors import RequestTimeout
    from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT

    def stalled(self: Any, call: Any) -> Any:
        raise RequestTimeout("BentoCloud did not answer; check your network")

    monkeypatch.setattr(probe_module.Probe, "get", stalled)
    ctx = config.Context("x", "http://127.0.0.1:9", Token(TOKEN))
    [reach, _clock] = remote.remote_checks(ctx, MAX_REQUEST_TIMEOUT)
    assert reach.hint is not None and reach.hint.args["timeout"] == MAX_REQUEST_TIMEOUT


def test_a_redirect_is_not_followed_and_says_to_check_the_url(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", status=302, body={}, headers={"Location": "http://127.0.0.2:9/steal"})
    reach = one(api.doctor(timeout=5), "reachable")
    assert reach.level == "fail" and "302" in reach.found and "redirects" in reach.advice
    assert hostile.seen == ["/api/v1/auth/current"]


def test_a_file_we_may_not_read_is_a_fail_not_an_ok(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    path = config.credentials_path()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == path else real_access(p, mode))
    line = one(api.doctor(timeout=5), "credentials file")
    assert line.level == "fail" and "cannot be read" in line.found and "chmod 600" in line.advice
