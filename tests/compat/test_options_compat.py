"""Our create/update bodies equal the ones bentoml's own CLI code sends, key for key and in order.

bentoml's `deploy` / `deployment update` functions run for real against an `httpx.MockTransport`
that plays BentoCloud (bento lookup, secret lookup, deployment GET/POST/PUT) and records what was
sent; nothing leaves the process.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
import pytest

from bentocloud_jupyter.core.deployments.options import DeployOptions, build_create_request, build_update_request
from bentocloud_jupyter.core.errors import InvalidInputError

USER = {"name": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Doe"}
STAMP = {"created_at": "2024-05-01T10:00:00Z", "updated_at": None, "deleted_at": None, "labels": []}


def _bento(name: str, version: str, entry: str, envs: list[dict[str, str]]) -> dict[str, Any]:
    manifest = {"service": f"service:{entry}", "bentoml_version": "1.4.40", "size_bytes": 1, "entry_service": entry,
                "name": name, "version": version, "envs": envs, "spec": 2}
    return {"uid": "b-1", **STAMP, "name": version, "resource_type": "bento", "description": "", "version": version,
            "image_build_status": "success", "upload_status": "success", "upload_finished_reason": "",
            "presigned_upload_url": "", "presigned_download_url": "", "manifest": manifest,
            "repository": {"uid": "br-1", **STAMP, "name": name, "resource_type": "bento_repository",
                           "description": "", "latest_bento": None}}


def _target(name: str, config: dict[str, Any], bento: dict[str, Any]) -> dict[str, Any]:
    return {"uid": f"t-{name}", **STAMP, "name": name, "resource_type": "deployment_target", "creator": None,
            "config": config, "bento": bento}


def _deployment(name: str, targets: list[dict[str, Any]], routing: dict[str, Any] | None = None) -> dict[str, Any]:
    cluster = {"uid": "c-1", **STAMP, "name": "gcp-us-central-1", "resource_type": "cluster", "description": "",
               "organization_name": "acme", "creator": USER, "is_first": True}
    revision = {"uid": "r-1", **STAMP, "name": "r-1", "resource_type": "deployment_revision", "creator": USER,
                "status": "active", "targets": targets}
    return {"uid": "d-1", **STAMP, "name": name, "resource_type": "deployment", "status": "running",
            "kube_namespace": "yatai", "creator": USER, "cluster": cluster, "latest_revision": revision,
            "manifest": {"dev": False, "routing": routing}, "urls": ["https://dep.example.com"]}


class FakeCloud:
    """Just enough BentoCloud for bentoml's deploy/update code; records every write."""

    def __init__(self, bentos: list[dict[str, Any]], secrets: dict[str, list[str]] | None = None,
                 current: dict[str, Any] | None = None) -> None:
        self.bentos = {f"{b['repository']['name']}:{b['version']}": b for b in bentos}
        self.secrets = secrets or {}
        self.current = current
        self.sent: list[tuple[str, dict[str, str], Any]] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        parts = request.url.path.strip("/").split("/")
        if request.method == "GET" and parts[:3] == ["api", "v1", "bento_repositories"] and len(parts) == 6:
            bento = self.bentos.get(f"{parts[3]}:{parts[5]}")
            return httpx.Response(200, json=bento) if bento else httpx.Response(404, json={"error": "no"})
        if request.method == "GET" and parts[:3] == ["api", "v1", "org_secrets"]:
            content = {"type": "env", "items": [{"key": k} for k in self.secrets[parts[3]]]}
            return httpx.Response(200, json={"uid": "s", **STAMP, "name": parts[3], "resource_type": "secret",
                                             "description": "", "creator": USER, "content": content,
                                             "cluster": self.current_or_new()["cluster"]})
        if parts[:3] == ["api", "v2", "deployments"] and request.method in ("POST", "PUT"):
            self.sent.append((request.method, dict(request.url.params), json.loads(request.content)))
            return httpx.Response(200, json=self.current_or_new())
        if request.method == "GET" and parts[:3] == ["api", "v2", "deployments"] and self.current:
            return httpx.Response(200, json=self.current)
        return httpx.Response(404, json={"error": f"unexpected {request.method} {request.url.path}"})

    def current_or_new(self) -> dict[str, Any]:
        return self.current or _deployment("dep", [])

    def client(self) -> Any:
        from bentoml._internal.cloud import BentoCloudClient

        cloud = BentoCloudClient(api_key="test-token", endpoint="http://127.0.0.1:9")
        session = httpx.Client(base_url="http://127.0.0.1:9", transport=httpx.MockTransport(self.handle))
        rest = cloud.client
        rest.session = rest.v1.session = rest.v2.session = session
        return cloud


SVC = _bento("svc", "v1", "Svc", [])
ENVY = _bento("envy", "v2", "Envy", [
    {"name": "NEEDED", "value": "", "stage": "all"}, {"name": "DEFAULTED", "value": "d", "stage": "runtime"},
    {"name": "BUILD_ONLY", "value": "", "stage": "build"}, {"name": "BUILD_DEF", "value": "b", "stage": "build"},
    {"name": "OVERRIDDEN", "value": "m", "stage": "all"}])

FLAGS = {"bento": None, "name": None, "cluster": None, "access_authorization": None, "scaling_min": None,
         "scaling_max": None, "instance_type": None, "strategy": None, "label": (), "env": (), "secret": (),
         "config_file": None, "config_dict": None}


def _theirs_create(cloud: FakeCloud, **flags: Any) -> tuple[dict[str, Any], str]:
    from bentoml_cli.deployment import create_deployment

    create_deployment(**{**FLAGS, **flags}, wait=False, _cloud_client=cloud.client())
    [(method, params, body)] = cloud.sent
    assert method == "POST"
    return body, params["cluster"]


def _ours_create(record: dict[str, Any], secrets: dict[str, list[str]], **flags: Any) -> tuple[dict[str, Any], str]:
    renamed = {"label": "labels", "env": "envs", "secret": "secrets"}
    options = DeployOptions(**{renamed.get(k, k): v for k, v in flags.items()})
    keys = [k for name in options.secrets for k in secrets.get(name, [])]
    manifest = record["manifest"]
    body, cluster = build_create_request(options, manifest["entry_service"], manifest["envs"], keys)
    return body, cluster or ""


CREATE_CASES = {
    "reference example": (SVC, {}, dict(bento="svc:v1", name="dep", cluster="gcp-us-central-1",
                                        access_authorization=True, scaling_min=0, scaling_max=3,
                                        instance_type="gpu.t4.1", strategy="Recreate", env=("A=1",),
                                        label=("team=ml",))),
    "bento only": (SVC, {}, dict(bento="svc:v1")),
    "min only": (SVC, {}, dict(bento="svc:v1", scaling_min=2)),
    "max only": (SVC, {}, dict(bento="svc:v1", scaling_max=4, access_authorization=False)),
    "instance and strategy": (SVC, {}, dict(bento="svc:v1", instance_type="cpu.2", strategy="RampedSlowRollout")),
    "manifest envs": (ENVY, {"keys": ["NEEDED"]}, dict(bento="envy:v2", env=("FROM_ENV", "OVERRIDDEN=flag"),
                                                       secret=("keys", "other"))),
    "required env by flag": (ENVY, {}, dict(bento="envy:v2", env=("NEEDED=1",), label=("a=b", "c=")))
}


@pytest.mark.parametrize("case", list(CREATE_CASES))
def test_create_from_flags_matches_bentoml(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    bento, secrets, flags = CREATE_CASES[case]
    monkeypatch.setenv("FROM_ENV", "local value")
    theirs = _theirs_create(FakeCloud([bento], secrets={**secrets, "other": []}), **flags)
    ours = _ours_create(bento, secrets, **flags)
    assert json.dumps(ours) == json.dumps(theirs)


CONFIG = {
    "name": "cfg-dep", "bento": "svc:v1", "cluster": "aws-eu", "access_authorization": True,
    "envs": [{"name": "LOG_LEVEL", "value": "debug"}], "secrets": ["openai"],
    "services": {"Svc": {"instance_type": "cpu.2",
                         "scaling": {"min_replicas": 2, "policy": {"scale_up_behavior": "fast"}},
                         "deployment_strategy": "Recreate", "config_overrides": {"traffic": {"timeout": 30}},
                         "extras": {"bento_request_overrides": {"imageBuildTimeout": 600}}, "cold_start_timeout": 90},
                 "Other": {"scaling": {"max_replicas": 2}}},
    "canary": {"route_type": "header", "route_by": "x-canary",
               "versions": {"b": {"bento": "svc:v0", "weight": 10, "services": {"Svc": {}}}}},
}


@pytest.mark.parametrize("as_file", [False, True])
def test_create_from_config_matches_bentoml(as_file: bool, tmp_path: Any) -> None:
    cloud = FakeCloud([SVC], secrets={"openai": ["OPENAI_API_KEY"]})
    if as_file:
        import yaml

        path = tmp_path / "deploy.yaml"
        path.write_text(yaml.safe_dump(CONFIG, sort_keys=False))
        theirs = _theirs_create(cloud, config_file=str(path))
        ours = _ours_create(SVC, {}, config_file=str(path))
    else:
        theirs = _theirs_create(cloud, config_dict=json.dumps(CONFIG))
        ours = _ours_create(SVC, {}, config_dict=copy.deepcopy(CONFIG))
    assert json.dumps(ours) == json.dumps(theirs)
    assert ours[1] == "aws-eu"


def test_create_config_without_services_matches_bentoml() -> None:
    theirs = _theirs_create(FakeCloud([SVC]), config_dict=json.dumps({"bento": "svc:v1"}))
    assert json.dumps(_ours_create(SVC, {}, config_dict={"bento": "svc:v1"})) == json.dumps(theirs)
    assert theirs[0]["services"] == {}


@pytest.mark.parametrize("flags", [dict(scaling_min=3, scaling_max=1), dict(env=("X=1",))])
def test_both_refuse_the_same_bad_creates(flags: dict[str, Any]) -> None:
    from bentoml.exceptions import BentoMLException

    with pytest.raises(BentoMLException):
        _theirs_create(FakeCloud([ENVY]), bento="envy:v2", **flags)
    with pytest.raises(InvalidInputError):
        _ours_create(ENVY, {}, bento="envy:v2", **flags)


MAIN_CONFIG = {"access_authorization": False, "envs": [], "labels": [{"key": "old", "value": "x"}], "secrets": [],
               "services": {"Svc": {"instance_type": "cpu.1", "scaling": {"min_replicas": 1, "max_replicas": 1}}},
               "canary": None}
CANARY_CONFIG = {"envs": [{"name": "C", "value": "1"}], "secrets": ["s"],
                 "services": {"Svc": {"instance_type": "cpu.2", "scaling": {"max_replicas": 2}}}}
SVC0 = _bento("svc", "v0", "Svc", [])
SINGLE = _deployment("dep", [_target("main", MAIN_CONFIG, SVC)])
CANARIED = _deployment("dep", [_target("main", MAIN_CONFIG, SVC), _target("blue", CANARY_CONFIG, SVC0)],
                       routing={"route_type": "random", "route_by": None, "weights": {"main": 90, "blue": 10}})
UPDATE_CASES = {
    "reference example": (SINGLE, dict(scaling_max=5, env=("B=2",))),
    "new bento, strategy, labels": (SINGLE, dict(bento="svc:v0", strategy="Recreate", label=("team=ml",),
                                                  access_authorization=True, secret=("s",))),
    "min above current max": (SINGLE, dict(scaling_min=0, instance_type="gpu.t4.1")),
    "config dict": (SINGLE, dict(config_dict=json.dumps({"name": "dep", "envs": [{"name": "Z", "value": "z"}],
                                                         "services": {"Svc": {"scaling": {"max_replicas": 4},
                                                                              "config_overrides": {"a": 1}},
                                                                      "New": {}}}))),
    "canary targets": (CANARIED, dict(scaling_max=3)),
}


@pytest.mark.parametrize("case", list(UPDATE_CASES))
def test_update_matches_bentoml(case: str) -> None:
    from bentoml_cli.deployment import update

    current, flags = UPDATE_CASES[case]
    cloud = FakeCloud([SVC, SVC0], current=copy.deepcopy(current))
    args = {**FLAGS, **flags, "name": "dep"}
    update.callback(**args, _cloud_client=cloud.client())  # type: ignore[misc]
    [(method, params, theirs)] = cloud.sent
    assert method == "PUT"

    renamed = {"label": "labels", "env": "envs", "secret": "secrets"}
    options = DeployOptions(**{renamed.get(k, k): v for k, v in args.items()})
    ours, cluster = build_update_request(copy.deepcopy(current), options, "Svc")
    assert json.dumps(ours) == json.dumps(theirs)
    assert cluster == params["cluster"] == "gcp-us-central-1"


# ---------------------------------------------------------------- deliberate divergences, pinned


def test_divergence_false_string_is_false_for_us_true_for_bentoml() -> None:
    config = {"bento": "svc:v1", "access_authorization": "false"}
    theirs = _theirs_create(FakeCloud([SVC]), config_dict=json.dumps(config))
    ours = _ours_create(SVC, {}, config_dict=config)
    assert theirs[0]["access_authorization"] is True
    assert ours[0]["access_authorization"] is False


def test_divergence_required_envs_from_a_config_source_count_for_us() -> None:
    from bentoml.exceptions import BentoMLException

    config = {"bento": "envy:v2", "envs": [{"name": "NEEDED", "value": "1"}]}
    with pytest.raises(BentoMLException, match="NEEDED"):
        _theirs_create(FakeCloud([ENVY]), config_dict=json.dumps(config))
    assert _ours_create(ENVY, {}, config_dict=config)[0]["envs"] == [{"name": "NEEDED", "value": "1"}]


def test_divergence_flags_next_to_a_config_source() -> None:
    config = {"bento": "svc:v1"}
    theirs = _theirs_create(FakeCloud([SVC]), config_dict=json.dumps(config), scaling_max=3)
    assert theirs[0]["services"] == {}  # bentoml dropped --scaling-max without a word
    with pytest.raises(InvalidInputError, match="--scaling-max is ignored"):
        _ours_create(SVC, {}, config_dict=config, scaling_max=3)


def test_divergence_unknown_config_keys() -> None:
    config = {"bento": "svc:v1", "services": {"Svc": {"scalling": {"max_replicas": 3}}}}
    theirs = _theirs_create(FakeCloud([SVC]), config_dict=json.dumps(config))
    assert theirs[0]["services"]["Svc"]["scaling"] == {"min_replicas": 1, "max_replicas": 1, "policy": None}
    with pytest.raises(InvalidInputError, match="did you mean 'scaling'"):
        _ours_create(SVC, {}, config_dict=config)
