"""The doctor against the sandbox: a healthy context, the environment overriding the file, loose file
permissions, expired and expiring tokens, an endpoint that would leak the token, no credentials at all,
and the sandbox of this kernel."""

from __future__ import annotations

from typing import Any

import pytest

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.api import sandbox as sandbox_verbs
from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.doctor.report import Check, DoctorReport
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.results import html_of
from bentocloud_jupyter.core.tokens import Token

NAMES = ["versions", "front end", "widgets", "credentials", "credentials file", "credentials folder", "endpoint",
         "reachable", "identity", "token expiry", "clock", "sandbox"]


def one(report: DoctorReport, name: str) -> Check:
    lines = report.by_name(name)
    assert len(lines) == 1, repr(report)
    return lines[0]


def shown(report: DoctorReport) -> str:
    return repr(report) + html_of(report) + "".join(repr(c) for c in report.checks)


def test_a_healthy_sandbox_context_is_all_ok(sbx_context: Any) -> None:
    report = api.doctor()
    assert [c.name for c in report.checks] == NAMES
    shell_dependent = {"front end", "widgets"}  # they depend on the shell an earlier test may have started
    assert report.healthy, repr(report)
    assert all(c.level == "ok" for c in report.checks if c.name not in shell_dependent), repr(report)
    assert report.context == "context 'sbx'"
    assert "organization sandbox" in one(report, "identity").found
    assert "never expires" in one(report, "token expiry").found
    assert sbx_context.token not in shown(report)


def test_the_environment_overriding_a_requested_context_is_a_warning(sbx_context: Any,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", sbx_context.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", sbx_context.url)
    asked = one(api.doctor("sbx"), "credentials")
    assert asked.level == "warn" and "overrides the context 'sbx'" in asked.found
    assert "unset BENTO_CLOUD_API_KEY" in asked.advice
    current = api.doctor()
    assert "wins over the file's current context 'sbx'" in one(current, "credentials").found
    assert one(current, "reachable").level == "ok" and current.context == "the environment"
    assert sbx_context.token not in shown(current)


def test_the_environment_alone_is_fine_without_a_file(live: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", live.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", live.url)
    report = api.doctor()
    assert one(report, "credentials").level == "ok"
    assert "the environment supplies the token" in one(report, "credentials file").found
    assert report.healthy, repr(report)


def test_a_group_readable_file_and_an_open_folder_are_warnings(sbx_context: Any) -> None:
    path = config.credentials_path()
    path.chmod(0o644)
    path.parent.chmod(0o777)
    try:
        report = api.doctor()
    finally:
        path.parent.chmod(0o700)
    file_line, folder_line = one(report, "credentials file"), one(report, "credentials folder")
    assert file_line.level == "warn" and "mode 0644" in file_line.found
    assert f"chmod 600 {path}" in file_line.advice
    assert folder_line.level == "warn" and "chmod 700" in folder_line.advice


def test_an_expired_token_fails_reachability_and_says_to_log_in(sbx_context: Any) -> None:
    sbx_context.faults.expire_tokens = True
    report = api.doctor()
    reach = one(report, "reachable")
    assert reach.level == "fail" and "login" in reach.advice
    assert not report.by_name("identity") and not report.by_name("token expiry")
    assert sbx_context.token not in shown(report)


def test_a_token_about_to_expire_is_a_warning(live: Any) -> None:
    token = live.issue_token("doctor-soon", expires_in=2 * 86400)
    auth.login(live.url, token, "soon")
    expiry = one(api.doctor("soon"), "token expiry")
    assert expiry.level == "warn" and "'doctor-soon'" in expiry.found and "login" in expiry.advice
    assert token not in repr(expiry)


def test_plain_http_to_another_host_fails_and_sends_nothing(sbx_context: Any) -> None:
    config.save_context(config.Context("remote", "http://bentocloud.example.test", Token("remote-token-abcdef")))
    report = api.doctor("remote")
    endpoint = one(report, "endpoint")
    assert endpoint.level == "fail" and "unencrypted" in endpoint.found
    assert not report.by_name("reachable")


def test_no_credentials_at_all_fail_with_how_to_log_in(live: Any) -> None:
    report = api.doctor()
    assert one(report, "credentials").level == "fail" and "login" in one(report, "credentials").advice
    assert one(report, "credentials file").level == "fail"
    assert not report.by_name("reachable")
    assert one(report, "versions").level == "ok" and not report.healthy


def test_an_unknown_context_is_one_fail_line(sbx_context: Any) -> None:
    line = one(api.doctor("nope"), "credentials")
    assert line.level == "fail" and "'nope'" in line.found


def test_the_sandbox_of_this_kernel_is_reported(sbx_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_verbs, "_running", sbx_context)
    elsewhere = one(api.doctor(), "sandbox")
    assert elsewhere.level == "warn" and sbx_context.url in elsewhere.found and "'sbx'" in elsewhere.found
    auth.login(sbx_context.url, sbx_context.token, sandbox_verbs.SANDBOX_CONTEXT)
    here = one(api.doctor(sandbox_verbs.SANDBOX_CONTEXT), "sandbox")
    assert here.level == "ok" and "speed" in here.found


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "10", True])
def test_a_bad_timeout_is_one_line_and_nothing_is_sent(sbx_context: Any, timeout: Any) -> None:
    sbx_context.reset_stats()
    with pytest.raises(InvalidInputError, match="timeout"):
        api.doctor(timeout=timeout)
    assert sbx_context.stats()["total"] == 0


def test_the_doctor_changes_nothing_and_only_reads(sbx_context: Any) -> None:
    before = config.credentials_path().read_bytes()
    sbx_context.reset_stats()
    api.doctor()
    assert config.credentials_path().read_bytes() == before
    assert all(route.startswith("GET ") for route in sbx_context.stats()["by_route"]), sbx_context.stats()
