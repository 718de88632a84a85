"""bentoml's own client, SDK and CLI (the judges of fidelity) against the sandbox.

Run in the compat venv: ``/work/venv-compat/bin/python -m pytest tests/compat/test_sandbox_with_bentoml.py``.
bentoml resolves BENTOML_HOME once per process, so a throwaway home is set before it is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from support import make_sandbox_fixture

if "bentoml" not in sys.modules:  # the compat conftest may already have pinned a throwaway home
    os.environ["BENTOML_HOME"] = tempfile.mkdtemp(prefix="bentoml-home-compat-")
os.environ["BENTOML_DO_NOT_TRACK"] = "True"
os.environ.pop("BENTO_CLOUD_API_KEY", None)

bentoml = pytest.importorskip("bentoml")

from bentoml._internal.cloud import BentoCloudClient  # noqa: E402
from bentoml._internal.cloud.client import RestApiClient  # noqa: E402
from bentoml._internal.cloud.schemas.schemasv1 import (  # noqa: E402
    CreateSecretSchema,
    SecretContentSchema,
    SecretItem,
)
from bentoml._internal.cloud.schemas.schemasv2 import (  # noqa: E402
    CreateDeploymentSchema,
    UpdateDeploymentSchema,
)
from bentoml.exceptions import NotFound  # noqa: E402

from bentocloud_jupyter.sandbox import Sandbox  # noqa: E402

pytestmark = pytest.mark.compat
ROOT = Path(__file__).resolve().parents[2]


sandbox = make_sandbox_fixture(scope="function")  # (BENTOML_HOME per test: tests/conftest.py)


@pytest.fixture
def rest(sandbox: Sandbox) -> RestApiClient:
    return RestApiClient(endpoint=sandbox.url, api_token=sandbox.token)


@pytest.fixture
def cloud(sandbox: Sandbox) -> BentoCloudClient:
    return BentoCloudClient(api_key=sandbox.token, endpoint=sandbox.url)


def test_v1_reads(rest: RestApiClient) -> None:
    user = rest.v1.get_current_user()
    assert user is not None and user.email == "you@sandbox.local" and user.get_name() == "Sandbox User"
    org = rest.v1.get_current_organization()
    assert org is not None and org.name == "sandbox"
    clusters = rest.v1.get_cluster_list()
    assert clusters is not None and {c.name for c in clusters.items} == {"gcp-us-central-1", "aws-us-west-2"}
    full = rest.v1.get_cluster("gcp-us-central-1")
    assert full is not None and full.config.default_deployment_kube_namespace and full.resource_instances
    assert rest.v1.get_cluster("nowhere") is None
    types = rest.v2.list_instance_types()
    assert [t.name for t in types] == ["cpu.1", "cpu.2", "cpu.4", "gpu.t4.1", "gpu.l4.1"]
    assert types[3].config.gpu_config is not None


def test_bentos_and_models(rest: RestApiClient, cloud: BentoCloudClient) -> None:
    bento = rest.v1.get_bento("summarizer", "v2")
    assert bento is not None and bento.manifest is not None and bento.manifest.entry_service == "Summarizer"
    assert bento.manifest.envs[0].name == "LOG_LEVEL"
    latest = rest.v1.list_bentos("summarizer", count=1)
    assert latest is not None and latest.items[0].version == "v3"
    assert rest.v1.get_bento("summarizer", "v99") is None
    repo = rest.v1.get_bento_repository("summarizer")
    assert repo is not None and repo.latest_bento is not None and repo.latest_bento.version == "v3"
    every = rest.v1.get_bentos_list()
    assert every is not None and len(every.items) == 6 and every.items[0].repository.name
    model = rest.v1.get_model("iris_clf", "v1")
    assert model is not None and model.manifest.module == "bentoml.sklearn"
    assert rest.v1.get_latest_model("summarizer-model") is not None
    mrepo = rest.v1.get_model_repository("iris_clf")
    assert mrepo is not None and mrepo.latest_model is not None
    models = rest.v1.get_models_list()
    assert models is not None and {m.repository.name for m in models.items} == {"iris_clf", "summarizer-model"}
    assert cloud.bento.get("summarizer", "v1").version == "v1"
    assert len(cloud.bento.list().items) == 6 and len(cloud.model.list().items) == 2
    assert cloud.model.get("iris_clf", "v1").manifest.module == "bentoml.sklearn"


def test_secrets_and_tokens(rest: RestApiClient, cloud: BentoCloudClient) -> None:
    secrets = rest.v1.list_secrets()
    assert [s.name for s in secrets.items] == ["openai"]
    created = rest.v1.create_secret(CreateSecretSchema(
        name="hf", content=SecretContentSchema(type="env", items=[SecretItem(key="HF_TOKEN", value="x")],
                                               stage="runtime")))
    assert created.name == "hf"
    assert rest.v1.get_secret("hf").content.items[0].key == "HF_TOKEN"
    rest.v1.delete_secret("hf")
    assert [s.name for s in cloud.secret.list()] == ["openai"]
    tokens = rest.v1.list_api_tokens()
    assert [t.name for t in tokens.items] == ["sandbox"] and tokens.items[0].token is None


def test_v2_deployment_cycle(sandbox: Sandbox, rest: RestApiClient) -> None:
    created = rest.v2.create_deployment(CreateDeploymentSchema(bento="summarizer:v1", name="sum"), cluster=None)
    assert created.name == "sum" and created.urls == [f"{sandbox.url}/_svc/sum"]
    assert created.latest_revision is not None
    target = created.latest_revision.targets[0]
    assert target is not None and target.bento is not None and target.bento.repository.name == "summarizer"
    got = rest.v2.get_deployment("sum", cluster=None)
    assert got.cluster.name == "gcp-us-central-1"
    listing = rest.v2.list_deployment(all=True)
    assert listing.total == 1 and listing.items[0].name == "sum"
    updated = rest.v2.update_deployment("sum", UpdateDeploymentSchema(bento="summarizer:v2"),
                                        cluster="gcp-us-central-1")
    assert updated.latest_revision is not None
    assert updated.latest_revision.uid != created.latest_revision.uid
    assert rest.v2.void_update_deployment("sum", None).name == "sum"
    assert rest.v2.terminate_deployment("sum").status == "terminating"
    assert rest.v2.delete_deployment("sum").name == "sum"
    with pytest.raises(NotFound):
        rest.v2.get_deployment("sum")
    with pytest.raises(NotFound):
        rest.v2.terminate_deployment("sum")


def _wait(dep: Any, timeout: float = 5.0) -> str:
    deadline = time.monotonic() + timeout
    while True:
        status = dep.get_status().status
        if status in ("running", "scaled-to-zero", "failed", "image-build-failed", "unhealthy", "terminated"):
            return str(status)
        assert time.monotonic() < deadline, f"still {status}"
        time.sleep(0.02)


def test_sdk_deployment_api(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    dep = bentoml.deployment.create(name="iris", bento="iris_classifier:v1", scaling_min=1, scaling_max=2,
                                    instance_type="cpu.2", _cloud_client=cloud)
    assert dep.get_bento(refetch=False) == "iris_classifier:v1"
    assert dep.wait_until_ready(timeout=10, check_interval=0.02) == 0  # type: ignore[arg-type]
    assert dep.get_endpoint_urls() == [f"{sandbox.url}/_svc/iris"]
    config = dep.get_config()
    assert config is not None and config.services["IrisClassifier"].instance_type == "cpu.2"
    updated = bentoml.deployment.update(name="iris", scaling_max=3, _cloud_client=cloud)
    new_config = updated.get_config(refetch=False)
    assert new_config is not None and new_config.services["IrisClassifier"].scaling.max_replicas == 3
    assert [d.name for d in bentoml.deployment.list(_cloud_client=cloud)] == ["iris"]
    assert bentoml.deployment.get("iris", _cloud_client=cloud).to_dict()["cluster"] == "gcp-us-central-1"
    chat = bentoml.deployment.create(name="chat", bento="llm-chat:v1", secrets=["openai"], _cloud_client=cloud)
    assert _wait(chat) == "running"
    with pytest.raises(Exception, match="OPENAI_API_KEY"):
        bentoml.deployment.create(name="chat2", bento="llm-chat:v1", _cloud_client=cloud)
    broken = bentoml.deployment.create(name="broken", bento="fail-demo:v1", _cloud_client=cloud)
    assert broken.wait_until_ready(timeout=10, check_interval=0.02) == 1  # type: ignore[arg-type]
    bentoml.deployment.terminate("iris", _cloud_client=cloud)
    assert _wait(bentoml.deployment.get("iris", _cloud_client=cloud)) == "terminated"
    bentoml.deployment.delete("iris", _cloud_client=cloud)
    assert {d.name for d in cloud.deployment.list()} == {"chat", "broken"}
    assert [t.name for t in cloud.deployment.list_instance_types()][:1] == ["cpu.1"]


def _cli(sandbox: Sandbox, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url,
               BENTOML_DO_NOT_TRACK="True")
    return subprocess.run([sys.executable, "-m", "bentoml", *args], env=env, capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_cli_list_and_get(sandbox: Sandbox, cloud: BentoCloudClient) -> None:
    bentoml.deployment.create(name="cli-demo", bento="summarizer", scaling_min=0, scaling_max=2,
                              _cloud_client=cloud)
    listed = _cli(sandbox, "deployment", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [r["name"] for r in rows] == ["cli-demo"] and rows[0]["bento"] == "summarizer:v3"
    got = _cli(sandbox, "deployment", "get", "cli-demo", "-o", "json")
    assert got.returncode == 0, got.stderr
    data = json.loads(got.stdout)
    assert data["created_by"] == "sandbox-user" and data["endpoint_urls"] == [f"{sandbox.url}/_svc/cli-demo"]
    assert data["config"]["services"]["Summarizer"]["scaling"]["min_replicas"] == 0
    missing = _cli(sandbox, "deployment", "get", "nope", "-o", "json")
    assert missing.returncode != 0


def test_cli_login_and_reads(sandbox: Sandbox) -> None:
    login = _cli(sandbox, "cloud", "login", "--endpoint", sandbox.url, "--api-token", sandbox.token)
    assert login.returncode == 0, login.stderr
    assert "you@sandbox.local" in login.stdout
    types = _cli(sandbox, "deployment", "list-instance-types", "-o", "json")
    assert types.returncode == 0, types.stderr
    assert json.loads(types.stdout)[0]["name"] == "cpu.1"
    secrets = _cli(sandbox, "secret", "list", "-o", "json")
    assert secrets.returncode == 0, secrets.stderr
    assert [s["name"] for s in json.loads(secrets.stdout)] == ["openai"]
