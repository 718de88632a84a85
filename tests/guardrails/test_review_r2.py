"""A review of the ledger, TTLs, teardown and leaving as a demanding user and a hostile server see them:
timers across ``%unload_ext``/``%reload_ext``, on a closed loop, on something deleted elsewhere; commands
built from names the server sent; a ledger that spans contexts."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from conftest import Shell
from support import run_loop, until

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.guardrails import ledger, ttl
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.results import DeploymentsView, DeploymentView

PASSED = {ledger.EXPIRES_KEY: "20200101T000000Z"}


def test_unload_stops_the_timers_and_reload_arms_them_once(shell: Shell, sbx_context: Any) -> None:
    resolved = session.client_for()[1]

    async def main() -> None:
        ledger.record("sbx", "r2-reload", "c", expires_at=time.time() + 3600)
        assert ttl.schedule_expiry(resolved, "r2-reload", "c", time.time() + 3600)
        first = ttl.timers()[0]
        said = shell("%unload_ext bentocloud_jupyter").out
        assert "its timer stops with the extension" in said and "kernel is gone" not in said
        assert ttl.timers() == [] and all(h.cancelled() for h in first.handles)
        assert [t.name for t in ttl.suspended()] == ["r2-reload"]
        shell("%load_ext bentocloud_jupyter")
        shell("%reload_ext bentocloud_jupyter")
        assert [t.name for t in ttl.timers()] == ["r2-reload"] and ttl.suspended() == []

    run_loop(main)


def test_a_timer_on_a_closed_loop_is_not_listed_nor_armed_again(sbx_context: Any) -> None:
    resolved = session.client_for()[1]

    async def main() -> bool:
        return ttl.schedule_expiry(resolved, "r2-closed", "c", time.time() + 3600)

    assert asyncio.run(main())
    assert ttl.timers() == []
    assert ttl.suspend() == []


def test_a_ttl_on_a_deployment_deleted_elsewhere_forgets_it(sbx_context: Any) -> None:
    resolved = session.client_for()[1]
    ledger.record("sbx", "r2-gone", "default", expires_at=time.time())

    async def main() -> None:
        assert ttl.schedule_expiry(resolved, "r2-gone", "default", time.time())
        await until(lambda: any("r2-gone" in n for n in ttl.notices()), timeout=10)

    run_loop(main)
    said = [n for n in ttl.notices() if "r2-gone" in n][-1]
    assert "already gone" in said and "terminate" not in said.split("expired")[1].replace("nothing to terminate", "")
    assert ledger.entries() == []


def test_an_expiry_that_fails_in_any_way_is_one_notice(sbx_context: Any) -> None:
    resolved = session.client_for()[1]
    caught: list[Any] = []

    async def broken() -> None:
        raise OSError("network is down")

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, context: caught.append(context))
        assert ttl.schedule_expiry(resolved, "r2-broken", "c", time.time(), stop=broken)
        await until(lambda: any("r2-broken" in n for n in ttl.notices()), timeout=10)

    run_loop(main)
    said = [n for n in ttl.notices() if "r2-broken" in n][-1]
    assert "OSError" in said and "%bentocloud terminate r2-broken --cluster c" in said and caught == []


@pytest.mark.parametrize(("name", "cluster"), [("svc --context prod", "c"), ("svc", "c --context prod"),
                                               ("--yes", "c"), ("svc;x", "c")])
def test_a_hostile_name_never_makes_a_command(name: str, cluster: str) -> None:
    d = Deployment(name=name, status="running", cluster=cluster, labels=PASSED)
    for text in (*DeploymentsView([d], "sbx").overdue_notes(), repr(DeploymentView(d)),
                 ttl.ttl_note(name, "running", PASSED, cluster=cluster)):
        assert "%bentocloud terminate" not in text and "BentoCloud console" in text


def test_a_plain_name_gets_its_command_with_the_cluster() -> None:
    d = Deployment(name="svc-1", status="running", cluster="gcp-us.1", labels=PASSED)
    assert DeploymentsView([d], "sbx").overdue_notes()[0].endswith("%bentocloud terminate svc-1 --cluster gcp-us.1")


def test_session_and_teardown_point_to_the_context_that_has_entries(shell: Shell, sbx_context: Any) -> None:
    ledger.record("staging env", "elsewhere", "c")
    sbx_context.reset_stats()
    said = shell("%bentocloud session").text
    assert "'staging env'" in said and "%bentocloud session --context 'staging env'" in said
    torn = shell("%bentocloud teardown --yes").text
    assert "%bentocloud teardown --context 'staging env'" in torn
    assert [r for r in sbx_context.stats()["by_route"] if not r.startswith("GET")] == []
    assert [e.name for e in ledger.entries()] == ["elsewhere"]


def test_the_leaving_message_quotes_a_context_a_command_line_would_split() -> None:
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    ledger.record("my prod", "svc", "c")
    assert "%bentocloud teardown --context 'my prod'" in leaving_message()


def test_session_costs_one_listing_however_many_deployments(shell: Shell, sbx_context: Any) -> None:
    for index in range(3):
        api.deploy("summarizer:v3", name=f"r2-cost-{index}")
    sbx_context.reset_stats()
    assert shell("%bentocloud session").error is None
    routes = sbx_context.stats()["by_route"]
    assert sum(count for route, count in routes.items() if route.startswith("GET")) == 1, routes


def test_reload_ext_says_no_goodbye_but_unload_does(shell: Shell, sbx_context: Any) -> None:
    ledger.record("sbx", "r2-stays", "c")
    assert "r2-stays" not in shell("%reload_ext bentocloud_jupyter").out
    assert "r2-stays" in shell("%unload_ext bentocloud_jupyter").out
    shell("%load_ext bentocloud_jupyter")


def test_delete_without_a_cluster_forgets_only_the_one_deleted(shell: Shell, sbx_context: Any) -> None:
    resolved = session.client_for()[1]
    api.deploy("summarizer:v3", name="r2-twin")

    async def main() -> None:
        ledger.record("sbx", "r2-twin", "other-cluster", expires_at=time.time() + 3600)
        assert ttl.schedule_expiry(resolved, "r2-twin", "other-cluster", time.time() + 3600)
        assert shell("%bentocloud delete r2-twin --yes").error is None
        assert [(t.name, t.cluster) for t in ttl.timers()] == [("r2-twin", "other-cluster")]

    run_loop(main)
    assert [(e.name, e.cluster) for e in ledger.entries()] == [("r2-twin", "other-cluster")]


def _hostile_listing(request: httpx.Request) -> httpx.Response:
    """A server that lists codespaces only under ``is:dev`` and sends labels meant to confuse."""
    ours = [{"key": ledger.CREATED_BY_KEY, "value": ledger.CREATED_BY}]
    items = [{"name": "plain-one", "status": "running", "cluster": {"name": "c"},
              "labels": [*ours, {"key": ledger.SESSION_KEY, "value": "<b>" * 40}]},
             {"name": "not-ours", "status": "running", "cluster": "c",
              "labels": [{"key": ledger.CREATED_BY_KEY, "value": "someone-else"}]},
             {"name": "svc --context prod", "status": "running", "cluster": "c",
              "labels": [*ours, {"key": ledger.EXPIRES_KEY, "value": "20200101T000000Z"}]}]
    if "is:dev" in request.url.params.get("q", ""):
        items = [{"name": "dev-one", "status": "running", "cluster": "c", "manifest": {"dev": True},
                  "labels": ours}]
    return httpx.Response(200, json={"items": items, "total": len(items), "start": 0, "count": len(items)})


def test_session_all_finds_codespaces_listed_apart_and_shrugs_off_hostile_labels(sbx_context: Any) -> None:
    from bentocloud_jupyter.core.api.session import session as session_verb

    session.close_all()
    session.settings.transport = httpx.MockTransport(_hostile_listing)
    try:
        view = session_verb(all=True)
    finally:
        session.settings.transport = None
        session.close_all()
    text, html = repr(view), view._repr_html_()  # type: ignore[union-attr]
    rows = {row[0]: row for row in view.table.rows}  # type: ignore[union-attr]
    assert set(rows) == {"plain-one", "svc --context prod", "dev-one"}
    assert rows["dev-one"][1] == "codespace" and rows["plain-one"][8] == "an earlier kernel"
    assert "%bentocloud terminate" not in text and "<b>" not in html


def test_what_session_shows_gone_is_not_said_to_bill_at_leaving(shell: Shell, sbx_context: Any) -> None:
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    ledger.record("sbx", "r2-vanished", "gcp-us-central-1")
    assert "r2-vanished" in leaving_message()
    assert "gone" in shell("%bentocloud session").text
    assert leaving_message() == ""
    assert "Nothing to tear down" in shell("%bentocloud teardown").text  # checked again: still gone
    assert ledger.entries() != []
    shell("%bentocloud teardown --yes")
    assert ledger.entries() == []


def test_session_and_teardown_resolve_the_credentials_once(sbx_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.api.session import session as session_verb
    from bentocloud_jupyter.core.api.session import teardown

    api.deploy("summarizer:v3", name="r2-once")
    calls: list[Any] = []
    real = session.resolve_context
    monkeypatch.setattr(session, "resolve_context", lambda *a, **k: calls.append(a) or real(*a, **k))
    for verb in (lambda: session_verb(), lambda: session_verb(all=True), lambda: teardown(),
                 lambda: teardown(yes=True)):
        calls.clear()
        verb()
        assert len(calls) == 1


def test_a_start_after_the_ttl_passed_forgets_the_old_expiry() -> None:
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    ledger.record("sbx", "r2-again", "c", expires_at=time.time() - 60)
    ledger.record("sbx", "r2-again", "c", action="updated")
    assert ledger.entries()[0].expires_at is not None  # an update keeps it (its label stays too)
    ledger.record("sbx", "r2-again", "c", action="started")
    assert ledger.entries()[0].expires_at is None and "TTL until" not in leaving_message()
    ledger.record("sbx", "r2-again", "c", action="started", expires_at=time.time() + 60)
    ledger.record("sbx", "r2-again", "c", action="started")
    assert ledger.entries()[0].expires_at is not None  # one that has not passed stays


def test_a_shell_without_a_kernel_says_goodbye_once_at_exit(shell: Shell, sbx_context: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import atexit

    from bentocloud_jupyter.ipython import extension

    registered: list[Any] = []
    monkeypatch.setattr(atexit, "register", registered.append)
    monkeypatch.setattr(atexit, "unregister", lambda f: registered.remove(f) if f in registered else None)
    shell("%reload_ext bentocloud_jupyter")
    shell("%reload_ext bentocloud_jupyter")
    assert registered == [extension.at_exit]
    ledger.record("sbx", "r2-exit", "c")
    shell.capsys.readouterr()
    extension.at_exit()
    assert shell.capsys.readouterr().out.count("r2-exit") == 1


def test_a_notice_reaches_only_the_card_of_that_deployment(sbx_context: Any) -> None:
    resolved = session.client_for()[1]
    heard: dict[str, list[str]] = {"mine": [], "other context": [], "other cluster": [], "any": []}
    stops = [ttl.listen("r2-same", heard["mine"].append, context="sbx", cluster="c"),
             ttl.listen("r2-same", heard["other context"].append, context="prod", cluster="c"),
             ttl.listen("r2-same", heard["other cluster"].append, context="sbx", cluster="d"),
             ttl.listen("r2-same", heard["any"].append)]

    async def main() -> None:
        assert ttl.schedule_expiry(resolved, "r2-same", "c", time.time() + ttl.WARN_BEFORE + 0.05)
        await until(lambda: bool(heard["mine"]), timeout=5)

    try:
        run_loop(main)
    finally:
        for stop in stops:
            stop()
    assert len(heard["mine"]) == len(heard["any"]) == 1
    assert heard["other context"] == heard["other cluster"] == []


def test_the_plan_says_the_command_for_its_own_context() -> None:
    from bentocloud_jupyter.core.guardrails.views import Teardown, TeardownStep

    step = TeardownStep("svc", "c", "deployment", "running", "terminate")
    said = repr(Teardown("staging env", [step], protected=True))
    assert "%bentocloud teardown --yes --context 'staging env' --confirm 'staging env'" in said
    assert "--context staging" in repr(Teardown("staging", [step], delete=True))


def test_a_ttl_counts_from_the_request_not_from_before_the_build(sbx_context: Any,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from bentocloud_jupyter.core.api import deployments

    real_resolve, real_time, shift = deployments.resolve_bento, time.time, [0.0]

    def slow_build(*args: Any, **kwargs: Any) -> Any:
        shift[0] = 1800.0  # as if building and pushing took half an hour
        return real_resolve(*args, **kwargs)

    monkeypatch.setattr(deployments, "resolve_bento", slow_build)
    monkeypatch.setattr(time, "time", lambda: real_time() + shift[0])
    api.deploy("summarizer:v3", name="r2-slow", ttl="1h")
    expires = ttl.expiry_of(session.client_for()[0].get_deployment("r2-slow").labels)
    assert expires is not None and expires >= real_time() + 1800 + 3600 - 60
    assert abs((ledger.entries()[0].expires_at or 0) - expires) < 1


def test_an_entry_recorded_without_a_cluster_is_matched_by_its_name(shell: Shell, sbx_context: Any) -> None:
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    api.deploy("summarizer:v3", name="r2-nocluster")
    ledger.forget_name("sbx", "r2-nocluster", None)
    ledger.record("sbx", "r2-nocluster", "")  # as when a create's answer named no cluster
    said = shell("%bentocloud session").text
    assert "gone" not in said and "r2-nocluster" in leaving_message()


def _garbage_terminate(request: httpx.Request) -> httpx.Response:
    """A server that lists the deployment and answers its terminate with nonsense (or a token-quoting 500)."""
    if request.method == "GET":
        item = {"name": "r2-hostile", "status": "running", "cluster": "c"}
        return httpx.Response(200, json={"items": [item], "total": 1, "start": 0, "count": 1})
    if "/terminate" in request.url.path and "first" not in str(request.url):
        return httpx.Response(200, json=["not", "a", "deployment"])
    return httpx.Response(500, text="boom " + request.headers.get("authorization", ""))


def test_teardown_survives_a_hostile_terminate_answer(sbx_context: Any) -> None:
    from bentocloud_jupyter.core.api.session import teardown

    ledger.record("sbx", "r2-hostile", "c")
    session.close_all()
    session.settings.transport = httpx.MockTransport(_garbage_terminate)
    session.settings.retry = None
    try:
        done = teardown(yes=True)
    finally:
        session.settings.transport = None
        session.close_all()
    (step,) = done.steps
    assert step.outcome.startswith("failed") and "\n" not in step.outcome
    assert sbx_context.token not in repr(done)


@pytest.mark.parametrize("line", ["%deploy summarizer:v3 -n r2-neg --ttl -5m", "%bentocloud start r2-neg --ttl -1h",
                                  "%bentocloud apply summarizer:v3 -n r2-neg --ttl -2d"])
def test_a_negative_ttl_is_said_to_be_negative(shell: Shell, sbx_context: Any, line: str) -> None:
    sbx_context.reset_stats()
    ran = shell(line)
    assert ran.error is not None and "cannot be negative" in str(ran.error) and "\n" not in str(ran.error)
    assert sbx_context.stats()["total"] == 0 and ledger.entries() == []


def test_teardown_never_stops_what_this_kernel_only_updated(shell: Shell, sbx_context: Any) -> None:
    from bentocloud_jupyter.core.api.session import teardown
    from bentocloud_jupyter.core.guardrails.leaving import leaving_message

    api.deploy("summarizer:v3", name="r2-prod")
    ledger.forget_name("sbx", "r2-prod", None)  # it ran before this kernel (production)
    assert shell("%bentocloud update r2-prod --scaling-max 2").error is None
    assert "r2-prod" in shell("%bentocloud session").text and leaving_message() == ""
    sbx_context.reset_stats()
    done = teardown(yes=True)
    assert [s.outcome for s in done.steps] == ["only updated here"] and "Nothing to tear down" in repr(done)
    assert [r for r in sbx_context.stats()["by_route"] if not r.startswith("GET")] == []
    assert shell("%bentocloud update r2-prod --ttl 1h").error is None  # a TTL given here: it is to stop
    assert "r2-prod" in leaving_message() and [s.action for s in teardown().steps] == ["terminate"]


def test_a_codespace_torn_down_stops_syncing(shell: Shell, sbx_context: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from bentocloud_jupyter.core.codespaces import handle

    view = api.deploy("summarizer:v3", name="r2-code")
    cluster = view.deployment.cluster  # type: ignore[union-attr]
    ledger.forget_name("sbx", "r2-code", None)
    ledger.record("sbx", "r2-code", cluster, kind="codespace")
    detached: list[str] = []
    fake = SimpleNamespace(state=SimpleNamespace(name="r2-code", cluster=cluster),
                           detach=lambda: detached.append("r2-code"))
    monkeypatch.setattr(handle, "attached", lambda: fake)
    assert "1 terminated" in shell("%bentocloud teardown --yes").text
    assert detached == ["r2-code"]


def test_an_answer_about_another_deployment_is_never_recorded_nor_timed(sbx_context: Any) -> None:
    from bentocloud_jupyter.core.errors import ProtocolError

    client = session.client_for()[0]
    other = Deployment(name="prod-api", status="deploying", cluster="c")

    async def main() -> None:
        with pytest.raises(ProtocolError, match="'prod-api', not 'r2-asked'"):
            api.deploy("summarizer:v3", name="r2-asked", ttl="1h")
        assert ledger.entries() == [] and ttl.timers() == []

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(client, "create_deployment", lambda body, cluster: other)
        run_loop(main)
    api.deploy("summarizer:v3", name="r2-asked")
    ledger.forget_name("sbx", "r2-asked", None)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(session.client_for()[0], "update_deployment", lambda name, body, cluster: other)
        with pytest.raises(ProtocolError, match="not 'r2-asked'"):
            api.update("r2-asked", scaling_max=2, ttl="1h")
    assert ledger.entries() == []


@pytest.mark.parametrize("line", ["%deploy summarizer:v3 -n r2-lab --label bentocloud-jupyter/expires-at=2099",
                                  "%bentocloud update r2-lab --label bentocloud-jupyter/session=abc",
                                  "%bentocloud apply summarizer:v3 -n r2-lab --label bentocloud-jupyter/created-by=x"])
def test_a_label_of_ours_is_refused_before_anything_is_sent(shell: Shell, sbx_context: Any, line: str) -> None:
    sbx_context.reset_stats()
    ran = shell(line)
    assert ran.error is not None and "--ttl" in str(ran.error) and "nothing was sent" in str(ran.error)
    assert sbx_context.stats()["total"] == 0


def test_our_labels_pass_the_label_rules_a_server_applies() -> None:
    from bentocloud_jupyter.core.deployments.options import parse_labels

    mine = ledger.labels_for(time.time() + 7 * 86400)
    assert parse_labels([f"{item['key']}={item['value']}" for item in mine]) == mine


def test_the_card_says_when_it_expires_and_nothing_once_stopped_before() -> None:
    from bentocloud_jupyter.core.guardrails.ledger import EXPIRES_KEY
    from bentocloud_jupyter.core.guardrails.ttl import ttl_note

    labels = {EXPIRES_KEY: "20300101T000000Z"}
    assert ttl_note("d", "running", labels, now=1.0e9).startswith("TTL: expires at 2030-01-01")
    assert ttl_note("d", "terminated", labels, now=1.0e9) == ""
