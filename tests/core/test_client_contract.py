"""Every client method against a live sandbox over loopback: real HTTP, real JSON."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from support import body, wait_settled

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ValidationError,
)
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.sandbox import Sandbox


def test_identity(client: BentoCloudClient) -> None:
    user = client.current_user()
    assert (user.name, user.email, user.display_name) == ("sandbox-user", "you@sandbox.local", "Sandbox User")
    assert client.current_organization().name == "sandbox"


def test_catalog(client: BentoCloudClient) -> None:
    assert [c.name for c in client.list_clusters()] == ["gcp-us-central-1", "aws-us-west-2"]
    assert client.get_cluster("aws-us-west-2").is_first is False
    types = {t.name: t for t in client.list_instance_types()}
    assert {"cpu.1", "cpu.2", "gpu.t4.1"} <= set(types) and types["cpu.2"].cpu
    latest = client.get_bento("summarizer")
    assert latest.tag == "summarizer:v3" and latest.entry_service == "Summarizer"
    assert client.get_bento("summarizer", "v1").version == "v1"
    assert client.get_bento("llm-chat", "v1").required_envs == ["OPENAI_API_KEY"]
    assert "iris_classifier:v1" in [b.tag for b in client.list_bentos()]
    assert client.get_model("iris_clf").tag == "iris_clf:v1"
    assert {m.tag for m in client.list_models()} >= {"iris_clf:v1", "summarizer-model:v1"}
    secrets = client.list_secrets()
    assert [s.name for s in secrets.items] == ["openai"] and secrets.items[0].env_keys == ("OPENAI_API_KEY",)
    assert client.get_secret("openai").keys == ("OPENAI_API_KEY",)
    tokens = client.list_api_tokens()
    assert tokens.items and "token" not in tokens.items[0].raw


def test_not_found_everywhere(client: BentoCloudClient) -> None:
    for call in (lambda: client.get_deployment("nope"), lambda: client.get_bento("nope"),
                 lambda: client.get_bento("summarizer", "v99"), lambda: client.get_model("nope", "v1"),
                 lambda: client.terminate_deployment("nope"), lambda: client.delete_deployment("nope"),
                 lambda: client.get_secret("nope"), lambda: client.get_cluster("nope")):
        with pytest.raises(NotFoundError) as info:
            call()
        assert info.value.status == 404 and "not found" in str(info.value)


def test_full_lifecycle(client: BentoCloudClient) -> None:
    created = client.create_deployment(body(name="life"))
    assert created.name == "life" and created.status in ("deploying", "image-building")
    assert created.bento == "summarizer:v3" and created.instance_type == "cpu.2" and created.labels == {"team": "ml"}
    running = wait_settled(client, "life")
    assert running.status == "running" and running.url and running.url.startswith(client.endpoint)
    assert httpx.get(running.url + "/readyz").status_code == 200

    updated = client.update_deployment("life", body("summarizer:v2", scaling_max=5), running.cluster)
    assert updated.revision != running.revision and not updated.is_ready
    after = wait_settled(client, "life")
    assert (after.status, after.bento, after.scaling_max, after.revision) == ("running", "summarizer:v2", 5,
                                                                               updated.revision)
    rerolled = client.void_update_deployment("life")
    assert rerolled.revision != after.revision

    terminating = client.terminate_deployment("life")
    assert terminating.status == "terminating"
    assert wait_settled(client, "life").status == "terminated"
    deleted = client.delete_deployment("life")
    assert deleted.name == "life"
    with pytest.raises(NotFoundError):
        client.get_deployment("life")


def test_server_chosen_name_and_failures(client: BentoCloudClient) -> None:
    anonymous = client.create_deployment(body())
    assert re.fullmatch(r"summarizer-[0-9a-f]{6}", anonymous.name)
    failing = client.create_deployment(body("fail-demo:v1", "fails", service="FailDemo"))
    assert wait_settled(client, failing.name).status == "image-build-failed"
    assert wait_settled(client, failing.name).is_failed


def test_validation_errors(client: BentoCloudClient) -> None:
    client.create_deployment(body(name="dup"))
    with pytest.raises(ConflictError) as conflict:
        client.create_deployment(body(name="dup"))
    assert conflict.value.status == 409
    with pytest.raises(NotFoundError) as unknown:
        client.create_deployment(body("no-such-bento:v1", "x1"))
    assert "no-such-bento" in str(unknown.value)
    with pytest.raises(ValidationError) as bad_type:
        client.create_deployment(body(name="x2", instance_type="cpu.999"))
    assert "cpu.999" in str(bad_type.value)
    with pytest.raises(ValidationError) as missing_env:
        client.create_deployment(body("llm-chat:v1", "x3", service="LLMChat"))
    assert "OPENAI_API_KEY" in str(missing_env.value)
    ok = client.create_deployment(body("llm-chat:v1", "x4", service="LLMChat",
                                       envs=[{"name": "OPENAI_API_KEY", "value": "sk-test"}]))
    assert ok.name == "x4"


def test_pagination_over_250_deployments(sandbox: Sandbox) -> None:
    with Sandbox(speed=50) as own, BentoCloudClient(own.url, own.token) as client:
        for i in range(250):
            client.create_deployment(body(name=f"page-{i:03d}"))
        pages = []
        start = 0
        while True:
            page = client.list_deployments_page(start=start, count=100)
            pages.append(len(page.items))
            start += len(page.items)
            if start >= page.total:
                break
        assert pages == [100, 100, 50]
        names = [d.name for d in client.iter_deployments(page_size=64)]
        assert sorted(names) == [f"page-{i:03d}" for i in range(250)]
        assert len(client.list_deployments(search="page-00")) == 10
        assert own.stats()["connections"] == 1


def test_list_filters(client: BentoCloudClient) -> None:
    client.create_deployment(body(name="filter-me"))
    assert [d.name for d in client.list_deployments(search="filter-m")] == ["filter-me"]
    assert "filter-me" in [d.name for d in client.list_deployments(q="label:team=ml")]
    assert client.list_deployments(q="label:team=nobody") == []
    assert client.list_deployments(cluster="aws-us-west-2") == []


def test_one_connection_for_many_calls(live: Sandbox) -> None:
    live.reset_stats()
    with BentoCloudClient(live.url, live.token) as client:
        for _ in range(20):
            client.current_user()
    assert live.stats()["connections"] == 1


def test_async_client_against_the_sandbox(live: Sandbox) -> None:
    async def scenario() -> tuple[str, list[str], str]:
        async with AsyncBentoCloudClient(live.url, live.token) as client:
            user = await client.current_user()
            await client.create_deployment(body(name="async-one"))
            names = [d.name async for d in client.iter_deployments(page_size=2)]
            deployment = await client.get_deployment("async-one")
            return user.name, names, deployment.bento
    user, names, bento = asyncio.run(scenario())
    assert user == "sandbox-user" and "async-one" in names and bento == "summarizer:v3"


def test_expired_token(live: Sandbox) -> None:
    with BentoCloudClient(live.url, "a-token-that-will-expire-1") as client, pytest.raises(AuthenticationError):
        client.current_user()  # unknown token
    live.faults.expire_tokens = True
    with BentoCloudClient(live.url, live.token, context_name="sbx") as client, \
            pytest.raises(AuthenticationError) as info:
        client.current_user()
    message = str(info.value)
    assert "rejected" in message and "%bentocloud login" in message and "'sbx'" in message
    assert live.token not in message and live.token not in repr(info.value)


def test_browser_code_flow_approved_through_the_page(live: Sandbox) -> None:
    flow = auth.start_browser_login(live.url)
    assert flow.url.startswith(live.url + "/api_tokens?code=")
    page = httpx.get(flow.url)
    assert page.status_code == 200 and "Approve" in page.text
    action = re.search(r'action="([^"]+)"', page.text)
    assert action is not None
    assert httpx.post(live.url + action.group(1).replace("&amp;", "&")).status_code == 200
    token = flow.wait(timeout=5, poll_interval=0.05)
    result = auth.login(live.url, token, "from-browser")
    assert result.user.name == "sandbox-user" and config.get_context("from-browser").api_token == token


def test_browser_code_flow_times_out(live: Sandbox) -> None:
    flow = auth.start_browser_login(live.url)
    with pytest.raises(TimeoutError):
        flow.wait(timeout=0.2, poll_interval=0.05)
