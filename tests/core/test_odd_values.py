"""Finding 10 of issue 16: odd values from a server never crash formatting.

Dates out of range once in UTC (year 1 or 9999 with an offset), sizes as strings, manifest ``envs``
that are not objects, lists where objects belong: each becomes None/empty with the record still
usable (``bentos``, ``models``, ``-o json``/``-o yaml``, ``deploy``), or one ProtocolError line when
the record is useless (no usable name or status). The verbs run against a hostile BentoCloud played by
``httpx.MockTransport`` (``session.settings.transport``), so nothing leaves the process.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import yaml

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.display import format_duration, format_time, link
from bentocloud_jupyter.core.errors import InvalidInputError, ProtocolError
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.core.rest.models import Bento, Deployment, Model, Secret, parse_time
from bentocloud_jupyter.core.results import DeploymentsView, DeploymentView, html_of
from bentocloud_jupyter.core.tokens import Token

ENDPOINT = "https://cloud.example"
TOKEN = "odd-values-token-0123456789"
YEAR_ONE = "0001-01-01T00:00:00+05:00"
YEAR_9999 = "9999-12-31T23:59:59-05:00"

ODD_DEPLOYMENT: dict[str, Any] = {
    "name": "odd", "status": "running", "cluster": {"name": 5}, "urls": "http://[::1",
    "created_at": YEAR_ONE, "updated_at": YEAR_9999, "labels": "not-a-list", "creator": ["nobody"],
    "latest_revision": {"name": ["r"], "targets": ["junk", None, {
        "name": "main", "bento": {"repository": {"name": "s"}, "version": 7},
        "config": {"access_authorization": "false", "services": {"Svc": {
            "instance_type": {"cpu": 1}, "scaling": {"min_replicas": "2", "max_replicas": 10**30}}}}}]},
}
ODD_ENVS: list[Any] = ["FOO", 5, None, [], {"value": "no name"}, {"name": {"x": 1}}, {"name": "NEED"},
                       {"name": "HAS", "value": 1}, {"name": "BUILD_ONLY", "stage": "build"}]
ODD_BENTO: dict[str, Any] = {
    "name": "v1", "created_at": YEAR_9999, "upload_status": ["done"], "image_build_status": 3,
    "manifest": {"size_bytes": "12345", "entry_service": "Svc", "envs": ODD_ENVS, "models": ["m:1", 2, {"tag": "m:2"}]},
}
ODD_MODEL: dict[str, Any] = {"name": "m1", "created_at": YEAR_ONE, "repository": {"name": "m"},
                             "manifest": {"size_bytes": "a lot", "module": {"x": 1}}, "labels": {"k": "v"}}


# ------------------------------------------------------------------------------------------ the values


@pytest.mark.parametrize("value", [YEAR_ONE, YEAR_9999, "0001-01-01T00:00:00+23:59", "9999-12-31T23:00:00-01:00",
                                   "garbage", "2024-13-45T99:99:99Z", "", 12345, 1e300, True, {"a": 1}, ["2024"],
                                   "2" * 10_000, "NaN", None])
def test_odd_dates_become_none(value: Any) -> None:
    assert parse_time(value) is None


def test_dates_are_kept_in_utc() -> None:
    assert parse_time("2024-05-01T12:00:00.123456789+02:00") == datetime(2024, 5, 1, 10, 0, 0, 123456,
                                                                         tzinfo=timezone.utc)
    assert parse_time("0001-01-01T00:00:00Z") == datetime(1, 1, 1, tzinfo=timezone.utc)


@pytest.mark.parametrize(("value", "shown"), [
    (datetime(1, 1, 1, tzinfo=timezone.utc), "0001-01-01 00:00:00"),
    (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=5))), ""),
    (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-5))), ""),
    (None, ""), ("2024-01-01", ""),
])
def test_format_time_never_raises(value: Any, shown: str) -> None:
    assert format_time(value) == shown


@pytest.mark.parametrize("seconds", [float("nan"), float("inf"), -float("inf"), 1e300])
def test_format_duration_never_raises(seconds: float) -> None:
    assert isinstance(format_duration(seconds), str)


def test_a_broken_url_is_shown_as_text() -> None:
    assert link("http://[::1") == "http://[::1"


@pytest.mark.parametrize(("size", "kept"), [
    ("12345", 12345), (" 7 ", 7), (2048, 2048), (2048.0, 2048), ("a lot", None), ("-5", None), (-5, None),
    (10**30, None), ("9" * 400, None), (1.5, None), (True, None), ({"b": 1}, None), ([1], None), (None, None),
])
def test_sizes_are_whole_numbers_or_none(size: Any, kept: int | None) -> None:
    assert Bento.from_api({"name": "v", "manifest": {"size_bytes": size}}).size_bytes == kept
    assert Model.from_api({"name": "v", "manifest": {"size_bytes": size}}).size_bytes == kept


@pytest.mark.parametrize("envs", ["FOO", 5, {"name": "X"}, True, ODD_ENVS])
def test_manifest_envs_that_are_not_objects_are_skipped(envs: Any) -> None:
    bento = Bento.from_api({"name": "v1", "manifest": {"envs": envs}})
    assert all(isinstance(env, dict) and isinstance(env["name"], str) for env in bento.envs)
    assert bento.required_envs == (["NEED"] if envs is ODD_ENVS else [])


def test_the_odd_deployment_stays_usable() -> None:
    d = Deployment.from_api(ODD_DEPLOYMENT)
    assert (d.name, d.status, d.cluster, d.bento, d.revision) == ("odd", "running", "5", "s:7", "")
    assert (d.scaling_min, d.scaling_max, d.instance_type, d.urls) == (2, None, None, ())
    assert d.access_authorization is False and d.labels == {} and d.creator == ""
    assert d.created_at is None and d.updated_at is None
    for text in (repr(DeploymentView(d)), html_of(DeploymentView(d)), repr(DeploymentsView([d])),
                 html_of(DeploymentsView([d]))):
        assert "cannot display" not in text and "odd" in text


def test_control_characters_never_reach_a_display() -> None:
    bento = Bento.from_api({"name": "v1", "description": "\x1b[31mred\x1b[0m\x00", "upload_status": "ok\x07"})
    assert (bento.description, bento.upload_status) == ("[31mred[0m", "ok")
    secret = Secret.from_api({"name": "s", "content": {"items": ["K", {"key": 3}, {"key": {"x": 1}}, {}]}})
    assert secret.keys == ("3",)


@pytest.mark.parametrize("raw", [
    {"name": {"x": 1}, "status": "running"}, {"name": "ok", "status": ["running"]}, {"name": "", "status": "x"},
    {"name": "a\x1b[2Jb", "status": "running"}, {"name": "x" * 5000, "status": "running"}, ["not", "an object"],
    {"status": "running"}, "text",
])
def test_a_useless_deployment_is_one_protocol_error(raw: Any) -> None:
    answer = httpx.Response(200, json=raw)
    with BentoCloudClient(ENDPOINT, TOKEN, transport=httpx.MockTransport(lambda _: answer),
                          retry=RetryPolicy(max_attempts=1)) as client, pytest.raises(ProtocolError) as info:
        client.get_deployment("x")
    assert "\n" not in str(info.value) and TOKEN not in str(info.value)


# ------------------------------------------------------------------------------- the verbs, end to end


Routes = dict[tuple[str, str], Any]


@pytest.fixture()
def hostile() -> Iterator[Routes]:
    """A context whose BentoCloud answers from ``routes`` ((method, path) -> JSON); 404 for the rest."""
    routes: Routes = {}

    def answer(request: httpx.Request) -> httpx.Response:
        key = (request.method, request.url.path)
        if key not in routes:
            return httpx.Response(404, json={"error": "record not found"})
        payload = routes[key]
        return payload(request) if callable(payload) else httpx.Response(200, json=payload)

    config.save_context(config.Context("hostile", ENDPOINT, Token(TOKEN), None))
    config.set_current_context("hostile")
    session.close_all()
    session.settings.transport = httpx.MockTransport(answer)
    session.settings.retry = RetryPolicy(max_attempts=1)
    yield routes
    session.settings.transport = None
    session.settings.retry = None
    session.close_all()


def page(*items: Any) -> dict[str, Any]:
    return {"items": list(items), "start": 0, "count": len(items), "total": len(items)}


def shows(view: Any) -> str:
    text, html = repr(view), html_of(view)
    assert "cannot display" not in text + html
    return text


def test_bentos_and_models_tables(hostile: Routes) -> None:
    hostile["GET", "/api/v1/bentos"] = page(dict(ODD_BENTO, repository={"name": "s"}),
                                            {"name": "v0", "repository": {"name": "s"}, "created_at": YEAR_ONE})
    hostile["GET", "/api/v1/models"] = page(ODD_MODEL, dict(ODD_MODEL, name="m2", created_at=YEAR_9999))
    bentos = shows(api.bentos())
    assert "s:v1" in bentos and "12.1 KiB" in bentos
    assert "m:m1" in shows(api.models())


@pytest.mark.parametrize("output", ["json", "yaml"])
def test_deployments_as_json_and_yaml(hostile: Routes, output: str) -> None:
    hostile["GET", "/api/v2/deployments"] = page(ODD_DEPLOYMENT, dict(ODD_DEPLOYMENT, name="odd2"))
    hostile["GET", "/api/v2/deployments/odd"] = ODD_DEPLOYMENT
    load: Callable[[str], Any] = json.loads if output == "json" else yaml.safe_load
    listed = load(api.list_deployments(output=output).text)
    assert [d["name"] for d in listed] == ["odd", "odd2"] and listed[0]["created_at"] == ""
    one = load(api.get("odd", output=output).text)
    assert one["scaling"] == {"min_replicas": 2, "max_replicas": None} and one["urls"] == []
    shows(api.list_deployments())
    shows(api.get("odd"))


def test_deploy_with_odd_manifest_envs(hostile: Routes) -> None:
    hostile["GET", "/api/v1/bento_repositories/s/bentos/v1"] = ODD_BENTO
    with pytest.raises(InvalidInputError, match="NEED"):
        api.deploy("s:v1", name="odd")
    dry = api.deploy("s:v1", name="odd", envs=["NEED=x"], dry_run=True)
    envs = {env["name"] for env in dry.body["envs"]}  # type: ignore[union-attr]
    assert envs == {"NEED", "HAS"}
    hostile["POST", "/api/v2/deployments"] = ODD_DEPLOYMENT
    assert "odd" in shows(api.deploy("s:v1", name="odd", envs=["NEED=x"]))


@pytest.mark.parametrize("envs", ["FOO", 5, {"name": "X"}, None])
def test_deploy_when_envs_is_no_list(hostile: Routes, envs: Any) -> None:
    hostile["GET", "/api/v1/bento_repositories/s/bentos/v1"] = dict(ODD_BENTO, manifest={"entry_service": "S",
                                                                                        "envs": envs})
    dry = api.deploy("s:v1", name="odd", dry_run=True)
    assert "services key: 'S'" in shows(dry)
