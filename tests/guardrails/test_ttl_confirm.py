"""TTLs (parsing, labels, the timer on the loop, flags for what outlived them) and ``--confirm`` in a
protected context, against the sandbox."""

from __future__ import annotations

import math
import time
from typing import Any

import pytest
from conftest import Shell
from support import run_loop, until, wait_status

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials.protected import set_protected
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.guardrails import ledger, ttl
from bentocloud_jupyter.core.guardrails.confirm import ConfirmationNeeded
from bentocloud_jupyter.core.rest import session


def changed(sandbox: Any) -> list[str]:
    """The routes that change something (not GET) the sandbox answered since its stats were reset."""
    return [route for route in sandbox.stats()["by_route"] if not route.startswith("GET")]


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                                               (" 2H ", 7200)])
def test_ttl_parses(text: str, seconds: float) -> None:
    assert ttl.parse_ttl(text) == seconds


@pytest.mark.parametrize("bad", ["5x", "-5m", "0s", "nan", "1.5h", "8d", "2 h", "", "m", math.nan, -3, True])
def test_bad_ttl_is_refused(bad: Any) -> None:
    if bad == "":
        assert ttl.parse_ttl(bad) is None
        return
    with pytest.raises(InvalidInputError):
        ttl.parse_ttl(bad)


@pytest.mark.parametrize("value", ["20991231T235959Z ", "2099-12-31", "99991399T000000Z", "x" * 500, 7, None,
                                   "20990230T250000Z"])
def test_hostile_expiry_labels_are_ignored(value: Any) -> None:
    assert ttl.parse_expires(value) is None
    assert ttl.ttl_note("d", "running", {ledger.EXPIRES_KEY: value} if isinstance(value, str) else {}) == ""


@pytest.mark.parametrize("line", ["%deploy summarizer:v3 -n ttl-bad --ttl 5x", "%deploy summarizer:v3 -n ttl-bad "
                                  "--ttl=-5m", "%bentocloud apply summarizer:v3 -n ttl-bad --ttl 0s",
                                  "%bentocloud start ttl-bad --ttl nan"])
def test_bad_ttl_is_one_line_and_sends_nothing(shell: Shell, sbx_context: Any, line: str) -> None:
    sbx_context.reset_stats()
    ran = shell(line)
    assert ran.error is not None and "--ttl" in str(ran.error) and "\n" not in str(ran.error)
    assert changed(sbx_context) == [] and ledger.entries() == []


def test_ttl_without_a_loop_labels_and_says_no_timer(sbx_context: Any) -> None:
    view = api.deploy("summarizer:v3", name="ttl-script", ttl="2h")
    assert "no timer runs" in view.note and ttl.timers() == []  # type: ignore[union-attr]
    labels = session.client_for()[0].get_deployment("ttl-script").labels
    expires = ttl.expiry_of(labels)
    assert expires is not None and abs(expires - (time.time() + 7200)) < 60
    assert ledger.entries("sbx")[0].expires_at is not None


def test_a_ttl_expires_on_the_loop_and_terminates(sbx_context: Any) -> None:
    async def main() -> None:
        view = api.deploy("summarizer:v3", name="ttl-short", ttl="1s")
        assert "a timer in this kernel" in view.note  # type: ignore[union-attr]
        assert [t.name for t in ttl.timers()] == ["ttl-short"]
        await until(lambda: any("ttl-short" in n and "terminated" in n for n in ttl.notices()), timeout=10)

    run_loop(main)
    wait_status("ttl-short", {"terminated", "terminating"})
    assert ledger.left_running() == []


def test_the_warning_comes_before_and_reaches_a_listener(sbx_context: Any) -> None:
    heard: list[str] = []
    stop = ttl.listen("ttl-warned", heard.append)

    async def main() -> None:
        resolved = session.client_for()[1]
        assert ttl.schedule_expiry(resolved, "ttl-warned", "c", time.time() + ttl.WARN_BEFORE + 0.1)
        await until(lambda: bool(heard), timeout=5)
        ttl.cancel_expiry(resolved.context.name, "ttl-warned", "c")

    try:
        run_loop(main)
    finally:
        stop()
    assert "TTL warning" in heard[0] and ttl.timers() == []


def test_an_outlived_ttl_is_flagged_with_the_command(shell: Shell, sbx_context: Any) -> None:
    from support import create, raw_client

    labels = [*ledger.labels_for(), {"key": ledger.EXPIRES_KEY, "value": "20200101T000000Z"}]
    with raw_client(sbx_context) as raw:
        assert create(raw, name="ttl-late", bento="summarizer:v3", labels=labels).status_code == 200
    wait_status("ttl-late", {"running"})
    listed = shell("%bentocloud deployments")
    assert "still runs" in listed.text and "%bentocloud terminate ttl-late" in listed.text
    assert "%bentocloud terminate ttl-late" in listed.html
    assert "%bentocloud terminate ttl-late" in shell("%bentocloud session --all").text
    started = shell("%bentocloud status ttl-late")
    assert started.error is None


def test_start_with_a_ttl_sets_a_new_expiry(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n ttl-start --ttl 1d")
    wait_status("ttl-start", {"running"})
    shell("%bentocloud terminate ttl-start")
    wait_status("ttl-start", {"terminated"})
    assert shell("%bentocloud start ttl-start --ttl 2h").error is None
    expires = ttl.expiry_of(session.client_for()[0].get_deployment("ttl-start").labels)
    assert expires is not None and abs(expires - (time.time() + 7200)) < 60
    assert ledger.entries("sbx")[0].action == "started"


# ------------------------------------------------------------------------------------- protected


def test_wrong_or_missing_confirm_sends_nothing(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n prot-one")
    set_protected("sbx", True)
    sbx_context.reset_stats()
    for line in ("%bentocloud terminate prot-one", "%bentocloud terminate prot-one --confirm prot-two",
                 "%bentocloud delete prot-one --yes --confirm nope", "%bentocloud update prot-one --scaling-max 2",
                 "%bentocloud apply -n prot-one --scaling-max 2 --confirm x", "%bentocloud teardown --yes",
                 "%bentocloud teardown --yes --confirm prot-one"):
        ran = shell(line)
        assert ran.error is not None and "nothing was sent" in str(ran.error).lower(), line
        assert "\n" not in str(ran.error)
    assert changed(sbx_context) == []
    with pytest.raises(ConfirmationNeeded):
        api.terminate("prot-one")
    assert shell("%bentocloud terminate prot-one --confirm prot-one").error is None
    assert "1 deleted" in shell("%bentocloud teardown --delete --yes --confirm sbx").text
    set_protected("sbx", False)


def test_a_ttl_that_may_be_a_token_is_not_echoed() -> None:
    with pytest.raises(InvalidInputError) as caught:
        ttl.parse_ttl("bcj_0123456789abcdefSECRET")
    assert "SECRET" not in str(caught.value) and "0123456789" not in str(caught.value)


def test_cell_deploy_takes_a_ttl_and_update_keeps_the_expiry(shell: Shell, sbx_context: Any) -> None:
    ran = shell("%%deploy ttl-cell --ttl 1d\nbento: summarizer:v3\n")
    assert ran.error is None, ran.out
    client = session.client_for()[0]
    expires = ttl.expiry_of(client.get_deployment("ttl-cell").labels)
    assert expires is not None
    assert shell("%bentocloud update ttl-cell --label owner=me").error is None
    labels = client.get_deployment("ttl-cell").labels
    assert ttl.expiry_of(labels) == expires and labels["owner"] == "me"


def test_leaving_says_what_is_left_once_at_unload(shell: Shell, sbx_context: Any) -> None:
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    assert leaving_message() == ""
    shell("%deploy summarizer:v3 -n leave-one")
    said = leaving_message()
    assert "leave-one" in said and "%bentocloud teardown --context sbx" in said
    shell("%bentocloud terminate leave-one")
    assert leaving_message() == ""
