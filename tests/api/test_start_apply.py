"""start (a terminated deployment back to running, followed live) and apply (create or replace, with a plan)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support import raw_client

from bentocloud_jupyter.core.api.applying import apply
from bentocloud_jupyter.core.api.deployments import deploy, start, terminate
from bentocloud_jupyter.core.deployments.watch import Goal
from bentocloud_jupyter.core.errors import InvalidInputError, NotFoundError
from bentocloud_jupyter.core.results import ChangePlan, DeploymentView, DryRun


def _writes(sandbox: Any) -> int:
    return sum(n for route, n in sandbox.stats()["by_route"].items() if route.startswith(("POST", "PUT")))


def _config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "deployment.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_start_restarts_a_terminated_deployment_and_follows_it_to_running(sbx_context: Any) -> None:
    deploy("summarizer:v3", name="to-start", scaling_max=2, wait=True)
    stopped = terminate("to-start", wait=True).deployment
    view = start("to-start")
    assert view.follow is not None and view.follow.goal is Goal.READY
    assert view.follow.previous_revision == stopped.revision == view.previous_revision
    assert view.deployment.revision != stopped.revision
    running = start_then_wait("to-start")
    assert running.status == "running" and running.scaling_max == 2  # the same configuration, started again


def start_then_wait(name: str) -> Any:
    from support import wait_status

    return wait_status(name, {"running"})


def test_start_with_wait_blocks_until_running(sbx_context: Any) -> None:
    deploy("summarizer:v3", name="start-wait", wait=True)
    terminate("start-wait", wait=True)
    view = start("start-wait", wait=True)
    assert view.follow is None and view.deployment.status == "running"


def test_start_refuses_a_deployment_that_is_not_terminated(sbx_context: Any) -> None:
    deploy("summarizer:v3", name="still-up", wait=True)
    before = _writes(sbx_context)
    with pytest.raises(InvalidInputError, match="is running, not terminated") as caught:
        start("still-up")
    assert caught.value.hint is not None and caught.value.hint.verb == "status"
    assert _writes(sbx_context) == before
    with pytest.raises(NotFoundError):
        start("no-such-deployment")


def test_apply_creates_when_absent_then_replaces_with_a_plan(sbx_context: Any, tmp_path: Path) -> None:
    path = _config(tmp_path, "name: applied\nbento: summarizer:v3\nservices:\n  Summarizer:\n"
                             "    instance_type: cpu.2\n    scaling: {min_replicas: 1, max_replicas: 2}\n")
    created = apply(config_file=path, wait=True)
    assert isinstance(created, DeploymentView) and created.deployment.name == "applied"
    path = _config(tmp_path, "name: applied\nbento: summarizer:v3\nservices:\n  Summarizer:\n"
                             "    instance_type: cpu.2\n    scaling: {min_replicas: 1, max_replicas: 4}\n")
    replaced = apply(config_file=path)
    assert isinstance(replaced, DeploymentView) and replaced.follow is not None
    assert replaced.follow.goal is Goal.READY and replaced.follow.previous_revision == created.deployment.revision
    assert replaced.changes is not None
    assert ("services.Summarizer.scaling.max_replicas", "2", "4") in replaced.changes.changes
    assert "max_replicas" in repr(replaced) and "max_replicas" in replaced._repr_html_()


def test_apply_again_unchanged_sends_nothing(sbx_context: Any) -> None:
    config = {"name": "same-again", "bento": "summarizer:v3", "envs": [{"name": "LOG_LEVEL", "value": "info"}]}
    apply(config_dict=config, wait=True)
    before = _writes(sbx_context)
    again = apply(config_dict=config)
    assert isinstance(again, DeploymentView) and again.follow is None and "No changes" in again.note
    assert _writes(sbx_context) == before


def test_apply_keeps_the_cluster_of_the_existing_deployment_when_the_file_omits_it(sbx_context: Any) -> None:
    clusters = [c["name"] for c in raw_client(sbx_context).get("/api/v1/clusters").json()["items"]]
    other = next((c for c in clusters if c != clusters[0]), None)
    if other is None:
        pytest.skip("the sandbox has one cluster")
    deploy("summarizer:v3", name="elsewhere", cluster=other, wait=True)
    plan = apply(config_dict={"name": "elsewhere", "bento": "summarizer:v3", "access_authorization": True},
                 dry_run=True)
    assert isinstance(plan, ChangePlan) and plan.cluster == other
    assert ("access_authorization", "false", "true") in plan.changes


def test_apply_refuses_moving_a_deployment_to_another_cluster(sbx_context: Any) -> None:
    from bentocloud_jupyter.core.deployments.options import DeployOptions, build_replace_request

    current = deploy("summarizer:v3", name="stay-here", wait=True).deployment
    options = DeployOptions(config_dict={"bento": "summarizer:v3", "cluster": current.cluster + "-x"})
    with pytest.raises(InvalidInputError, match="cannot move"):
        build_replace_request(dict(current.raw), options, "Summarizer")
    with pytest.raises(NotFoundError):  # apply looks the deployment up in the cluster it is given
        apply(config_dict={"name": "stay-here", "bento": "summarizer:v3", "cluster": "no-such-cluster"})


def test_apply_takes_the_name_from_the_command_line_when_the_file_omits_it(sbx_context: Any, tmp_path: Path) -> None:
    path = _config(tmp_path, "bento: summarizer:v3\n")
    apply(name="named-by-flag", config_file=path, wait=True)
    plan = apply(name="named-by-flag", config_file=_config(tmp_path, "bento: summarizer:v2\n"), dry_run=True)
    assert isinstance(plan, ChangePlan) and plan.whole and plan.name == "named-by-flag"
    assert ("bento", "summarizer:v3", "summarizer:v2") in plan.changes
    text = repr(plan)
    assert "dry run, nothing sent" in text and "services.Summarizer.instance_type" in text  # whole plan


def test_apply_dry_run_of_a_new_deployment_is_its_request(sbx_context: Any) -> None:
    before = _writes(sbx_context)
    shown = apply(config_dict=json.dumps({"name": "not-yet", "bento": "summarizer:v3"}), dry_run=True)
    assert isinstance(shown, DryRun) and shown.body["name"] == "not-yet"
    assert _writes(sbx_context) == before


def test_apply_replaces_rather_than_merges(sbx_context: Any) -> None:
    apply(config_dict={"name": "replace-me", "bento": "summarizer:v3",
                       "envs": [{"name": "LOG_LEVEL", "value": "debug"}, {"name": "EXTRA", "value": "1"}]}, wait=True)
    plan = apply(config_dict={"name": "replace-me", "bento": "summarizer:v3",
                              "envs": [{"name": "LOG_LEVEL", "value": "debug"}]}, dry_run=True)
    assert isinstance(plan, ChangePlan)
    assert plan.changes == (("envs.EXTRA", "1", None),)


def test_apply_bad_input_is_one_line_and_nothing_sent(sbx_context: Any, tmp_path: Path) -> None:
    before = _writes(sbx_context)
    with pytest.raises(InvalidInputError, match="not KEY=VALUE"):
        apply(config_dict={"name": "bad", "bento": "summarizer:v3"}, args=["novalue"])
    with pytest.raises(InvalidInputError, match="does not exist"):
        apply(config_dict={"name": "bad", "bento": "summarizer:v3"}, arg_file=str(tmp_path / "missing.yaml"))
    with pytest.raises(InvalidInputError, match="Which bento"):
        apply(name="absent-and-no-bento", config_dict={"access_authorization": True})
    assert _writes(sbx_context) == before


def test_bento_args_reach_the_build_of_a_project_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import io

    import yaml

    from bentocloud_jupyter.core.api import bento_args_build

    project = tmp_path / "proj"
    project.mkdir()
    (project / "service.py").write_text("# a project\n", encoding="utf-8")
    seen: dict[str, Any] = {}

    class FakeBuild:
        def __init__(self, command: list[str], **kwargs: Any) -> None:
            seen["argv"] = command
            seen["args"] = yaml.safe_load(Path(command[command.index("--arg-file") + 1]).read_text("utf-8"))
            self.stdout = io.StringIO('Successfully built Bento(tag="proj:abc123").\n')
            self.returncode = 0

        def wait(self) -> int:
            return 0

    monkeypatch.setattr(bento_args_build.subprocess, "Popen", FakeBuild)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object())
    assert bento_args_build.prebuild(str(project), {"model": "large", "n": 3}) == "proj:abc123"
    assert seen["argv"][2:5] == ["bentoml", "build", str(project)] and seen["args"] == {"model": "large", "n": 3}
    assert not Path(seen["argv"][-1]).exists()  # the private arguments file is gone
    assert bento_args_build.prebuild("summarizer:v3", {"model": "large"}) == "summarizer:v3"
    assert "built already" in bento_args_build.unused_args_note("summarizer:v3", {"model": "large"})
    assert bento_args_build.unused_args_note(str(project), {"model": "large"}) == ""
