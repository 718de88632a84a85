"""`bentoml deploy` flags -> v2 JSON: every flag, the reference bodies, precedence and bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from bentocloud_jupyter.core.deployments.options import (
    STRATEGIES,
    DeployOptions,
    build_create_request,
    build_update_request,
    describe_request,
    load_config_source,
    parse_bool,
    parse_envs,
    parse_labels,
)
from bentocloud_jupyter.core.errors import InvalidInputError

SERVICE_DEFAULTS = {"instance_type": None, "scaling": {"min_replicas": 1, "max_replicas": 1, "policy": None},
                    "envs": None, "deployment_strategy": None, "extras": None, "cold_start_timeout": None,
                    "config_overrides": {}}


def create(entry: str = "Svc", manifest: list[dict[str, Any]] | None = None, secret_keys: tuple[str, ...] = (),
           **kwargs: Any) -> tuple[dict[str, Any], str | None]:
    return build_create_request(DeployOptions(**kwargs), entry, manifest, secret_keys)


def error(func: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidInputError) as info:
        func(*args, **kwargs)
    return str(info.value)


# ---------------------------------------------------------------- create from flags


def test_reference_example_body_key_for_key() -> None:
    body, cluster = create(name="dep", bento="svc:v1", cluster="gcp-us-central-1", access_authorization=True,
                           scaling_min=0, scaling_max=3, instance_type="gpu.t4.1", strategy="Recreate",
                           envs=["A=1"], labels=["team=ml"])
    expected = json.loads("""{
      "access_authorization": true,
      "envs": [{"name": "A", "value": "1"}],
      "labels": [{"key": "team", "value": "ml"}],
      "secrets": null,
      "services": {
        "Svc": {
          "instance_type": "gpu.t4.1",
          "scaling": {"min_replicas": 0, "max_replicas": 3, "policy": null},
          "envs": null,
          "deployment_strategy": "Recreate",
          "extras": null,
          "cold_start_timeout": null,
          "config_overrides": {}
        }
      },
      "canary": null,
      "bento": "svc:v1",
      "name": "dep",
      "dev": false
    }""")
    assert json.dumps(body) == json.dumps(expected)  # same keys, values and order
    assert cluster == "gcp-us-central-1"


def test_bento_only_gives_every_default() -> None:
    body, cluster = create(bento="svc:v1")
    assert body == {"access_authorization": False, "envs": None, "labels": None, "secrets": None,
                    "services": {"Svc": SERVICE_DEFAULTS}, "canary": None, "bento": "svc:v1", "name": None,
                    "dev": False}
    assert cluster is None


@pytest.mark.parametrize(("kwargs", "path", "value"), [
    ({"name": "my-dep"}, ("name",), "my-dep"),
    ({"access_authorization": True}, ("access_authorization",), True),
    ({"access_authorization": "off"}, ("access_authorization",), False),
    ({"scaling_min": 2}, ("services", "Svc", "scaling", "min_replicas"), 2),
    ({"scaling_max": 4}, ("services", "Svc", "scaling", "max_replicas"), 4),
    ({"instance_type": "cpu.2"}, ("services", "Svc", "instance_type"), "cpu.2"),
    ({"strategy": "RampedSlowRollout"}, ("services", "Svc", "deployment_strategy"), "RampedSlowRollout"),
    ({"strategy": "besteffortcontrolledrollout"}, ("services", "Svc", "deployment_strategy"),
     "BestEffortControlledRollout"),
    ({"envs": ("A=1", "B=x=y", "C=")}, ("envs",),
     [{"name": "A", "value": "1"}, {"name": "B", "value": "x=y"}, {"name": "C", "value": ""}]),
    ({"labels": ("team=ml", "example.com/tier=")}, ("labels",),
     [{"key": "team", "value": "ml"}, {"key": "example.com/tier", "value": ""}]),
    ({"secrets": ("openai", "hf")}, ("secrets",), ["openai", "hf"]),
    ({"secrets": "openai"}, ("secrets",), ["openai"]),
])
def test_each_flag_lands_in_its_field(kwargs: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    body, _ = create(bento="svc:v1", **kwargs)
    node: Any = body
    for key in path:
        node = node[key]
    assert node == value


def test_cluster_goes_to_the_query_not_the_body() -> None:
    body, cluster = create(bento="svc:v1", cluster="aws-eu")
    assert cluster == "aws-eu" and "cluster" not in body


def test_entry_service_names_the_single_service_even_when_empty() -> None:
    assert list(create(entry="", bento="svc:v1")[0]["services"]) == [""]
    assert list(create(entry="Api", bento="svc:v1", instance_type="cpu.1")[0]["services"]) == ["Api"]


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (None, None, (1, 1)), (0, None, (0, 1)), (2, None, (2, 2)), (None, 3, (None, 3)), (0, 3, (0, 3)), (3, 3, (3, 3)),
])
def test_scaling_normalisation(lo: int | None, hi: int | None, expected: tuple[int | None, int]) -> None:
    scaling = create(bento="svc:v1", scaling_min=lo, scaling_max=hi)[0]["services"]["Svc"]["scaling"]
    assert (scaling["min_replicas"], scaling["max_replicas"]) == expected
    assert scaling["policy"] is None


@pytest.mark.parametrize(("lo", "hi", "words"), [
    (3, 1, "--scaling-min (3) is greater than --scaling-max (1)"), (-1, None, "--scaling-min must be 0 or more"),
    (None, 0, "--scaling-max must be at least 1"), (True, None, "whole number"), ("many", None, "whole number"),
])
def test_bad_scaling_flags(lo: Any, hi: Any, words: str) -> None:
    assert words in error(DeployOptions, bento="svc:v1", scaling_min=lo, scaling_max=hi)


def test_scaling_given_as_text_is_read() -> None:
    assert DeployOptions(scaling_min=" 2", scaling_max="+3") == DeployOptions(scaling_min=2, scaling_max=3)  # type: ignore[arg-type]


# ---------------------------------------------------------------- bento manifest envs

MANIFEST = [{"name": "NEEDED", "value": "", "stage": "all"}, {"name": "ALSO", "stage": "runtime"},
            {"name": "DEFAULTED", "value": "d", "stage": "runtime"},
            {"name": "BUILD_ONLY", "value": "", "stage": "build"},
            {"name": "BUILD_DEF", "value": "b", "stage": "build"}, {"name": "MINE", "value": "m"}]


def test_missing_required_envs_are_all_named() -> None:
    message = error(create, manifest=MANIFEST, bento="svc:v1")
    assert "NEEDED, ALSO" in message and "BUILD_ONLY" not in message
    assert "--env NEEDED=value" in message and "--secret" in message


def test_required_envs_provided_by_env_secret_or_local_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    create(manifest=MANIFEST, bento="svc:v1", envs=("NEEDED=1", "ALSO="))
    create(manifest=MANIFEST, bento="svc:v1", envs=("NEEDED=1",), secrets=("keys",), secret_keys=("ALSO",))
    monkeypatch.setenv("NEEDED", "from shell")
    monkeypatch.setenv("ALSO", "too")
    body, _ = create(manifest=MANIFEST, bento="svc:v1", envs=("NEEDED", "ALSO"))
    assert body["envs"][:2] == [{"name": "NEEDED", "value": "from shell"}, {"name": "ALSO", "value": "too"}]


def test_manifest_defaults_follow_the_flags_unless_overridden() -> None:
    body, _ = create(manifest=MANIFEST, bento="svc:v1", envs=("NEEDED=1", "ALSO=2", "MINE=flag"))
    assert body["envs"] == [{"name": "NEEDED", "value": "1"}, {"name": "ALSO", "value": "2"},
                            {"name": "MINE", "value": "flag"}, {"name": "DEFAULTED", "value": "d"}]


def test_manifest_defaults_alone_become_the_envs() -> None:
    body, _ = create(manifest=[{"name": "D", "value": "1", "stage": "all"}], bento="svc:v1")
    assert body["envs"] == [{"name": "D", "value": "1"}]


def test_config_source_gets_no_manifest_defaults_but_its_envs_count() -> None:
    config = {"bento": "svc:v1", "envs": [{"name": "NEEDED", "value": "1"}, {"name": "ALSO", "value": "2"}]}
    body, _ = create(manifest=MANIFEST, config_dict=config)
    assert [e["name"] for e in body["envs"]] == ["NEEDED", "ALSO"]
    assert "NEEDED" in error(create, manifest=MANIFEST, config_dict={"bento": "svc:v1"})


# ---------------------------------------------------------------- parsers


def test_parse_envs_reads_bare_names_from_the_given_environment() -> None:
    assert parse_envs(["K", "A=1"], environ={"K": "v"}) == [{"name": "K", "value": "v"}, {"name": "A", "value": "1"}]
    message = error(parse_envs, ["UNSET_THING"], environ={})
    assert "UNSET_THING" in message and "--env UNSET_THING=value" in message


def test_parse_envs_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FROM_OS", "yes")
    assert parse_envs(["FROM_OS"]) == [{"name": "FROM_OS", "value": "yes"}]


@pytest.mark.parametrize("item", ["=value", "", "1ABC=1", "A B=1", "A$=1"])
def test_parse_envs_rejects_bad_names(item: str) -> None:
    assert "--env" in error(parse_envs, [item], environ={})


def test_parse_envs_never_echoes_values() -> None:
    assert "s3cret" not in error(parse_envs, ["BAD NAME=s3cret"])


def test_parse_labels() -> None:
    assert parse_labels(["a=b", "k=", "x.io/y=z"]) == [{"key": "a", "value": "b"}, {"key": "k", "value": ""},
                                                       {"key": "x.io/y", "value": "z"}]


@pytest.mark.parametrize(("item", "words"), [
    ("novalue", "has no '='"), ("=v", "label key"), ("-a=b", "label key"), ("a=b c", "label value"),
    ("a=" + "x" * 64, "label value"), ("a/b/c=d", "label key"),
])
def test_parse_labels_rejects(item: str, words: str) -> None:
    assert words in error(parse_labels, [item])


@pytest.mark.parametrize(("text", "value"), [
    ("true", True), ("FALSE", False), ("Yes", True), ("no", False), ("1", True), ("0", False), ("on", True),
    (" OFF ", False), ("y", True), ("f", False), (True, True), (False, False),
])
def test_parse_bool(text: str | bool, value: bool) -> None:
    assert parse_bool(text) is value


@pytest.mark.parametrize("text", ["", "maybe", "2", "none"])
def test_parse_bool_rejects(text: str) -> None:
    assert "true or false" in error(parse_bool, text)


# ---------------------------------------------------------------- option validation


def test_strategy_is_normalised_and_checked() -> None:
    assert DeployOptions(strategy="rollingupdate").strategy == "RollingUpdate"
    message = error(DeployOptions, strategy="Blue")
    assert all(choice in message for choice in STRATEGIES)


@pytest.mark.parametrize(("kwargs", "words"), [
    ({"name": "My_Dep"}, "not a valid deployment name"), ({"name": "-x"}, "not a valid deployment name"),
    ({"secrets": ("two words",)}, "--secret"), ({"access_authorization": "sure"}, "true or false"),
    ({"labels": ("oops",)}, "--label"), ({"envs": ("=1",)}, "--env"), ({"envs": 5}, "--env expects a list"),
    ({"instance_type": 3}, "instance_type expects text"),
])
def test_bad_options(kwargs: dict[str, Any], words: str) -> None:
    assert words in error(DeployOptions, **kwargs)


def test_options_are_frozen_and_normalised() -> None:
    options = DeployOptions(bento="", name="dep", envs=["A=1"], access_authorization="yes")  # type: ignore[arg-type]
    assert options.bento is None and options.envs == ("A=1",) and options.access_authorization is True
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(("bento", "words"), [
    (None, "no bento given"), ("svc", "resolved 'name:version'"), ("svc:latest", "resolved"), ("svc:", "resolved"),
])
def test_bento_must_be_resolved(bento: str | None, words: str) -> None:
    assert words in error(create, bento=bento)


# ---------------------------------------------------------------- config dict / file

CONFIG = {"name": "cfg", "bento": "svc:v1", "cluster": "aws-eu", "access_authorization": "false",
          "services": {"Svc": {"scaling": {"min_replicas": "2"}, "deployment_strategy": "recreate"}}}


def test_config_dict_fills_every_key_and_parses_strings() -> None:
    body, cluster = create(config_dict=CONFIG)
    assert cluster == "aws-eu"
    assert body["access_authorization"] is False  # bentoml would send true for "false"
    assert body["services"]["Svc"] == {**SERVICE_DEFAULTS, "deployment_strategy": "Recreate",
                                       "scaling": {"min_replicas": 2, "max_replicas": 2, "policy": None}}
    assert list(body) == ["access_authorization", "envs", "labels", "secrets", "services", "canary", "bento",
                          "name", "dev"]


def test_config_dict_is_not_mutated_and_json_text_works() -> None:
    original = copy.deepcopy(CONFIG)
    create(config_dict=CONFIG)
    assert original == CONFIG
    assert create(config_dict=json.dumps(CONFIG)) == create(config_dict=CONFIG)


def test_config_dict_without_services_sends_none() -> None:
    assert create(config_dict={"bento": "svc:v1"})[0]["services"] == {}


def test_nested_config_is_structured_like_the_flags() -> None:
    config = {"bento": "svc:v1",
              "services": {"A": {"scaling": None}, "B": {"extras": {"bento_function_overrides": {}}}},
              "canary": {"route_type": "query", "versions": {"v0": {"bento": "svc:v0", "services": {"A": {}}}}}}
    body, _ = create(config_dict=config)
    assert body["services"]["A"] == SERVICE_DEFAULTS
    assert body["services"]["B"]["extras"] == {"bento_function_overrides": {
        "annotations": None, "monitorExporter": None, "extraPodMetadata": None, "extraPodSpec": None},
        "bento_request_overrides": None}
    assert body["canary"] == {"route_type": "query", "route_by": None, "versions": {"v0": {
        "envs": None, "secrets": None, "services": {"A": SERVICE_DEFAULTS}, "bento": "svc:v0", "weight": None}}}


def test_config_file_is_used(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text("bento: svc:v1\nservices:\n  Svc:\n    instance_type: cpu.2\n    scaling: {max_replicas: 3}\n")
    body, cluster = create(config_file=str(path))
    assert body["services"]["Svc"]["instance_type"] == "cpu.2" and cluster is None
    assert body["services"]["Svc"]["scaling"] == {"min_replicas": None, "max_replicas": 3, "policy": None}


def test_config_dict_wins_over_config_file(tmp_path: Path) -> None:
    path = tmp_path / "deploy.yaml"
    path.write_text("bento: other:v9\n")
    assert create(config_dict={"bento": "svc:v1"}, config_file=str(path))[0]["bento"] == "svc:v1"


def test_empty_config_dict_counts_as_not_given() -> None:
    assert DeployOptions(config_dict={}).config_dict is None and DeployOptions(config_dict=" ").config_dict is None
    assert load_config_source(DeployOptions(bento="svc:v1")) is None


def test_flags_next_to_a_config_source_are_refused() -> None:
    message = error(DeployOptions, config_file="x.yaml", scaling_max=3)
    assert message == "--scaling-max is ignored when --config-file is given; put it in the file"
    message = error(DeployOptions, config_dict={"bento": "a:b"}, envs=["A=1"], strategy="Recreate")
    assert message == "--strategy, --env are ignored when --config-dict is given; put them in the dict"


def test_name_bento_cluster_fill_in_a_source_that_lacks_them() -> None:
    source = load_config_source(DeployOptions(name="dep", bento="svc:v1", cluster="c", config_dict={"envs": []}))
    assert source == {"envs": [], "name": "dep", "bento": "svc:v1", "cluster": "c"}
    same = DeployOptions(name="cfg", cluster="aws-eu", config_dict=CONFIG)
    assert load_config_source(same) == CONFIG
    resolved = load_config_source(DeployOptions(bento="svc:v7", config_dict={"bento": "svc"}))
    assert resolved == {"bento": "svc:v7"}


@pytest.mark.parametrize("kwargs", [{"name": "other"}, {"cluster": "gcp"}, {"bento": "svc:v2"}, {"bento": "x:v1"}])
def test_name_bento_cluster_contradicting_the_source_are_refused(kwargs: dict[str, str]) -> None:
    key = next(iter(kwargs))
    message = error(load_config_source, DeployOptions(config_dict=CONFIG, **kwargs))  # type: ignore[arg-type]
    assert f"--{key}" in message and "contradicts" in message and "--config-dict" in message


@pytest.mark.parametrize(("text", "words"), [
    ('{"bento": "svc:v1",}', "not valid JSON"), ("[1, 2]", "it holds a list"), ("{'a': 1}", "line 1, column 2"),
])
def test_bad_config_dict_text(text: str, words: str) -> None:
    assert words in error(load_config_source, DeployOptions(config_dict=text))


def test_bad_config_files(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert str(missing) in error(load_config_source, DeployOptions(config_file=str(missing)))
    broken = tmp_path / "broken.yaml"
    broken.write_text("bento: svc:v1\nservices:\n  Svc: [unclosed\n")
    message = error(load_config_source, DeployOptions(config_file=str(broken)))
    assert str(broken) in message and "not valid YAML at line 4" in message
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing\n")
    assert "it holds nothing" in error(load_config_source, DeployOptions(config_file=str(empty)))
    listing = tmp_path / "list.yaml"
    listing.write_text("- a\n")
    assert "must hold a mapping" in error(load_config_source, DeployOptions(config_file=str(listing)))


@pytest.mark.parametrize(("config", "words"), [
    ({"scalling": 1}, "unknown key 'scalling'"),
    ({"services": {"Svc": {"scalling": {}}}}, "'services.Svc.scalling'; did you mean 'scaling'?"),
    ({"services": {"Svc": {"deployment_strategy": "Blue"}}}, "not a deployment strategy"),
    ({"services": {"Svc": {"scaling": {"min_replicas": 3, "max_replicas": 1}}}}, "min_replicas (3) is greater"),
    ({"services": {"Svc": {"scaling": {"min_replicas": -1}}}}, "min_replicas must be 0 or more"),
    ({"services": {"Svc": {"scaling": {"max_replicas": 0}}}}, "max_replicas must be at least 1"),
    ({"services": {"Svc": {"scaling": {"max_replicas": "lots"}}}}, "services.Svc.scaling.max_replicas expects a whole"),
    ({"access_authorization": "perhaps"}, "access_authorization expects true or false"),
    ({"envs": [{"name": "A"}]}, "envs[0].value is missing"),
    ({"envs": [{"name": "A", "value": None}]}, "envs[0].value must not be null"),
    ({"envs": [{"name": "A B", "value": "1"}]}, "envs[0].name 'A B' is not a valid environment variable name"),
    ({"envs": {"A": "1"}}, "envs must be a list"),
    ({"labels": [{"key": "a", "value": {"x": 1}}]}, "labels[0].value expects text"),
    ({"name": "Bad_Name"}, "name 'Bad_Name' is not a valid deployment name"),
    ({"canary": {"route_type": "cookie"}}, "not a route type"),
    ({"services": ["Svc"]}, "services must be a mapping"),
])
def test_bad_config_content(config: dict[str, Any], words: str) -> None:
    assert words in error(create, config_dict={"bento": "svc:v1", **config})


def test_config_scalars_are_coerced_like_bentoml() -> None:
    body, _ = create(config_dict={"bento": "svc:v1", "envs": [{"name": "PORT", "value": 8080}],
                                  "services": {"Svc": {"cold_start_timeout": "30", "instance_type": 1}}})
    assert body["envs"] == [{"name": "PORT", "value": "8080"}]
    assert body["services"]["Svc"]["cold_start_timeout"] == 30 and body["services"]["Svc"]["instance_type"] == "1"


# ---------------------------------------------------------------- update

USER = {"name": "alice", "email": "alice@example.com", "first_name": "Alice", "last_name": "Doe"}


def deployment(config: dict[str, Any] | None = None, targets: list[dict[str, Any]] | None = None,
               routing: dict[str, Any] | None = None) -> dict[str, Any]:
    """DeploymentFull as in the reference §3.3.3 (abridged where the client does not look)."""
    config = config or {"access_authorization": False, "envs": [], "labels": None, "secrets": [],
                        "services": {"Svc": {"instance_type": "cpu.1", "scaling": {"min_replicas": 1,
                                                                                    "max_replicas": 1}}},
                        "canary": None}
    bento = {"name": "v1", "version": "v1", "repository": {"name": "svc"}}
    return {"name": "dep", "status": "running", "cluster": {"name": "gcp-us-central-1"},
            "manifest": {"dev": False, "routing": routing},
            "latest_revision": {"targets": targets or [{"name": "main", "creator": None, "config": config,
                                                        "bento": bento}]}}


def test_update_reference_example() -> None:
    body, cluster = build_update_request(deployment(), DeployOptions(name="dep", scaling_max=5, envs=("B=2",)), "Svc")
    expected = {"access_authorization": False, "envs": [{"name": "B", "value": "2"}], "labels": None, "secrets": [],
                "services": {"Svc": {"instance_type": "cpu.1",
                                     "scaling": {"min_replicas": 1, "max_replicas": 5, "policy": None},
                                     "envs": None, "deployment_strategy": None, "extras": None,
                                     "cold_start_timeout": None, "config_overrides": {}}},
                "canary": None, "bento": "svc:v1"}
    assert json.dumps(body) == json.dumps(expected)
    assert cluster == "gcp-us-central-1"


def test_update_without_changes_keeps_the_current_config_but_not_labels() -> None:
    current = deployment()
    current["latest_revision"]["targets"][0]["config"]["labels"] = [{"key": "old", "value": "x"}]
    body, _ = build_update_request(current, DeployOptions(name="dep", cluster="ignored"), "Svc")
    assert body["labels"] is None and body["envs"] == [] and body["services"]["Svc"]["instance_type"] == "cpu.1"
    assert "name" not in body and "dev" not in body


def test_update_replaces_lists_and_bento_and_merges_services() -> None:
    current = deployment()
    current["latest_revision"]["targets"][0]["config"]["envs"] = [{"name": "OLD", "value": "1"}]
    options = DeployOptions(bento="svc:v2", labels=("team=ml",), secrets=("s",), strategy="recreate", scaling_min=0)
    body, _ = build_update_request(current, options, "Svc")
    assert body["bento"] == "svc:v2" and body["labels"] == [{"key": "team", "value": "ml"}]
    assert body["envs"] == [{"name": "OLD", "value": "1"}] and body["secrets"] == ["s"]
    assert body["services"]["Svc"]["scaling"] == {"min_replicas": 0, "max_replicas": 1, "policy": None}
    assert body["services"]["Svc"]["deployment_strategy"] == "Recreate"


def test_update_from_config_dict_deep_merges() -> None:
    config = {"name": "dep", "cluster": "x", "dev": True,
              "services": {"Svc": {"scaling": {"max_replicas": 4}, "config_overrides": {"a": 1}}, "New": {}}}
    body, cluster = build_update_request(deployment(), DeployOptions(config_dict=config), "Svc")
    assert body["services"]["Svc"]["scaling"] == {"min_replicas": 1, "max_replicas": 4, "policy": None}
    assert body["services"]["Svc"]["config_overrides"] == {"a": 1}
    assert body["services"]["New"] == SERVICE_DEFAULTS and cluster == "gcp-us-central-1"


def test_update_min_above_current_max_is_refused() -> None:
    message = error(build_update_request, deployment(), DeployOptions(scaling_min=3), "Svc")
    assert "min_replicas (3) is greater than max_replicas (1)" in message


def test_update_turns_other_targets_into_canary_versions() -> None:
    main = deployment()["latest_revision"]["targets"][0]
    blue = {"name": "blue", "config": {"envs": None, "secrets": ["s"], "services": {"Svc": {"scaling": None}},
                                       "unknown_server_key": 1},
            "bento": {"name": "v0", "version": "v0", "repository": {"name": "svc"}}}
    current = deployment(targets=[blue, main], routing={"route_type": "random", "weights": {"main": 9, "blue": 1}})
    body, _ = build_update_request(current, DeployOptions(), "Svc")
    assert body["canary"] == {"route_type": "random", "route_by": None, "versions": {"blue": {
        "envs": None, "secrets": ["s"], "services": {"Svc": SERVICE_DEFAULTS}, "bento": "svc:v0", "weight": 1}}}
    assert body["bento"] == "svc:v1"


def test_update_tolerates_unknown_server_keys() -> None:
    current = deployment()
    current["latest_revision"]["targets"][0]["config"]["services"]["Svc"]["future_field"] = {"x": 1}
    body, _ = build_update_request(current, DeployOptions(), "Svc")
    assert "future_field" not in body["services"]["Svc"]


@pytest.mark.parametrize("breakage", ["no revision", "no targets", "no cluster", "no bento", "two targets, no main"])
def test_update_of_an_unusable_deployment(breakage: str) -> None:
    current = deployment()
    target = current["latest_revision"]["targets"][0]
    if breakage == "no revision":
        current["latest_revision"] = None
    elif breakage == "no targets":
        current["latest_revision"]["targets"] = []
    elif breakage == "no cluster":
        del current["cluster"]
    elif breakage == "no bento":
        target["bento"] = None
    else:
        current["latest_revision"]["targets"] = [{**target, "name": "a"}, {**target, "name": "b"}]
    assert "dep" in error(build_update_request, current, DeployOptions(), "Svc") or breakage == "no cluster"


# ---------------------------------------------------------------- dry-run summary


def test_describe_request_masks_env_values() -> None:
    body, cluster = create(name="dep", bento="svc:v1", cluster="gcp", instance_type="gpu.t4.1", scaling_min=0,
                           scaling_max=3, envs=["TOKEN=s3cret-value"], secrets=["openai"], labels=["team=ml"])
    text = describe_request(body, cluster)
    for part in ("svc:v1", "dep", "gcp", "Svc", "gpu.t4.1", "0-3", "TOKEN=***", "openai", "team=ml"):
        assert part in text
    assert "s3cret" not in text


def test_describe_request_defaults() -> None:
    text = describe_request(*create(bento="svc:v1"))
    assert "(chosen by BentoCloud)" in text and "(default cluster)" in text and "replicas 1-1" in text
    update_text = describe_request(*build_update_request(deployment(), DeployOptions(), "Svc"))
    assert "name:" not in update_text and "gcp-us-central-1" in update_text
