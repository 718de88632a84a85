"""Every subcommand and option of %bentocloud and %deploy, through IPython's InteractiveShell."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
import yaml
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from magics_helpers import Cell

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.sandbox import Sandbox


def test_help(cell: Cell) -> None:
    for line in ("%bentocloud", "%bentocloud help", "%bentocloud --help"):
        run = cell(line)
        assert run.error is None and "deployments" in run.text and "sandbox" in run.text
    run = cell("%bentocloud deployments --help")
    assert "--search" in run.text and run.error is None
    assert "--scaling-max" in cell("%deploy --help").text


def test_login_with_token_on_the_line_warns(cell: Cell, sandbox: Sandbox) -> None:
    run = cell(f"%bentocloud login --endpoint {sandbox.url} --api-token {sandbox.token} --context sbx")
    assert run.error is None, run.stderr
    assert any("stored in this notebook" in w for w in run.warnings)
    assert "Sandbox User" in run.text and "'sbx'" in run.text and "sandbox" in run.text
    assert config.get_context("sbx").api_token == sandbox.token


def test_login_prompts_with_getpass(cell: Cell, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": sandbox.token)
    run = cell(f"%bentocloud login --endpoint {sandbox.url}")
    assert run.error is None and "saved as context 'default'" in run.text and "it is the current context" in run.text


def test_login_rejects_bad_token_and_saves_nothing(cell: Cell, sandbox: Sandbox,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": "not-a-valid-token-9999")
    run = cell(f"%bentocloud login --endpoint {sandbox.url}")
    assert isinstance(run.error, UsageError) and "rejected" in run.stderr
    assert not config.credentials_path().exists()


def test_login_browser_flow(cell: Cell, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    import httpx

    from bentocloud_jupyter.core.credentials import auth

    real_wait = auth.BrowserLogin.wait

    def approve_then_wait(self: auth.BrowserLogin, *args: Any, **kwargs: Any) -> Any:
        page = httpx.get(self.url)
        action = re.search(r'action="([^"]+)"', page.text)
        assert action is not None
        httpx.post(sandbox.url + action.group(1).replace("&amp;", "&"))
        return real_wait(self, timeout=5, poll_interval=0.05)

    monkeypatch.setattr(auth.BrowserLogin, "wait", approve_then_wait)
    run = cell(f"%bentocloud login --browser --endpoint {sandbox.url} --context browser")
    assert run.error is None, run.stderr
    assert "/api_tokens?code=" in run.stdout and "'browser'" in run.text


def test_contexts_use_logout_whoami(logged_in: Cell, sandbox: Sandbox) -> None:
    cell = logged_in
    config.save_context(config.Context("other", "https://cloud.example", "other-token-abcdef"))
    run = cell("%bentocloud contexts")
    assert "sbx" in run.text and "other" in run.text and "****cdef" in run.text
    assert "<table" in run.html
    assert "now" not in cell("%bentocloud use other").text
    assert config.load_config().current_context_name == "other"
    cell("%bentocloud use sbx")
    who = cell("%bentocloud whoami")
    assert "Sandbox User" in who.text and "the current context" in who.text and sandbox.url in who.text
    gone = cell("%bentocloud logout other")
    assert "Removed context 'other'" in gone.text and config.load_config().names == ["sbx"]


def test_env_override_banner(logged_in: Cell, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", sandbox.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", sandbox.url)
    run = logged_in("%bentocloud contexts")
    assert "BENTO_CLOUD_API_KEY is set" in run.text
    assert "overrides the context 'sbx'" in logged_in("%bentocloud whoami --context sbx").text


def test_deploy_wait_get_update_terminate_delete(logged_in: Cell) -> None:
    cell = logged_in
    run = cell("%deploy summarizer:v3 -n magic-one --scaling-min 1 --scaling-max 3 --instance-type cpu.2 "
               "--env LOG_LEVEL=debug --label team=ml --strategy Recreate --wait --timeout 30")
    assert run.error is None, run.stderr
    assert "magic-one" in run.text and "running" in run.text and "1..3 replicas" in run.text
    assert "<a href=" in run.html
    got = json.loads(cell("%bentocloud get magic-one -o json").text)
    assert got["bento"] == "summarizer:v3" and got["instance_type"] == "cpu.2" and got["labels"] == {"team": "ml"}
    assert yaml.safe_load(cell("%bentocloud get magic-one -o yaml").text)["name"] == "magic-one"
    old_revision = got["revision"]
    updated = cell("%bentocloud update magic-one --scaling-max 5 --bento summarizer:v2 --wait --timeout 30")
    assert updated.error is None, updated.stderr
    assert "summarizer:v2" in updated.text and f"was {old_revision}" in updated.text
    after = json.loads(cell("%bentocloud get magic-one -o json").text)
    assert after["revision"] != old_revision and after["scaling"]["max_replicas"] == 5
    assert "terminated" in cell("%bentocloud terminate magic-one --wait --timeout 30").text
    assert "Deleted" in cell("%bentocloud delete magic-one --yes").text


def test_deployments_listing_formats(logged_in: Cell) -> None:
    cell = logged_in
    cell("%deploy summarizer -n list-a --label team=a --scaling-max 2 --wait")
    cell("%deploy iris_classifier:v1 -n list-b --label team=b --wait")
    table = cell("%bentocloud deployments")
    assert "list-a" in table.text and "list-b" in table.text and "status" in table.text
    items = json.loads(cell("%bentocloud deployments -o json").text)
    names = {item["name"] for item in items}
    assert {"list-a", "list-b"} <= names
    assert {"name", "cluster", "status", "bento", "urls", "created_at"} <= set(items[0])
    assert [i["name"] for i in json.loads(cell("%bentocloud deployments --label team=b -o json").text)] == ["list-b"]
    assert [i["name"] for i in json.loads(cell("%bentocloud deployments --search list-a -o json").text)] == ["list-a"]
    assert json.loads(cell("%bentocloud deployments --cluster aws-us-west-2 -o json").text) == []
    assert "list-a" in {i["name"] for i in yaml.safe_load(cell("%bentocloud deployments --all -o yaml").text)}


def test_instance_types_and_clusters(logged_in: Cell) -> None:
    assert "gpu.t4.1" in logged_in("%bentocloud instance-types").text
    assert "cpu.1" in logged_in("%bentocloud instance-types --cluster gcp-us-central-1").text
    clusters = logged_in("%bentocloud clusters")
    assert "gcp-us-central-1" in clusters.text and "aws-us-west-2" in clusters.html


def test_deploy_dry_run_shows_body_without_token(logged_in: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_SECRET_VALUE", "hunter2-value")
    run = logged_in("%deploy llm-chat --dry-run -n dry --env OPENAI_API_KEY=sk-abc --env MY_SECRET_VALUE "
                    "--cluster aws-us-west-2")
    assert run.error is None, run.stderr
    assert "'LLMChat'" in run.text and "POST /api/v2/deployments?cluster=aws-us-west-2" in run.text
    assert "sk-abc" not in run.text and "hunter2" not in run.text and '"value": "***"' in run.text
    assert "dry" not in {d["name"] for d in json.loads(logged_in("%bentocloud deployments -o json").text)}


def test_deploy_required_envs_checked_before_sending(logged_in: Cell, sandbox: Sandbox) -> None:
    sandbox.reset_stats()
    run = logged_in("%deploy llm-chat:v1 -n needs-env")
    assert isinstance(run.error, UsageError) and "OPENAI_API_KEY" in run.stderr
    assert "POST /api/v2/deployments" not in sandbox.stats()["by_route"]
    ok = logged_in("%deploy llm-chat:v1 -n has-secret --secret openai --wait")
    assert ok.error is None, ok.stderr


def test_deploy_config_file_and_dict(logged_in: Cell, tmp_path: Any) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text("name: from-file\nbento: summarizer:v1\nservices:\n  Summarizer:\n"
                    "    scaling: {min_replicas: 1, max_replicas: 2}\n")
    assert logged_in(f"%deploy -f {path} --wait").error is None
    assert json.loads(logged_in("%bentocloud get from-file -o json").text)["bento"] == "summarizer:v1"
    payload = json.dumps({"name": "from-dict", "bento": "iris_classifier:v1"})
    run = logged_in(f"%deploy --config-dict '{payload}' --wait")
    assert run.error is None, run.stderr
    mixed = logged_in(f"%deploy -f {path} --scaling-max 3")
    assert isinstance(mixed.error, UsageError) and "put it in the file" in mixed.stderr


def test_deploy_a_folder_that_is_not_a_project(logged_in: Cell, tmp_path: Any) -> None:
    run = logged_in(f"%deploy {tmp_path}")
    assert isinstance(run.error, UsageError) and "not a bento project folder" in run.stderr


def test_deploy_without_wait_returns_at_once_with_a_status(logged_in: Cell) -> None:
    started = time.monotonic()
    run = logged_in("%deploy summarizer -n no-wait")
    assert run.error is None and time.monotonic() - started < 5
    assert "no-wait" in run.text and "no event loop" in run.text  # plain IPython: one snapshot


def test_live_status_updates_in_place_on_a_running_loop(logged_in: Cell, shell: InteractiveShell) -> None:
    from IPython.core.displaypub import CapturingDisplayPublisher

    publisher = CapturingDisplayPublisher()
    updates: list[dict[str, Any]] = []
    original = publisher.publish

    def publish(data: dict[str, Any], metadata: Any = None, **kwargs: Any) -> None:
        updates.append({"data": data, **kwargs})
        original(data, metadata, **kwargs)

    publisher.publish = publish  # type: ignore[method-assign]

    async def scenario() -> None:
        shell.display_pub = publisher
        shell.run_line_magic("deploy", "summarizer -n live-one")
        for _ in range(300):
            await asyncio.sleep(0.02)
            if updates and "running" in str(updates[-1]["data"].get("text/plain")):
                break
        from bentocloud_jupyter.ipython import present as live
        assert live.watched() == []

    asyncio.run(scenario())
    display_id = updates[0]["transient"]["display_id"]
    assert any(u.get("update") and u["transient"]["display_id"] == display_id for u in updates), \
        "the display was never updated in place"
    final = updates[-1]["data"]
    assert "running" in final["text/plain"] and "<a href=" in final["text/html"]


def test_status_wait_and_unwatch(logged_in: Cell) -> None:
    logged_in("%deploy summarizer -n stat-one")
    run = logged_in("%bentocloud status stat-one --wait --timeout 30")
    assert "running" in run.text
    assert "Nothing was being watched" in logged_in("%bentocloud unwatch --all").text


def test_delete_asks_for_confirmation(logged_in: Cell, monkeypatch: pytest.MonkeyPatch) -> None:
    logged_in("%deploy summarizer -n ask-me")
    monkeypatch.setattr("builtins.input", lambda prompt="": "n")
    assert "Not deleted" in logged_in("%bentocloud delete ask-me").text
    monkeypatch.setattr("builtins.input", lambda prompt="": "yes")
    assert "Deleted" in logged_in("%bentocloud delete ask-me").text


def test_sandbox_subcommand_switches_and_restores(cell: Cell) -> None:
    config.save_context(config.Context("prod", "https://cloud.example", "prod-token-123456"))
    config.set_current_context("prod")
    run = cell("%bentocloud sandbox --speed 50")
    assert run.error is None, run.stderr
    assert config.load_config().current_context_name == "sandbox"
    from bentocloud_jupyter.core.api.sandbox import running_sandbox
    sb = running_sandbox()
    assert sb is not None
    from magics_helpers import SECRETS
    SECRETS.add(sb.token)
    assert "Sandbox User" in cell("%bentocloud whoami").text
    assert "already running" in cell("%bentocloud sandbox").text
    stopped = cell("%bentocloud sandbox --stop")
    assert "'prod' again" in stopped.text
    cfg = config.load_config()
    assert cfg.current_context_name == "prod" and cfg.names == ["prod"]


def test_config_traits(shell: InteractiveShell, cell: Cell) -> None:
    from bentocloud_jupyter.core.rest import session
    cell("%config BentoCloudMagics.poll_interval = 2")
    cell("%config BentoCloudMagics.timeout = 7")
    assert session.settings.poll_interval == 2 and session.settings.timeout == 7
    cell("%config BentoCloudMagics.timeout = 60")


def test_load_twice_registers_once_and_unload_removes(shell: InteractiveShell) -> None:
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    shell.run_line_magic("reload_ext", "bentocloud_jupyter")
    assert "bentocloud" in shell.magics_manager.magics["line"]
    shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    assert "bentocloud" not in shell.magics_manager.magics["line"]
    assert "deploy" not in shell.magics_manager.magics["line"]
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    assert "deploy" in shell.magics_manager.magics["line"]
