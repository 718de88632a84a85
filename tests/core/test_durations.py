"""Every duration from the user or the server is checked and bounded (issue 16, finding 6): a NaN, negative or
endless timeout is one line before anything is sent; a server's ``Retry-After`` is clamped into a sane range."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from IPython.core.interactiveshell import InteractiveShell

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials import auth
from bentocloud_jupyter.core.deployments.watch import WatchState
from bentocloud_jupyter.core.deployments.watch_engine import Pacer
from bentocloud_jupyter.core.errors import InvalidInputError, RateLimitError
from bentocloud_jupyter.core.hints import Hint
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.durations import MAX_RETRY_AFTER, MAX_WATCH_TIMEOUT, check_duration
from bentocloud_jupyter.core.rest.errors_map import parse_retry_after
from bentocloud_jupyter.core.rest.http import RetryPolicy

BAD = [math.nan, math.inf, -math.inf, -1, 0, True, "5", None, 10**400]
URL = "https://cloud.test"


@pytest.mark.parametrize("value", BAD, ids=repr)
def test_a_bad_duration_is_one_line(value: Any) -> None:
    with pytest.raises(InvalidInputError) as info:
        check_duration(value)
    assert "\n" not in str(info.value) and len(str(info.value)) < 160


def test_good_durations_come_back_as_floats() -> None:
    assert check_duration(3) == 3.0 and check_duration(0.5, maximum=1) == 0.5
    with pytest.raises(InvalidInputError, match="at most 1"):
        check_duration(2, maximum=1)


@pytest.fixture()
def sent() -> Iterator[list[httpx.Request]]:
    requests: list[httpx.Request] = []
    yield requests
    assert requests == [], "a bad duration must be refused before anything is sent"


def recorder(sent: list[httpx.Request]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)
    return httpx.MockTransport(handler)


@pytest.mark.parametrize("timeout", [math.nan, -1.0, math.inf])
def test_login_timeout_is_checked_before_any_request(timeout: float, sent: list[httpx.Request]) -> None:
    with pytest.raises(InvalidInputError, match="timeout"):
        auth.login(URL, "some-token", "ctx", timeout=timeout, transport=recorder(sent))
    with pytest.raises(InvalidInputError, match="timeout"):
        api.login(URL, "some-token", "ctx", timeout=timeout)


@pytest.mark.parametrize(("timeout", "interval"), [(math.nan, 1.0), (-1.0, 1.0), (math.inf, 1.0), (60.0, math.nan),
                                                   (60.0, 0.0)])
def test_browser_login_waits_are_checked(timeout: float, interval: float, sent: list[httpx.Request]) -> None:
    flow = auth.BrowserLogin(URL, "code", transport=recorder(sent))
    with pytest.raises(InvalidInputError):
        flow.wait(timeout=timeout, poll_interval=interval)


@pytest.mark.parametrize("timeout", [math.nan, -1.0, math.inf])
def test_client_timeout_is_checked(timeout: float) -> None:
    with pytest.raises(InvalidInputError, match="timeout"):
        BentoCloudClient(URL, "t", timeout=timeout)


@pytest.mark.parametrize("timeout", [math.nan, -1.0, math.inf, 0.0])
def test_every_verb_with_a_timeout_checks_it_first(timeout: float) -> None:
    for call in (lambda: api.status("d", wait=True, timeout=timeout),
                 lambda: api.deploy("b:1", name="d", timeout=timeout),
                 lambda: api.update("d", timeout=timeout),
                 lambda: api.terminate("d", wait=True, timeout=timeout),
                 lambda: api.follow_deployment("d", timeout=timeout)):
        with pytest.raises(InvalidInputError, match="timeout"):
            call()


def test_watch_states_refuse_nan_and_cut_endless_timeouts() -> None:
    with pytest.raises(InvalidInputError):
        WatchState("d", timeout=math.nan)
    assert WatchState("d", timeout=math.inf).timeout == MAX_WATCH_TIMEOUT


@pytest.mark.parametrize(("key", "value"), [("timeout", -1), ("timeout", math.nan), ("poll_interval", math.inf),
                                            ("poll_interval", 0)])
def test_configure_refuses_and_says_how_to_set_the_default_back(key: str, value: float) -> None:
    before = (session.settings.timeout, session.settings.poll_interval)
    with pytest.raises(InvalidInputError) as info:
        api.configure(**{key: value})
    assert info.value.hint is not None and info.value.hint.verb == "configure" and key in info.value.hint.args
    assert (session.settings.timeout, session.settings.poll_interval) == before


@pytest.fixture()
def shell() -> Iterator[InteractiveShell]:
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "bentocloud_jupyter")
    yield ip
    ip.run_cell("%config BentoCloudMagics.timeout = 60")
    ip.run_line_magic("unload_ext", "bentocloud_jupyter")


def test_a_bad_config_trait_is_refused_and_keeps_its_value(shell: InteractiveShell,
                                                           capsys: pytest.CaptureFixture[str],
                                                           caplog: pytest.LogCaptureFixture) -> None:
    for bad in ("-1", "float('nan')", "float('inf')", "0"):
        shell.run_cell(f"%config BentoCloudMagics.timeout = {bad}")
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    assert all("\n" not in r.getMessage() and "timeout must be" in r.getMessage()
               for r in caplog.records if r.levelname == "ERROR")
    assert shell.run_cell("%bentocloud contexts").error_in_exec is None
    assert session.settings.timeout == 60


@pytest.mark.parametrize("line", ["%bentocloud status d --wait --timeout inf",
                                  "%bentocloud status d --wait --timeout nan",
                                  "%bentocloud login --api-token not-sent --timeout nan",
                                  "%bentocloud login --api-token not-sent --timeout -1",
                                  "%bentocloud login --api-token not-sent --timeout inf"])
def test_magic_timeouts_are_one_line(shell: InteractiveShell, capsys: pytest.CaptureFixture[str], line: str) -> None:
    with pytest.warns(UserWarning) if "api-token" in line else contextlib.nullcontext():
        outcome = shell.run_cell(line)
    printed = capsys.readouterr()
    assert "Traceback" not in printed.out + printed.err
    assert outcome.error_in_exec is not None and "timeout must be" in str(outcome.error_in_exec)
    assert "\n" not in str(outcome.error_in_exec)


# ------------------------------------------------------------------------------------------ Retry-After


@pytest.mark.parametrize(("header", "expected"), [
    ("nan", None), ("NaN", None), ("soon", None), ("", None), ("7", 7.0), ("-5", 0.0),
    ("inf", MAX_RETRY_AFTER), ("1e308", MAX_RETRY_AFTER), ("1e999", MAX_RETRY_AFTER),
])
def test_retry_after_is_clamped(header: str, expected: float | None) -> None:
    assert parse_retry_after(header) == expected


def test_a_retry_after_date_is_clamped_too() -> None:
    far = format_datetime(datetime.now(timezone.utc) + timedelta(days=3650), usegmt=True)
    past = format_datetime(datetime.now(timezone.utc) - timedelta(days=1), usegmt=True)
    assert parse_retry_after(far) == MAX_RETRY_AFTER and parse_retry_after(past) == 0.0
    assert parse_retry_after("Mon, 99 Foo 99999 99:99:99 GMT") is None


def test_a_nan_retry_after_never_reaches_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [httpx.Response(429, headers={"Retry-After": "nan"}), httpx.Response(200, json={"name": "me"})]
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    with BentoCloudClient(URL, "t", transport=httpx.MockTransport(lambda r: answers.pop(0)),
                          retry=RetryPolicy(backoff=0.01, max_backoff=0.02)) as client:
        assert client.current_user().name == "me"
    assert len(slept) == 1 and math.isfinite(slept[0]) and 0 <= slept[0] <= 0.02


def test_a_huge_retry_after_gives_up_with_a_bounded_wait() -> None:
    refusing = httpx.MockTransport(lambda r: httpx.Response(429, headers={"Retry-After": "1e308"}))
    with BentoCloudClient(URL, "t", transport=refusing) as client, pytest.raises(RateLimitError) as info:
        client.current_user()
    assert info.value.retry_after == MAX_RETRY_AFTER and f"{MAX_RETRY_AFTER:g} s" in str(info.value)


def test_the_policy_and_the_pacer_ignore_a_nan_advice() -> None:
    assert math.isfinite(RetryPolicy(jitter=lambda: 0.0).delay(1, math.nan))
    pacer = Pacer(1.0, 5.0)
    pacer.failed(RateLimitError("slow down", retry_after=math.nan, status=429))
    assert pacer.delay == 2.0


def test_hints_of_configure_still_word_for_the_magic() -> None:
    from bentocloud_jupyter.ipython.words import magic_words

    assert magic_words(Hint("configure", {"timeout": 60.0})) == "%config BentoCloudMagics.timeout = 60.0"
