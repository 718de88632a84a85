"""Issue 16, finding 4: a pull works outside every folder ``bentoml`` lists, and the next one cleans up a dead one.

A hostile loopback server serves the archives; one serves half an archive and then stalls, so a real
``kill -9`` lands mid-download.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hostile_server import Answer, Hostile, item_archive, serve_item
from support import poll

from bentocloud_jupyter.core.artifacts import staging, transfer
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.artifacts.tags import is_tag_part
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy

HOUR_AND_A_BIT = staging.STALE_AFTER + 60


@pytest.fixture()
def hostile() -> Iterator[Hostile]:
    with Hostile() as server:
        yield server


@pytest.fixture()
def client(hostile: Hostile) -> Iterator[BentoCloudClient]:
    with BentoCloudClient(hostile.url, "hostile-token", retry=RetryPolicy(max_attempts=1)) as c:
        yield c


def bentoml_visible_problems(store: LocalStore) -> list[str]:
    """What ``bentoml list`` / ``bentoml models list`` would trip on: any entry of an item folder that is
    neither ``latest`` nor a valid version."""
    problems = []
    for root in (store.bentos, store.models):
        for folder in root.iterdir() if root.is_dir() else []:
            problems += [str(entry) for entry in folder.iterdir() if entry.name != "latest"
                         and not (is_tag_part(entry.name) and entry.is_dir())]
    return problems


def dead_pid() -> int:
    done = subprocess.Popen([sys.executable, "-c", "pass"])
    done.wait()
    return done.pid


def leave_area(store: LocalStore, pid: int, host: str | None = None, age: float = 0.0) -> Path:
    """A staging area as a killed pull leaves it: an owner file, a partial archive, a half extraction."""
    area = store.staging / f"pull-{pid}-{secrets.token_hex(4)}"
    (area / "extract-x").mkdir(parents=True)
    (area / "extract-x" / "model.yaml").write_text("name: m\n")
    (area / "archive.tar").write_bytes(b"\x00" * 4096)
    (area / staging.OWNER_FILE).write_text(json.dumps({"pid": pid, "host": host or socket.gethostname()}))
    if age:
        then = time.time() - age
        for path in (area, area / "archive.tar", area / "extract-x", area / staging.OWNER_FILE):
            os.utime(path, (then, then))
    return area


def test_a_pull_works_outside_the_item_folders(hostile: Hostile, client: BentoCloudClient,
                                               isolated_home: Path) -> None:
    store = LocalStore(isolated_home)
    serve_item(hostile, "model", "m", "v2")
    (store.models / "m" / "v1").mkdir(parents=True)
    (store.models / "m" / "v1" / "model.yaml").write_text("name: m\nversion: v1\n")
    seen: list[tuple[list[str], list[str]]] = []

    class Watching:
        def start(self, label: str, total: int) -> None:
            pass

        def advance(self, label: str, nbytes: int) -> None:
            seen.append((bentoml_visible_problems(store), [p.name for p in store.staging.iterdir()]))

        def finish(self, label: str, message: str) -> None:
            pass

        def refresh(self, force: bool = False) -> None:
            pass

    transfer.pull(client, "m", kind="model", store=store, progress=Watching())
    assert seen and all(problems == [] and len(areas) == 1 for problems, areas in seen)
    assert sorted(p.name for p in (store.models / "m").iterdir()) == ["latest", "v1", "v2"]
    assert not list(store.staging.iterdir()) and not store.tmp.exists()


def test_the_next_pull_removes_what_a_crashed_one_left(hostile: Hostile, client: BentoCloudClient,
                                                       isolated_home: Path) -> None:
    store = LocalStore(isolated_home)
    dead = leave_area(store, dead_pid())
    old_but_alive = leave_area(store, os.getpid(), age=HOUR_AND_A_BIT)
    live = leave_area(store, os.getppid())  # another kernel pulling right now: left alone
    remote_host = leave_area(store, dead_pid(), host="another-host")  # a shared home: only age counts
    legacy = store.models / "m" / ".pulling-abc123"  # what versions before this fix left in item folders
    (legacy / "sub").mkdir(parents=True)
    store.tmp.mkdir(parents=True)
    partial = store.tmp / "bentocloud-pull-xyz.tar"
    partial.write_bytes(b"\x00" * 4096)
    young_partial = store.tmp / "bentocloud-pull-new.tar"
    young_partial.write_bytes(b"\x00")
    then = time.time() - HOUR_AND_A_BIT
    for path in (legacy, legacy / "sub", partial):
        os.utime(path, (then, then))

    serve_item(hostile, "model", "m", "v1")
    transfer.pull(client, "m:v1", kind="model", store=store)

    for gone in (dead, old_but_alive, legacy, partial):
        assert not gone.exists(), gone
    for kept in (live, remote_host, young_partial):
        assert kept.exists(), kept
    assert bentoml_visible_problems(store) == []
    assert sorted(p.name for p in (store.models / "m").iterdir()) == ["latest", "v1"]


def test_a_push_stages_its_archive_there_too(isolated_home: Path) -> None:
    store = LocalStore(isolated_home)
    with staging.staging_area(store, "push") as area:
        owner = json.loads((area / staging.OWNER_FILE).read_text())
        assert area.parent == store.staging and owner["pid"] == os.getpid()
        assert not staging.owner_is_dead(area) and staging.clean_stale(store) == []
    assert not area.exists()


def stalling(first: bytes, release: threading.Event) -> Any:
    def stream(out: Any) -> None:
        out.write(first)
        out.flush()
        release.wait(30)
    return stream


def test_kill_9_mid_download_leaves_nothing_bentoml_sees(hostile: Hostile, client: BentoCloudClient,
                                                         isolated_home: Path) -> None:
    store = LocalStore(isolated_home)
    archive = item_archive("model", "m", "v2") + b"\x00" * (3 << 20)  # more than one 1 MiB chunk
    release = threading.Event()
    serve_item(hostile, "model", "m", "v2")
    hostile.on("GET", "/api/v1/model_repositories/m/models/v2/download",
               Answer(200, b"", {"Content-Type": "application/x-tar", "Content-Length": str(len(archive))},
                      stream=stalling(archive[: 2 << 20], release)))
    script = textwrap.dedent(f"""
        from bentocloud_jupyter.core.artifacts import transfer
        from bentocloud_jupyter.core.rest.client import BentoCloudClient
        transfer.pull(BentoCloudClient({hostile.url!r}, "t"), "m:v2", kind="model")
    """)
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "BENTOML_HOME": str(isolated_home)})
    try:
        partials = poll(lambda: [p for p in store.staging.glob("*/archive.tar") if p.stat().st_size > 0]
                        if store.staging.is_dir() else [], bool, timeout=30, step=0.05,
                        stuck=lambda _: "the child pull never started downloading")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
    assert partials and partials[0].exists()  # the crash left its staging behind...
    assert bentoml_visible_problems(store) == [] and not (store.models / "m" / "v2").exists()  # ...out of sight

    serve_item(hostile, "model", "m", "v2")
    transfer.pull(client, "m:v2", kind="model", store=store)
    assert not partials[0].exists() and not list(store.staging.iterdir())
    assert (store.models / "m" / "v2" / "model.yaml").is_file() and bentoml_visible_problems(store) == []
