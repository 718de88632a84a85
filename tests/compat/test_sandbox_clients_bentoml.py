"""bentoml's own endpoint clients and deployment SDK/CLI against sandbox deployments (the judges of fidelity).

Run in the compat venv: ``.venv-compat/bin/python -m pytest tests/compat/test_sandbox_clients_bentoml.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import make_sandbox_fixture

os.environ["BENTOML_DO_NOT_TRACK"] = "True"
os.environ.pop("BENTO_CLOUD_API_KEY", None)

bentoml = pytest.importorskip("bentoml")

from bentoml._internal.cloud import BentoCloudClient  # noqa: E402
from bentoml._internal.cloud.deployment import DeploymentConfigParameters  # noqa: E402
from bentoml.exceptions import BentoMLException  # noqa: E402

from bentocloud_jupyter.sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.compat
ROOT = Path(__file__).resolve().parents[2]
READY = ("running", "scaled-to-zero")

sandbox = make_sandbox_fixture(scope="function")


@pytest.fixture
def cloud(sandbox: Sandbox) -> BentoCloudClient:
    return BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)


def running(cloud: BentoCloudClient, name: str, **options: Any) -> Any:
    dep = bentoml.deployment.create(name=name, _cloud_client=cloud, **options)
    assert dep.wait_until_ready(timeout=10, check_interval=0.02) == 0  # type: ignore[arg-type]
    return bentoml.deployment.get(name, _cloud_client=cloud)


def test_sync_and_async_http_clients(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    url = running(cloud, "iris", bento="iris_classifier:v1", access_authorization=True).get_endpoint_urls()[0]
    rows = [[5.1, 3.5, 1.4, 0.2], [6.4, 3.2, 4.5, 1.5], [6.3, 3.3, 6.0, 2.5]]
    with bentoml.SyncHTTPClient(url, token=sandbox.token) as client:
        assert client.classify(input_data=rows) == [0, 1, 2]
        assert client.is_ready()

    async def call() -> Any:
        async with bentoml.AsyncHTTPClient(url, token=sandbox.token) as client:
            return await client.classify(input_data=rows[:1])

    assert asyncio.run(call()) == [0]
    with pytest.raises(BentoMLException, match="schema"):
        bentoml.SyncHTTPClient(url, server_ready_timeout=2)  # protected: no token, no schema


def test_deployment_get_client_and_async_client(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    dep = running(cloud, "sum", bento="summarizer:v3")
    text = "The sandbox emulates BentoCloud. It runs locally."
    assert dep.get_client().summarize(text=text) == {"summary": "The sandbox emulates BentoCloud."}

    async def call() -> Any:
        async with dep.get_async_client() as client:  # bentoml sets it up on entering
            return await client.summarize(text=text)

    assert asyncio.run(call()) == {"summary": "The sandbox emulates BentoCloud."}
    private = running(cloud, "chat", bento="llm-chat:v1", secrets=["openai"], access_authorization=True)
    reply = private.get_client(token=sandbox.token).chat(prompt="Hello?")
    assert "Hello?" in reply["reply"]


def _cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True")
    return subprocess.run([sys.executable, "-m", "bentoml", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


OVERRIDES = {"name": "ovr", "bento": "summarizer:v3", "services": {"Summarizer": {
    "instance_type": "cpu.2", "extras": {"bento_request_overrides": {
        "imageBuilderExtraPodSpec": {"nodeSelector": {"pool": "build"}}}}}}}


def test_create_with_request_overrides_then_list_and_get(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    made = bentoml.deployment.create(config_dict=json.loads(json.dumps(OVERRIDES)), _cloud_client=cloud)
    config = made.get_config(refetch=False)
    assert config is not None and config.services["Summarizer"].extras is not None
    assert [d.name for d in bentoml.deployment.list(_cloud_client=cloud)] == ["ovr"]
    assert bentoml.deployment.get("ovr", _cloud_client=cloud).get_bento(refetch=False) == "summarizer:v3"
    listed = _cli(sandbox, "deployment", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    assert [r["name"] for r in json.loads(listed.stdout)] == ["ovr"]
    got = _cli(sandbox, "deployment", "get", "ovr", "-o", "json")
    assert got.returncode == 0, got.stderr
    overrides = json.loads(got.stdout)["config"]["services"]["Summarizer"]["extras"]["bento_request_overrides"]
    assert overrides == {"imageBuilderExtraPodSpec": {"nodeSelector": {"pool": "build"}}}


def test_dashboard_links_answer_a_page(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    first = bentoml.deployment.create(name="east", bento="summarizer:v1", _cloud_client=cloud)
    west = bentoml.deployment.create(name="west", bento="summarizer:v1", cluster="aws-us-west-2",
                                     _cloud_client=cloud)
    assert first.admin_console == f"{sandbox.url}/deployments/east"
    assert west.admin_console == f"{sandbox.url}/deployments/west?cluster=aws-us-west-2&namespace=yatai"
    for dep in (first, west):
        page = httpx.get(dep.admin_console)
        assert page.status_code == 200 and f"Deployment {dep.name}" in page.text


def _status(cloud: BentoCloudClient, name: str, wanted: set[str]) -> str:
    deadline = time.monotonic() + 10
    while True:
        status = str(bentoml.deployment.get(name, _cloud_client=cloud).get_status().status)
        if status in wanted:
            return status
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.02)


def test_start_as_bentoml_means_it(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    """``bentoml.deployment.start`` forgets to verify its parameters; with verify() it is an update that
    brings the terminated deployment back through the lifecycle."""
    running(cloud, "back", bento="summarizer:v2", scaling_max=2)
    bentoml.deployment.terminate("back", _cloud_client=cloud)
    assert _status(cloud, "back", {"terminated"}) == "terminated"
    params = DeploymentConfigParameters(name="back", cluster="gcp-us-central-1")
    params.verify(create=False, _client=cloud.client)
    cloud.deployment.update(deployment_config_params=params)
    assert _status(cloud, "back", set(READY)) == "running"
    seen = [s for s, _ in sandbox.history("back")]
    assert seen[-4:] == ["deploying", "image-building", "deploying", "running"] and "terminated" in seen
    config = bentoml.deployment.get("back", _cloud_client=cloud).get_config()
    assert config is not None and config.services["Summarizer"].scaling.max_replicas == 2
