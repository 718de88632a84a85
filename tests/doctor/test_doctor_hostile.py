"""The doctor against a loopback server that misbehaves: each misbehaviour is one line, the report completes,
and the token never appears in its text, HTML or repr (even when the server echoes it everywhere)."""

from __future__ import annotations

import time
from email.utils import formatdate

from doctor_hostile import ORG, TOKEN, USER, Hostile

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.doctor.report import Check, DoctorReport
from bentocloud_jupyter.core.results import html_of


def everything(report: DoctorReport) -> str:
    """Every way the report can be shown (and each line's own repr)."""
    return "\n".join([repr(report), html_of(report), *(repr(check) for check in report.checks)])


def one(report: DoctorReport, name: str) -> Check:
    lines = report.by_name(name)
    assert len(lines) == 1, repr(report)
    return lines[0]


def test_a_well_behaved_server_gives_a_healthy_report(hostile: Hostile) -> None:
    report = api.doctor(timeout=5)
    assert report.healthy, repr(report)
    assert one(report, "identity").found == "user Alice <alice@example.test>, organization acme"
    assert one(report, "clock").level == "ok"
    assert one(report, "token expiry").found.startswith("unknown")
    assert TOKEN not in everything(report)


def test_a_garbled_date_is_unknown_not_a_failure(hostile: Hostile) -> None:
    for path in hostile.routes:
        hostile.routes[path].date = "Someday, 99 Foo 20x6 25:61:61 GMT"
    clock = one(api.doctor(timeout=5), "clock")
    assert clock.level == "warn"
    assert "unknown" in clock.found and "Date" in clock.found


def test_a_missing_date_is_unknown(hostile: Hostile) -> None:
    for path in hostile.routes:
        hostile.routes[path].date = None
    clock = one(api.doctor(timeout=5), "clock")
    assert clock.level == "warn" and "unknown" in clock.found


def test_a_server_clock_far_ahead_is_a_warning_with_what_to_do(hostile: Hostile) -> None:
    ahead = formatdate(time.time() + 3600, usegmt=True)
    for path in hostile.routes:
        hostile.routes[path].date = ahead
    clock = one(api.doctor(timeout=5), "clock")
    assert clock.level == "warn"
    assert "behind the server's" in clock.found and "NTP" in clock.advice


def test_a_500_echoing_the_token_is_one_fail_line_without_the_token(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", status=500, body={"message": f"boom, your token is {TOKEN}"},
                   headers={"x-trace-id": "trace-123"})
    report = api.doctor(timeout=5)
    reach = one(report, "reachable")
    assert reach.level == "fail" and "500" in reach.found
    assert "\n" not in reach.found
    assert not report.by_name("identity") and one(report, "clock").level == "ok"  # the 500 still had a Date
    assert TOKEN not in everything(report)


def test_a_401_is_a_fail_line_that_says_to_log_in(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", status=401, body={"error": f"bad token {TOKEN}"})
    report = api.doctor(timeout=5)
    reach = one(report, "reachable")
    assert reach.level == "fail" and "login" in reach.advice
    assert TOKEN not in everything(report)


def test_a_slow_answer_with_a_short_timeout_fails_and_offers_more_time(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", body=USER, stall=True)
    report = api.doctor(timeout=0.2)
    reach = one(report, "reachable")
    assert reach.level == "fail" and "did not answer" in reach.found
    assert "doctor" in reach.advice and "0.4" in reach.advice
    assert one(report, "clock").level == "warn"  # no answer came, so no Date: unknown
    assert report.summary.endswith("fail") and not report.healthy


def test_a_token_echoed_into_every_name_never_shows(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", body={**USER, "name": TOKEN, "first_name": TOKEN, "email": TOKEN})
    hostile.answer("/api/v1/current_org", body={**ORG, "name": TOKEN})
    hostile.answer("/api/v1/api_tokens", body={"items": [{
        "name": TOKEN, "uid": TOKEN, "description": TOKEN, "token": TOKEN, "last_used_at": "2026-01-01T00:00:00Z",
        "expired_at": "2020-01-01T00:00:00Z", "is_expired": True, "user": {"name": TOKEN}}],
        "start": 0, "count": 1, "total": 1})
    report = api.doctor(timeout=5)
    assert one(report, "token expiry").level == "fail"  # the server says it expired
    assert "****" in one(report, "identity").found
    assert TOKEN not in everything(report)


def test_a_body_that_is_not_json_is_one_line(hostile: Hostile) -> None:
    hostile.answer("/api/v1/auth/current", body=b"<html>captive portal</html>")
    reach = one(api.doctor(timeout=5), "reachable")
    assert reach.level == "fail" and "not valid JSON" in reach.found


def test_an_organization_that_fails_still_names_the_user(hostile: Hostile) -> None:
    hostile.answer("/api/v1/current_org", status=503, body={"error": "down"})
    identity = one(api.doctor(timeout=5), "identity")
    assert identity.level == "warn"
    assert "alice@example.test" in identity.found and "organization unknown" in identity.found


def test_a_token_list_it_may_not_read_leaves_expiry_unknown(hostile: Hostile) -> None:
    hostile.answer("/api/v1/api_tokens", status=403, body={"error": "missing scope read_organization"})
    expiry = one(api.doctor(timeout=5), "token expiry")
    assert expiry.level == "ok" and expiry.found.startswith("unknown")


def test_the_token_last_used_is_the_one_reported(hostile: Hostile) -> None:
    items = [{"name": "old", "user": USER, "last_used_at": "2026-01-01T00:00:00Z", "expired_at": None},
             {"name": "this", "user": USER, "last_used_at": "2026-06-01T00:00:00Z",
              "expired_at": "2099-01-01T00:00:00Z"},
             {"name": "someone else's", "user": {"name": "bob"}, "last_used_at": "2026-07-01T00:00:00Z"}]
    hostile.answer("/api/v1/api_tokens", body={"items": items, "start": 0, "count": 3, "total": 3})
    expiry = one(api.doctor(timeout=5), "token expiry")
    assert expiry.level == "ok" and "'this'" in expiry.found and "2099-01-01" in expiry.found


def test_nothing_but_get_is_sent(hostile: Hostile) -> None:
    api.doctor(timeout=5)
    assert set(hostile.seen) == {"/api/v1/auth/current", "/api/v1/current_org", "/api/v1/api_tokens"}


def test_newlines_and_megabytes_in_names_stay_one_short_line(hostile: Hostile) -> None:
    hostile.answer("/api/v1/current_org", body={**ORG, "name": "acme\nfail  everything  forged line\x1b[31m"})
    hostile.answer("/api/v1/auth/current", body={**USER, "first_name": "A" * 1_000_000})
    report = api.doctor(timeout=5)
    assert len(repr(report).splitlines()) == len(report.checks) + 1
    identity = one(report, "identity")
    assert "\x1b" not in identity.found and len(identity.found) <= 400
