"""A two-service deployment (``Frontend``, the bento's entry service, calling ``Backend``) shown by its entry service.

The card, ``get -o json|yaml`` and the table show the entry service's instance type and scaling (not whichever
service comes first in the config); every service's instance type, scaling, strategy and envs are listed,
secrets by name, the other services compactly; odd server values never crash it, and everything is escaped.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.results import DeploymentsView, DeploymentView, deployment_summary, render_summaries


def _service(instance: str, low: int, high: int, strategy: str | None = None,
             envs: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"instance_type": instance, "scaling": {"min_replicas": low, "max_replicas": high, "policy": None},
            "envs": envs, "deployment_strategy": strategy, "extras": None, "cold_start_timeout": None,
            "config_overrides": {}}


def _raw(services: dict[str, Any], entry: str = "Frontend", **config: Any) -> dict[str, Any]:
    bento = {"name": "v1", "version": "v1", "repository": {"name": "shop"},
             "manifest": {"entry_service": entry, "services": [{"name": name} for name in services]}}
    target = {"name": "main", "config": {"services": services, "access_authorization": True,
                                         "envs": [{"name": "LOG_LEVEL", "value": "debug"}],
                                         "secrets": ["openai"], **config}, "bento": bento}
    return {"name": "shop", "status": "running", "cluster": {"name": "gcp-us-central-1"},
            "urls": ["https://shop.example"], "created_at": "2025-03-01T10:00:00Z",
            "latest_revision": {"name": "rev-1", "targets": [target]}}


# Backend comes first in the config, as a server may order it: the entry service must still win.
SERVICES = {"Backend": _service("gpu.t4", 0, 4, "Recreate", [{"name": "MODEL", "value": "large"}]),
            "Frontend": _service("cpu.2", 1, 2, "RollingUpdate", [{"name": "THEME", "value": "dark"}])}


def test_the_entry_service_is_shown_not_the_first_one() -> None:
    d = Deployment.from_api(_raw(SERVICES))
    assert (d.entry_service, d.instance_type, d.scaling_min, d.scaling_max) == ("Frontend", "cpu.2", 1, 2)
    assert d.strategy == "RollingUpdate" and [s.name for s in d.services] == ["Frontend", "Backend"]
    text = repr(DeploymentView(d))
    assert "instance type: cpu.2" in text and "1..2 replicas" in text.split("other services")[0]
    assert "entry service: Frontend" in text and "Backend: gpu.t4, 0..4 replicas, Recreate, envs MODEL=large" in text
    assert "LOG_LEVEL=debug" in text and "THEME=dark" in text and "secrets: openai" in text
    assert "access auth: on" in text


def test_get_json_and_yaml_include_every_service() -> None:
    summary = deployment_summary(Deployment.from_api(_raw(SERVICES)))
    assert summary["instance_type"] == "cpu.2" and summary["scaling"] == {"min_replicas": 1, "max_replicas": 2}
    assert summary["entry_service"] == "Frontend" and summary["strategy"] == "RollingUpdate"
    assert summary["access_authorization"] is True and summary["secrets"] == ["openai"]
    assert summary["envs"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    assert summary["services"]["Backend"] == {"instance_type": "gpu.t4",
                                              "scaling": {"min_replicas": 0, "max_replicas": 4},
                                              "strategy": "Recreate", "envs": [{"name": "MODEL", "value": "large"}]}
    assert list(summary["services"]) == ["Frontend", "Backend"]
    assert json.loads(render_summaries(summary, "json").text)["services"]["Frontend"]["instance_type"] == "cpu.2"
    assert yaml.safe_load(render_summaries(summary, "yaml").text)["services"]["Backend"]["strategy"] == "Recreate"


def test_the_table_and_a_single_service_stay_as_they_were() -> None:
    single = Deployment.from_api(_raw({"Summarizer": _service("cpu.1", 1, 1)}, entry="Summarizer"))
    assert single.instance_type == "cpu.1" and "entry service" not in repr(DeploymentView(single))
    assert "other services" not in repr(DeploymentView(single))
    table = repr(DeploymentsView([Deployment.from_api(_raw(SERVICES)), single]))
    assert "shop" in table and "running" in table


def test_a_manifest_without_the_entry_falls_back_to_the_only_or_first_service() -> None:
    only = Deployment.from_api(_raw({"Svc": _service("cpu.4", 2, 3)}, entry="Other"))
    assert (only.entry_service, only.instance_type) == ("Svc", "cpu.4")
    first = Deployment.from_api(_raw(SERVICES, entry=""))
    assert first.entry_service == "Backend"


def test_odd_service_values_never_crash() -> None:
    odd = _raw({"Frontend": "not an object", "Backend": {"scaling": "x", "envs": "nope", "instance_type": 5}},
               envs={"not": "a list"}, secrets=[1, None, "ok"])
    d = Deployment.from_api(odd)
    assert d.instance_type is None and d.envs == () and d.secrets == ("ok",)
    assert d.services[1].instance_type == "5" and d.services[1].envs == ()
    assert "Frontend" in repr(DeploymentView(d)) and "<table>" in DeploymentView(d)._repr_html_()
    weird = _raw(SERVICES)
    weird["latest_revision"]["targets"][0]["config"]["services"] = ["a", "list"]
    assert Deployment.from_api(weird).services == ()


def test_every_service_value_is_escaped_in_html() -> None:
    evil = "<script>alert(1)</script>"
    services = {"Frontend": _service("cpu.2", 1, 2, envs=[{"name": "X", "value": evil}]),
                f"Back{evil}": _service(evil, 0, 1, strategy=evil)}
    html = DeploymentView(Deployment.from_api(_raw(services, secrets=[evil])))._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html
