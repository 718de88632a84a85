"""Issue 16, finding 1: a pull never lets a server-chosen name or version become a path outside the store.

A hostile loopback server (tests/transfer/hostile_server.py) sends a ``latest`` version of
``../../../outside/pwned``, a manifest model ``m:../../../outside/pwned2``, archives whose own metadata
lies, and a version of ``../../..`` for a ``--force`` pull. Each is one line (ProtocolError or
InvalidInputError), and nothing outside the store is written or deleted.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hostile_server import Hostile, item_archive, serve_item, walk
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.store import LocalStore, parse_tag
from bentocloud_jupyter.core.artifacts.tags import TAG_MAX_LENGTH, within
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, ProtocolError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy


@pytest.fixture()
def hostile() -> Iterator[Hostile]:
    with Hostile() as server:
        yield server


@pytest.fixture()
def client(hostile: Hostile) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(hostile.url, "hostile-token", retry=RetryPolicy(max_attempts=1)) as c:
        yield c


@pytest.fixture()
def outside(isolated_home: Path) -> Iterator[Path]:
    """The folder holding BENTOML_HOME, with a sentinel; after the test, everything but the home is unchanged."""
    parent = isolated_home.parent
    isolated_home.mkdir(parents=True, exist_ok=True)
    (parent / "sentinel.txt").write_text("keep me")
    before = [p for p in walk(parent) if not p.startswith(isolated_home.name)]
    yield parent
    assert [p for p in walk(parent) if not p.startswith(isolated_home.name)] == before
    assert (parent / "sentinel.txt").read_text() == "keep me"


def one_line(error: BentoCloudError) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    return text


def downloads(hostile: Hostile) -> list[str]:
    return [s.path for s in hostile.seen if s.path.endswith("/download")]


def test_a_latest_version_with_dots_and_slashes_is_refused(hostile: Hostile, client: BentoCloudClient,
                                                           outside: Path, isolated_home: Path) -> None:
    evil = "../../../outside/pwned"
    serve_item(hostile, "bento", "evil", evil, archive=item_archive("bento", "evil", evil))
    for kind in ("bento", "model"):
        serve_item(hostile, kind, "evil", evil, archive=item_archive(kind, "evil", evil))
        with pytest.raises(ProtocolError) as info:
            transfer.pull(client, "evil", kind=kind)
        assert "not a valid tag" in one_line(info.value) and "outside/pwned" in str(info.value)
    assert downloads(hostile) == [] and not (outside / "outside").exists()
    assert not (isolated_home / "bentos" / "evil").exists()


def test_a_manifest_model_outside_the_store_is_refused_before_any_download(
        hostile: Hostile, client: BentoCloudClient, outside: Path, isolated_home: Path) -> None:
    for listed in ("m:../../../outside/pwned2", "../m:v1", "m:v1:v2", "m:", "M" * 70, 42):
        serve_item(hostile, "bento", "good", "b1", manifest={"models": ["ok:v1", listed]})
        with pytest.raises(ProtocolError) as info:
            transfer.pull(client, "good:b1")
        assert "model of the bento manifest" in one_line(info.value)
    assert downloads(hostile) == [] and not (outside / "outside").exists()
    assert not (isolated_home / "bentos" / "good").exists()


@pytest.mark.parametrize("metadata", [{"name": "other", "version": "b1"}, {"name": "good", "version": "../x"},
                                      {"name": "good", "version": "b1", "models": ["m:../../../outside/pwned3"]},
                                      {"name": "good", "version": "b1",
                                       "services": [{"models": [{"tag": "../m:v1"}]}]}])
def test_names_inside_the_archive_are_checked_too(metadata: dict[str, object], hostile: Hostile,
                                                  client: BentoCloudClient, outside: Path,
                                                  isolated_home: Path) -> None:
    name, version = str(metadata.pop("name")), str(metadata.pop("version"))
    serve_item(hostile, "bento", "good", "b1", archive=item_archive("bento", name, version, **metadata))
    with pytest.raises(ProtocolError) as info:
        transfer.pull(client, "good:b1")
    one_line(info.value)
    assert not (isolated_home / "bentos" / "good" / "b1").exists()
    assert not list((isolated_home / ".bentocloud-jupyter-staging").iterdir())


def test_force_with_a_version_of_dot_dot_never_deletes_outside(hostile: Hostile, client: BentoCloudClient,
                                                               outside: Path, isolated_home: Path) -> None:
    kept = isolated_home / "bentos" / "kept" / "b1"
    kept.mkdir(parents=True)
    (kept / "bento.yaml").write_text("name: kept\nversion: b1\n")
    for version in ("../../..", "..", ".", "../..", "/", "~", "b1/../.."):
        serve_item(hostile, "bento", "evil", "b1", latest=version)
        with pytest.raises(ProtocolError):
            transfer.pull(client, "evil", force=True)
        with pytest.raises(InvalidInputError):  # typed by the user instead
            transfer.pull(client, f"evil:{version}", force=True)
    assert (kept / "bento.yaml").is_file() and downloads(hostile) == []


def test_a_name_folder_linking_out_of_the_store_is_never_written_through(
        hostile: Hostile, client: BentoCloudClient, isolated_home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "b1").mkdir(parents=True)
    (elsewhere / "b1" / "keep.txt").write_text("mine")
    (isolated_home / "bentos").mkdir(parents=True)
    (isolated_home / "bentos" / "evil").symlink_to(elsewhere, target_is_directory=True)
    serve_item(hostile, "bento", "evil", "b1")
    with pytest.raises(InvalidInputError) as info:
        transfer.pull(client, "evil:b1", force=True)
    assert "outside the local store" in one_line(info.value)
    assert (elsewhere / "b1" / "keep.txt").read_text() == "mine" and sorted(walk(elsewhere)) == ["b1", "b1/keep.txt"]


def test_an_honest_pull_still_lands_in_the_store(hostile: Hostile, client: BentoCloudClient,
                                                 isolated_home: Path) -> None:
    serve_item(hostile, "bento", "good", "b1", manifest={"models": ["weights:v1"]})
    serve_item(hostile, "model", "weights", "v1")
    pulled = transfer.pull(client, "GOOD")
    assert pulled.tag == "good:b1" and [m.tag for m in pulled.models] == ["weights:v1"]
    store = LocalStore(isolated_home)
    assert store.get_bento("good").version == "b1" and store.get_model("weights:latest").version == "v1"
    assert not list(store.staging.iterdir())


def test_tags_follow_bentomls_rule() -> None:
    assert parse_tag("My-Bento:V1.2_3") == ("my-bento", "v1.2_3")
    assert parse_tag("a" * TAG_MAX_LENGTH + ":latest") == ("a" * TAG_MAX_LENGTH, None)
    for bad in ("a" * (TAG_MAX_LENGTH + 1), "x:" + "1" * (TAG_MAX_LENGTH + 1), "-x", "x:v-", "x:.", "x:..",
                "x:a/b", "x:a\\b", "é:v1", "x:v\n1", "x:v 1", "x:\x00"):
        with pytest.raises(InvalidInputError) as info:
            parse_tag(bad)
        assert "\n" not in str(info.value)
    store = LocalStore()
    for name, version in (("x", ".."), ("..", "v1"), ("x", "a/b")):
        with pytest.raises(InvalidInputError):
            store.item_dir("model", name, version)
    with pytest.raises(InvalidInputError):
        within(store.models, store.models)


def test_the_magic_says_one_line(hostile: Hostile, isolated_home: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    from bentocloud_jupyter.core.credentials import config
    from bentocloud_jupyter.core.credentials.model import Context
    from bentocloud_jupyter.core.tokens import Token

    config.save_context(Context("hostile", hostile.url, Token("hostile-token")))
    config.set_current_context("hostile")
    serve_item(hostile, "bento", "evil", "../../../outside/pwned")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    try:
        outcome = shell.run_cell("%bentocloud pull evil --force", store_history=False)
    finally:
        shell.run_line_magic("unload_ext", "bentocloud_jupyter")
    err = capsys.readouterr().err
    assert isinstance(outcome.error_in_exec, UsageError), err
    assert "not a valid tag" in err and "Traceback" not in err and "hostile-token" not in err
    assert not (isolated_home.parent / "outside").exists()
