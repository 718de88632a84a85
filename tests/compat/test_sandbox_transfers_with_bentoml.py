"""bentoml's own push and pull (the judges of fidelity) against the sandbox, in all three transfer modes.

Run in the compat venv::

    BENTOCLOUD_JUPYTER_REQUIRE_COMPAT=1 /work/venv-compat/bin/python -m pytest \
        tests/compat/test_sandbox_transfers_with_bentoml.py

A tiny bento (a real ``bentoml build`` of a one-API service that uses a tiny model) is built once in the
session's throwaway BENTOML_HOME; each test pushes it with ``BENTO_CLOUD_API_KEY`` /
``BENTO_CLOUD_API_ENDPOINT`` pointing at a fresh sandbox, deletes the local copies and pulls them back.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import make_sandbox_fixture, tree

bentoml = pytest.importorskip("bentoml")

from bentoml._internal.cloud import BentoCloudClient  # noqa: E402
from bentoml._internal.cloud import bento as cloud_bento  # noqa: E402
from bentoml._internal.cloud import model as cloud_model  # noqa: E402
from bentoml._internal.cloud.client import RestApiClient  # noqa: E402
from bentoml._internal.configuration.containers import BentoMLContainer  # noqa: E402

from bentocloud_jupyter.sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.compat
MODES = ["proxy", "presigned", "multipart"]
SERVICE = '''import bentoml


@bentoml.service
class Tiny:
    model = bentoml.models.BentoModel("{model}")

    @bentoml.api
    def echo(self, text: str) -> str:
        return text
'''


def build(tmp: Path, name: str) -> tuple[Any, Any]:
    """A real model (random 200 KB weights) and a real bento that depends on it, in the local store."""
    with bentoml.models.create(f"{name.replace('-', '_')}_model") as model:
        Path(model.path, "weights.bin").write_bytes(os.urandom(200_000))
    ctx = tmp / f"ctx-{name}"
    ctx.mkdir()
    module = f"svc_{name.replace('-', '_')}"  # unique: the build imports it into this process
    (ctx / f"{module}.py").write_text(SERVICE.format(model=model.tag))
    (ctx / "README.md").write_text(f"# {name}\n\nA tiny bento pushed by the compat tests.\n")
    bento = bentoml.bentos.build(f"{module}:Tiny", name=name, build_ctx=str(ctx), labels={"suite": "compat"})
    return bento, model


fresh_sandbox = make_sandbox_fixture(scope="function")


@pytest.fixture
def sandbox(fresh_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    """A fresh sandbox, with the BENTO_CLOUD_* variables bentoml reads pointing at it."""
    monkeypatch.setenv("BENTO_CLOUD_API_KEY", fresh_sandbox.token)
    monkeypatch.setenv("BENTO_CLOUD_API_ENDPOINT", fresh_sandbox.url)
    return fresh_sandbox


def cloud_client() -> BentoCloudClient:
    """bentoml's client as it reads the BENTO_CLOUD_* variables (no cached singleton across tests)."""
    return BentoCloudClient(api_key=os.environ["BENTO_CLOUD_API_KEY"],
                            endpoint=os.environ["BENTO_CLOUD_API_ENDPOINT"])


def routes(sandbox: Sandbox) -> set[str]:
    return set(sandbox.stats()["by_route"])


@pytest.mark.parametrize("mode", MODES)
def test_push_and_pull_round_trip(mode: str, sandbox: Sandbox, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox.transfer_mode = mode
    if mode == "multipart":  # bentoml cuts 100 MiB parts; smaller ones prove several parts work
        monkeypatch.setattr(cloud_bento, "FILE_CHUNK_SIZE", 16 * 1024)
        monkeypatch.setattr(cloud_model, "FILE_CHUNK_SIZE", 48 * 1024)
    bento, model = build(tmp_path, f"tiny-{mode}")
    before_bento, before_model = tree(Path(bento.path), skip="models"), tree(Path(model.path))
    client = cloud_client()

    bentoml.bentos.push(bento.tag, _cloud_client=client)
    remote = client.bento.get(bento.tag.name, bento.tag.version)
    assert remote.upload_status == "success" and remote.manifest.entry_service == "Tiny"
    assert client.model.get(model.tag.name, model.tag.version).upload_status == "success"
    used = routes(sandbox)
    finish = "PATCH /api/v1/bento_repositories/{repo}/bentos/{version}/{action}"
    assert "PUT /_storage/{kind}/{repo}/{version}/{obj:path}" in used if mode != "proxy" else (
        "PUT /api/v1/bento_repositories/{repo}/bentos/{version}/upload" in used)
    assert finish in used
    if mode == "multipart":
        parts = sandbox.stats()["by_route"]["PUT /_storage/{kind}/{repo}/{version}/{obj:path}"]
        assert parts >= 4 + 5  # model: 200 KB / 48 KiB -> 5 parts; bento: > 4 parts of 16 KiB

    bentoml.bentos.delete(bento.tag)
    bentoml.models.delete(model.tag)
    bentoml.bentos.pull(bento.tag, _cloud_client=client)
    bentoml.models.pull(model.tag, _cloud_client=client)
    pulled = bentoml.bentos.get(bento.tag)
    assert tree(Path(pulled.path), skip="models") == before_bento
    assert tree(Path(bentoml.models.get(model.tag).path)) == before_model
    by_route = sandbox.stats()["by_route"]
    proxy_gets = sum(n for key, n in by_route.items() if key.endswith("/download"))
    storage_gets = by_route.get("GET /_storage/{kind}/{repo}/{version}/{obj:path}", 0)
    assert (proxy_gets, storage_gets) == ((2, 0) if mode == "proxy" else (0, 2))


def test_already_pushed_is_skipped(sandbox: Sandbox, tmp_path: Path) -> None:
    bento, _ = build(tmp_path, "tiny-again")
    client = cloud_client()
    bentoml.bentos.push(bento.tag, _cloud_client=client)
    sandbox.reset_stats()
    bentoml.bentos.push(bento.tag, _cloud_client=client)
    assert not any("upload" in key for key in sandbox.stats()["by_route"])


def test_cli_push_and_pull_in_multipart_mode(sandbox: Sandbox, tmp_path: Path) -> None:
    """``bentoml push`` / ``bentoml pull`` as subprocesses, configured only by the environment."""
    sandbox.transfer_mode = "multipart"
    bento, _ = build(tmp_path, "tiny-cli")
    before = tree(Path(bento.path), skip="models")
    env = dict(os.environ, BENTOML_HOME=str(BentoMLContainer.bentoml_home.get()), BENTOML_DO_NOT_TRACK="True")
    cli = [sys.executable, "-m", "bentoml"]
    pushed = subprocess.run([*cli, "push", str(bento.tag)], env=env, capture_output=True, text=True, timeout=120)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    bentoml.bentos.delete(bento.tag)
    pulled = subprocess.run([*cli, "pull", str(bento.tag)], env=env, capture_output=True, text=True, timeout=120)
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    assert tree(Path(bentoml.bentos.get(bento.tag).path), skip="models") == before
    by_route = sandbox.stats()["by_route"]
    assert by_route["PUT /_storage/{kind}/{repo}/{version}/{obj:path}"] >= 2  # model part + bento part
    assert by_route["GET /_storage/{kind}/{repo}/{version}/{obj:path}"] >= 1


def test_bentoml_websocket_client_reads_pods_and_build_logs() -> None:
    """bentoml's own websocket calls (image-builder lookup, log tail, deployment pods) against the sandbox."""
    with Sandbox(speed=5) as sb:  # a 0.4 s image build: long enough to find the builder pod
        rest = RestApiClient(endpoint=sb.url, api_token=sb.token)
        body = {"name": "ws-demo", "bento": "summarizer:v3", "access_authorization": False, "envs": None,
                "labels": None, "secrets": None, "services": {}, "canary": None, "dev": False}
        assert httpx.post(f"{sb.url}/api/v2/deployments", params={"cluster": ""}, json=body,
                          headers={"X-YATAI-API-TOKEN": sb.token}).status_code == 200
        deadline = time.monotonic() + 10
        while (pod := rest.v2.get_deployment_image_builder_pod("ws-demo")) is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        chunks = list(rest.v2.tail_logs(cluster_name="gcp-us-central-1", namespace="yatai", pod_name=pod.name,
                                        container_name="builder", stop_event=threading.Event()))
        log = "".join(base64.b64decode(chunk).decode() for chunk in chunks)
        assert "Step 1/12 : FROM python:3.11-slim" in log and "Successfully built" in log
        while rest.v2.get_deployment("ws-demo").status != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
        pods = rest.v2.list_deployment_pods("ws-demo")
        assert [(p.runner_name, p.status.phase, p.status.ready) for p in pods] == [("Summarizer", "Running", True)]
        assert pods[0].labels["yatai.ai/bento-function-component-type"] == "api-server"
