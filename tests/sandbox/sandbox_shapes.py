"""Required keys of every response object, transcribed from the API reference (§3, §8).

A key listed here must be present (its value may be null only where the reference says nullable);
plain-string fields must never be null because bentoml would read them as the string "None".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

RESOURCE = ("uid", "created_at", "updated_at", "deleted_at", "name", "resource_type", "labels")
USER = ("name", "email", "first_name", "last_name")


def _keys(obj: Any, keys: tuple[str, ...], where: str, non_null: tuple[str, ...] = ()) -> None:
    assert isinstance(obj, dict), f"{where}: expected an object, got {type(obj).__name__}"
    missing = [k for k in keys if k not in obj]
    assert not missing, f"{where}: missing required keys {missing}"
    nulls = [k for k in non_null if obj[k] is None]
    assert not nulls, f"{where}: keys must not be null: {nulls}"


def _time(value: Any, where: str, nullable: bool = True) -> None:
    if value is None:
        assert nullable, f"{where}: must not be null"
        return
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.tzinfo is not None, f"{where}: timestamps need a timezone"


def resource(obj: Any, where: str, extra: tuple[str, ...] = (), strings: tuple[str, ...] = ()) -> None:
    _keys(obj, RESOURCE + extra + strings, where, non_null=("uid", "name", "resource_type", "labels", *strings))
    assert isinstance(obj["labels"], list), f"{where}: labels must be a list"
    _time(obj["created_at"], f"{where}.created_at", nullable=False)
    _time(obj["updated_at"], f"{where}.updated_at")
    _time(obj["deleted_at"], f"{where}.deleted_at")
    for key in strings:
        assert isinstance(obj[key], str), f"{where}.{key} must be a string"


def user(obj: Any, where: str = "user") -> None:
    _keys(obj, USER, where, non_null=USER)


def organization(obj: Any, where: str = "organization") -> None:
    resource(obj, where, strings=("description",))


def cluster(obj: Any, where: str = "cluster") -> None:
    resource(obj, where, extra=("creator",), strings=("description", "organization_name"))
    user(obj["creator"], f"{where}.creator")


def cluster_full(obj: Any, where: str = "cluster") -> None:
    cluster(obj, where)
    _keys(obj, ("organization", "kube_config", "config", "grafana_root_path", "resource_instances"), where)
    organization(obj["organization"], f"{where}.organization")
    _keys(obj["config"], ("default_deployment_kube_namespace",), f"{where}.config")
    for i, it in enumerate(obj["resource_instances"]):
        instance_type(it, f"{where}.resource_instances[{i}]")


def instance_type(obj: Any, where: str = "instance_type") -> None:
    resource(obj, where, extra=("config",), strings=("display_name", "description"))
    _keys(obj["config"], ("group", "resources", "price"), f"{where}.config", non_null=("group", "price"))


ARTIFACT_STRINGS = ("description", "version", "image_build_status", "upload_status", "upload_finished_reason",
                    "presigned_upload_url", "presigned_download_url")


def bento(obj: Any, where: str = "bento", with_repository: bool = False) -> None:
    resource(obj, where, strings=ARTIFACT_STRINGS)
    assert obj["name"] == obj["version"], f"{where}: a bento record's name must equal its version"
    manifest = obj.get("manifest")
    if manifest is not None:
        _keys(manifest, ("service", "bentoml_version", "size_bytes"), f"{where}.manifest")
        for env in manifest.get("envs") or []:
            assert env.get("stage", "all") in ("all", "build", "runtime"), f"{where}: bad env stage"
    if with_repository:
        assert "repository" in obj, f"{where}: bento must embed its repository"
        repository(obj["repository"], f"{where}.repository", "latest_bento")


def model(obj: Any, where: str = "model", with_repository: bool = False) -> None:
    resource(obj, where, extra=("manifest",), strings=ARTIFACT_STRINGS)
    _keys(obj["manifest"], ("module", "api_version", "bentoml_version", "size_bytes"), f"{where}.manifest",
          non_null=("module", "api_version", "bentoml_version", "size_bytes"))
    if with_repository:
        repository(obj["repository"], f"{where}.repository", "latest_model")


def repository(obj: Any, where: str, latest_key: str) -> None:
    resource(obj, where, extra=(latest_key,), strings=("description",))
    if obj[latest_key] is not None:
        (bento if latest_key == "latest_bento" else model)(obj[latest_key], f"{where}.{latest_key}")


def secret(obj: Any, where: str = "secret") -> None:
    resource(obj, where, extra=("creator", "content", "cluster"), strings=("description",))
    user(obj["creator"], f"{where}.creator")
    _keys(obj["content"], ("type", "items"), f"{where}.content", non_null=("type", "items"))
    cluster(obj["cluster"], f"{where}.cluster")


def api_token(obj: Any, where: str = "api_token") -> None:
    resource(obj, where, extra=("scopes", "user", "organization"), strings=("description",))
    user(obj["user"], f"{where}.user")
    organization(obj["organization"], f"{where}.organization")


def deployment(obj: Any, where: str = "deployment") -> None:
    resource(obj, where, extra=("creator", "cluster", "latest_revision"), strings=("status", "kube_namespace"))
    _time(obj["created_at"], f"{where}.created_at", nullable=False)
    user(obj["creator"], f"{where}.creator")
    cluster(obj["cluster"], f"{where}.cluster")
    assert isinstance(obj.get("urls", []), list), f"{where}: urls must be a list"
    rev = obj["latest_revision"]
    resource(rev, f"{where}.latest_revision", extra=("creator", "targets"), strings=("status",))
    assert rev["targets"], f"{where}: the latest revision needs a target"
    for i, target in enumerate(rev["targets"]):
        tw = f"{where}.latest_revision.targets[{i}]"
        resource(target, tw, extra=("creator", "config", "bento"))
        assert isinstance(target["config"], dict), f"{tw}.config missing"
        bento(target["bento"], f"{tw}.bento", with_repository=True)


def list_envelope(obj: Any, where: str = "list") -> list[Any]:
    _keys(obj, ("start", "count", "total", "items"), where, non_null=("start", "count", "total", "items"))
    items: list[Any] = obj["items"]
    return items
