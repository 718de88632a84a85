"""The ledger (``%bentocloud session``), our labels, and ``teardown`` against the sandbox."""

from __future__ import annotations

from typing import Any

from conftest import Shell
from support import wait_status

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.guardrails import ledger
from bentocloud_jupyter.core.rest import session


def changed(sandbox: Any) -> list[str]:
    """The routes that change something (not GET) the sandbox answered since its stats were reset."""
    return [route for route in sandbox.stats()["by_route"] if not route.startswith("GET")]


def test_deploy_is_labelled_recorded_and_listed_by_session(shell: Shell, sbx_context: Any) -> None:
    assert shell("%deploy summarizer:v3 -n led-one --label team=ml").error is None
    labels = session.client_for()[0].get_deployment("led-one").labels
    assert labels["team"] == "ml"
    assert labels[ledger.CREATED_BY_KEY] == ledger.CREATED_BY and labels[ledger.SESSION_KEY] == ledger.SESSION_ID
    assert [e.name for e in ledger.entries("sbx")] == ["led-one"]
    wait_status("led-one", {"running"})
    ran = shell("%bentocloud session")
    assert ran.error is None
    assert "led-one" in ran.text and "running" in ran.text and "created" in ran.text
    assert "led-one" in ran.html


def test_update_with_a_label_keeps_ours(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n led-upd")
    assert shell("%bentocloud update led-upd --label owner=me").error is None
    labels = session.client_for()[0].get_deployment("led-upd").labels
    assert labels["owner"] == "me" and labels[ledger.CREATED_BY_KEY] == ledger.CREATED_BY
    assert ledger.entries("sbx")[-1].action == "updated"


def test_session_all_finds_what_an_earlier_kernel_left(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n led-old")
    ledger.forget("sbx", "led-old", ledger.entries("sbx")[0].cluster)  # as if this were a new kernel
    assert "started nothing" in shell("%bentocloud session").text
    sbx_context.reset_stats()
    ran = shell("%bentocloud session --all")
    assert "led-old" in ran.text and "this kernel" in ran.text
    lists = [r for r in sbx_context.stats()["by_route"] if "/deployments" in r]
    assert lists and all(r.startswith("GET") for r in lists)


def test_teardown_with_nothing_is_one_line_and_sends_nothing(shell: Shell, sbx_context: Any) -> None:
    sbx_context.reset_stats()
    ran = shell("%bentocloud teardown --yes")
    assert ran.error is None and len(ran.text.splitlines()) == 1 and "Nothing to tear down" in ran.text
    assert changed(sbx_context) == []


def test_teardown_plan_then_yes_terminates_all(shell: Shell, sbx_context: Any) -> None:
    for name in ("led-t1", "led-t2"):
        shell(f"%deploy summarizer:v3 -n {name}")
    sbx_context.reset_stats()
    plan = api.teardown()
    assert [s.action for s in plan.steps] == ["terminate", "terminate"] and "--yes" in repr(plan)
    assert changed(sbx_context) == []
    ran = shell("%bentocloud teardown --yes")
    assert ran.error is None and "2 terminated" in ran.text
    for name in ("led-t1", "led-t2"):
        wait_status(name, {"terminated"})
    assert ledger.left_running() == []
    assert "Nothing to tear down" in shell("%bentocloud teardown --yes").text


def test_teardown_delete_forgets(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n led-del")
    assert "1 deleted" in shell("%bentocloud teardown --delete --yes").text
    assert ledger.entries("sbx") == []


def test_teardown_without_yes_asks_and_no_sends_nothing(shell: Shell, sbx_context: Any,
                                                         monkeypatch: Any) -> None:
    shell("%deploy summarizer:v3 -n led-ask")
    monkeypatch.setattr("builtins.input", lambda question: "n")
    sbx_context.reset_stats()
    ran = shell("%bentocloud teardown")
    assert "Nothing sent" in ran.text and any("led-ask" in shown for shown in ran.displayed)
    assert changed(sbx_context) == []


def test_codespaces_in_the_ledger_are_listed_and_torn_down_alike(shell: Shell, sbx_context: Any) -> None:
    view = api.deploy("summarizer:v3", name="led-code")
    cluster = view.deployment.cluster  # type: ignore[union-attr]
    ledger.forget("sbx", "led-code", cluster)
    ledger.record("sbx", "led-code", cluster, kind="codespace")
    ran = shell("%bentocloud session")
    assert "led-code" in ran.text and "codespace" in ran.text
    plan = api.teardown()
    assert [(s.name, s.kind, s.action) for s in plan.steps] == [("led-code", "codespace", "terminate")]
    assert "1 terminated" in repr(api.teardown(yes=True))


def test_a_deployment_deleted_elsewhere_is_gone_and_forgotten(shell: Shell, sbx_context: Any) -> None:
    shell("%deploy summarizer:v3 -n led-gone")
    session.client_for()[0].delete_deployment("led-gone", None)
    assert "gone" in shell("%bentocloud session").text
    assert "Nothing to tear down" in repr(api.teardown(yes=True))
    assert ledger.entries("sbx") == []
