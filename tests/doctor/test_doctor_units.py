"""The doctor's checks one by one, without a server: the clock from Date headers, the front end and widgets
as a kernel would show them, versions, a check that breaks, the report's escaping, and the magic."""

from __future__ import annotations

import inspect
import sys
import time
import types
from email.utils import formatdate
from typing import Any

import pytest

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.doctor import local
from bentocloud_jupyter.core.doctor.probe import Stamp
from bentocloud_jupyter.core.doctor.remote import MAX_SKEW, clock_check, skew_of
from bentocloud_jupyter.core.doctor.report import DoctorReport, fail, ok, safely, warn
from bentocloud_jupyter.core.errors import ConfigError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.core.tokens import Token
from bentocloud_jupyter.ipython.doctor_parsers import DOCTOR_SUBCOMMANDS


def stamp(date: str | None, local_time: float | None = None) -> Stamp:
    return Stamp(date, time.time() if local_time is None else local_time, 0.01)


@pytest.mark.parametrize("date", [None, "", "garbage", "Mon, 99 Foo 2026 25:61:61 GMT", "Mon, 01 Jan 2026 00:00:00",
                                  "Tue, 01 Jan 2026 00:00:00 -0000", "Fri, 31 Dec 99999 23:59:59 GMT", "\x00" * 40])
def test_a_missing_or_garbled_date_has_no_skew(date: str | None) -> None:
    assert skew_of(stamp(date)) is None
    line = clock_check([stamp(date)])
    assert line.level == "warn" and "unknown" in line.found


def test_skew_is_server_minus_local() -> None:
    now = time.time()
    assert skew_of(stamp(formatdate(now + 120, usegmt=True), now)) == pytest.approx(120, abs=1.5)
    assert skew_of(stamp(formatdate(now - 120, usegmt=True), now)) == pytest.approx(-120, abs=1.5)


def test_clock_lines() -> None:
    now = time.time()
    assert clock_check([stamp(formatdate(now, usegmt=True), now)]).level == "ok"
    ahead = clock_check([stamp(formatdate(now - 10 * MAX_SKEW, usegmt=True), now)])
    assert ahead.level == "warn" and "ahead of the server's" in ahead.found
    assert "no answer came" in clock_check([]).found
    assert clock_check([stamp("garbage"), stamp(formatdate(now, usegmt=True), now)]).level == "ok"  # first usable


def fake_shell(monkeypatch: pytest.MonkeyPatch, class_name: str | None) -> None:
    """Make the doctor see IPython with a shell of that class (None: IPython loaded, no shell)."""
    shell = None if class_name is None else type(class_name, (), {})()
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_front_end_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    assert local.shell_kind() == "kernel" and local.front_end().level == "ok"
    fake_shell(monkeypatch, "TerminalInteractiveShell")
    terminal = local.front_end()
    assert terminal.level == "warn" and "JupyterLab" in terminal.advice
    fake_shell(monkeypatch, None)
    assert local.shell_kind() == "plain" and "plain Python" in local.front_end().found
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    assert "Colab" in local.front_end().found


def test_widgets_unknown_is_said_honestly_with_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    monkeypatch.setitem(sys.modules, "ipywidgets.widgets.widget", types.SimpleNamespace(
        Widget=types.SimpleNamespace(_control_comm=None)))
    monkeypatch.setitem(sys.modules, "comm", types.SimpleNamespace(
        get_comm_manager=lambda: types.SimpleNamespace(comms={})))
    line = local.widget_manager()
    assert line.level == "warn" and "unknown" in line.found and "jupyterlab_widgets" in line.advice


def test_widgets_connected_when_the_front_end_opened_the_control_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    monkeypatch.setitem(sys.modules, "ipywidgets.widgets.widget", types.SimpleNamespace(Widget=object))
    control = types.SimpleNamespace(target_name="jupyter.widget.control")
    monkeypatch.setitem(sys.modules, "comm", types.SimpleNamespace(
        get_comm_manager=lambda: types.SimpleNamespace(comms={"c1": control})))
    line = local.widget_manager()
    assert line.level == "ok" and "connected" in line.found


def test_a_comm_manager_that_breaks_is_no_evidence(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    monkeypatch.delitem(sys.modules, "ipywidgets.widgets.widget", raising=False)

    def broken() -> Any:
        raise RuntimeError("no kernel")

    monkeypatch.setitem(sys.modules, "comm", types.SimpleNamespace(get_comm_manager=broken))
    assert local.widget_manager().level == "warn"


def test_widgets_missing_in_a_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_shell(monkeypatch, "ZMQInteractiveShell")
    real = local.installed
    monkeypatch.setattr(local, "installed", lambda dist: None if dist in ("ipywidgets", "bentoml") else real(dist))
    assert "pip install ipywidgets" in local.widget_manager().advice
    versions = local.versions()
    assert versions.level == "warn" and "missing: ipywidgets" in versions.found
    assert "bentoml not installed" in versions.found


def test_versions_never_import_bentoml() -> None:
    loaded = "bentoml" in sys.modules
    line = local.versions()
    assert line.level == "ok" and "Python" in line.found and "httpx" in line.found
    assert ("bentoml" in sys.modules) == loaded


def test_a_check_that_breaks_is_its_own_fail_line() -> None:
    def broken() -> Any:
        return 1 / 0

    [line] = safely("widgets", broken)
    assert line.level == "fail" and "ZeroDivisionError" in line.found and "report" in line.advice
    [ours] = safely("credentials", lambda: (_ for _ in ()).throw(ConfigError("The file is broken; fix it.")))
    assert ours.found == "The file is broken; fix it."


def test_the_report_escapes_what_servers_say_and_never_shows_a_token() -> None:
    secret = Token("unit-secret-token-0123456789")
    report = DoctorReport.of([ok("identity", "user <script>alert(1)</script>"),
                              warn("clock", f"echo {secret.reveal()}", "do <b>this</b>"),
                              fail("reachable", "down", hint=Hint("login"))], "context 'x'")
    html = html_of(report)
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;" in html
    for text in (repr(report), html, repr(report.checks)):
        assert secret.reveal() not in text
    assert report.summary == "bentocloud doctor for context 'x': 1 ok, 1 warn, 1 fail"
    assert "login" in repr(report).splitlines()[-1]


def test_the_parser_follows_the_verb() -> None:
    parser = DOCTOR_SUBCOMMANDS["doctor"].parser
    found = vars(parser.parse_args([]))
    params = {n: p.default for n, p in inspect.signature(api.doctor).parameters.items()}
    assert found == params
    assert vars(parser.parse_args(["--context", "prod", "--timeout", "2.5"])) == {"context": "prod", "timeout": 2.5}
    assert DOCTOR_SUBCOMMANDS["doctor"].verb == "api.doctor"


def test_the_parser_refuses_a_timeout_that_is_no_number() -> None:
    from IPython.core.error import UsageError

    with pytest.raises(UsageError, match="number of seconds"):
        DOCTOR_SUBCOMMANDS["doctor"].parser.parse_args(["--timeout", "soon"])


def test_the_magic_runs_the_verb(live: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    from bentocloud_jupyter.core.credentials import auth, config

    auth.login(live.url, live.token, "sbx")
    config.set_current_context("sbx")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    try:
        report = shell.run_line_magic("bentocloud", "doctor --timeout 5")
    finally:
        shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    assert isinstance(report, DoctorReport) and report.healthy, repr(report)
    assert live.token not in repr(report) + html_of(report) + capsys.readouterr().out
