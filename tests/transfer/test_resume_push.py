"""Parallel multipart pushes: a failed part retried alone, and an interrupted push resumed from its journal."""

from __future__ import annotations

import json
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import make_model, tree

from bentocloud_jupyter.core.artifacts import multipart, transfer
from bentocloud_jupyter.core.artifacts.journal import journal_path
from bentocloud_jupyter.core.artifacts.progress import ProgressBoard
from bentocloud_jupyter.core.artifacts.staging import clean_stale
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.errors import ConnectError, ValidationError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.sandbox import Sandbox

PART = 64 * 1024
SIZE = 1_000_000  # 16 parts


@pytest.fixture()
def client(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Iterator[BentoCloudClient]:
    sandbox.faults.reset()
    sandbox.transfer_mode = "multipart"
    monkeypatch.setattr(multipart, "PART_BACKOFF", 0.0)
    with BentoCloudClient(sandbox.url, sandbox.token, retry=RetryPolicy(max_attempts=1)) as c:
        yield c
    sandbox.faults.reset()
    sandbox.transfer_mode = "proxy"


class StopAt(ProgressBoard):
    """Ctrl-C (KeyboardInterrupt) once ``fraction`` of the bytes went out."""

    def __init__(self, fraction: float) -> None:
        super().__init__()
        self.fraction = fraction

    def advance(self, label: str, nbytes: int) -> None:
        super().advance(label, nbytes)
        [item] = [i for i in self.snapshot() if i.label == label]
        if item.total and item.done >= self.fraction * item.total:
            raise KeyboardInterrupt


def interrupted(client: BentoCloudClient, store: LocalStore, tag: str, threads: int) -> dict[str, Any]:
    with pytest.raises(KeyboardInterrupt):
        transfer.push(client, tag, kind="model", store=store, progress=StopAt(0.6), part_size=PART,
                      part_threads=threads)
    name, version = tag.split(":")
    path = journal_path(store, "model", name, version)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert client.get_item("model", name, version)["upload_status"] == "failed"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def pull_back(client: BentoCloudClient, store: LocalStore, tag: str) -> dict[str, bytes]:
    shutil.rmtree(store.models)
    return tree(transfer.pull(client, tag, kind="model", store=store).path)


@pytest.mark.parametrize("threads", [1, 10])
def test_an_interrupted_push_sends_only_the_missing_parts(threads: int, sandbox: Sandbox, client: BentoCloudClient,
                                                          isolated_home: Path) -> None:
    tag = make_model(isolated_home, f"resume_{threads}", "m1", size=SIZE)
    store = LocalStore(isolated_home)
    before = tree(store.models / f"resume_{threads}" / "m1")
    journal = interrupted(client, store, tag, threads)
    archive_size = SIZE + 4096  # roughly: the tar adds headers
    done_bytes = len(journal["parts"]) * PART
    if threads == 1:
        assert 0.4 * archive_size < done_bytes < 0.7 * archive_size
    clean_stale(store, now=10**12)  # stale clean-up keeps journals
    sent_before = sandbox.blobs.received
    board = ProgressBoard()
    result = transfer.push(client, tag, kind="model", store=store, progress=board, part_size=PART,
                           part_threads=threads)
    sent = sandbox.blobs.received - sent_before
    assert result.mode == "multipart" and sent <= result.size - done_bytes + PART
    [item] = board.snapshot()
    assert f"resumed: {len(journal['parts'])} of" in item.message and item.done == result.size
    assert not journal_path(store, "model", f"resume_{threads}", "m1").exists()
    assert client.get_item("model", f"resume_{threads}", "m1")["upload_status"] == "success"
    assert pull_back(client, store, tag) == before


def test_an_upload_no_longer_accepted_starts_afresh_and_says_so(sandbox: Sandbox, client: BentoCloudClient,
                                                               isolated_home: Path) -> None:
    tag = make_model(isolated_home, "afresh", "m1", size=SIZE)
    store = LocalStore(isolated_home)
    before = tree(store.models / "afresh" / "m1")
    journal = interrupted(client, store, tag, 1)
    journal["upload_id"] = "upload-gone"
    path = journal_path(store, "model", "afresh", "m1")
    path.write_text(json.dumps(journal))
    board = ProgressBoard()
    result = transfer.push(client, tag, kind="model", store=store, progress=board, part_size=PART)
    [item] = board.snapshot()
    assert "started afresh" in item.message and result.mode == "multipart"
    assert pull_back(client, store, tag) == before


def test_a_changed_item_ignores_the_journal(sandbox: Sandbox, client: BentoCloudClient, isolated_home: Path) -> None:
    tag = make_model(isolated_home, "changed", "m1", size=SIZE)
    store = LocalStore(isolated_home)
    interrupted(client, store, tag, 1)
    weights = store.models / "changed" / "m1" / "saved_model.pkl"
    weights.write_bytes(weights.read_bytes()[::-1])
    before, sent_before = tree(store.models / "changed" / "m1"), sandbox.blobs.received
    result = transfer.push(client, tag, kind="model", store=store, part_size=PART)
    assert sandbox.blobs.received - sent_before == result.size
    assert pull_back(client, store, tag) == before


def test_a_lost_part_is_never_marked_successful(sandbox: Sandbox, client: BentoCloudClient,
                                                isolated_home: Path) -> None:
    tag = make_model(isolated_home, "lost", "m1", size=SIZE)
    store = LocalStore(isolated_home)
    journal = interrupted(client, store, tag, 1)
    journal["parts"]["1"] = '"0000"'  # a part BentoCloud does not have under that ETag
    path = journal_path(store, "model", "lost", "m1")
    path.write_text(json.dumps(journal))
    with pytest.raises(ValidationError, match="InvalidPart"):
        transfer.push(client, tag, kind="model", store=store, part_size=PART)
    assert client.get_item("model", "lost", "m1")["upload_status"] == "failed"
    assert not path.exists()  # so the next push starts afresh, and succeeds
    assert transfer.push(client, tag, kind="model", store=store, part_size=PART).mode == "multipart"
    assert client.get_item("model", "lost", "m1")["upload_status"] == "success"


def test_a_failed_part_is_retried_alone(client: BentoCloudClient, isolated_home: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    tag = make_model(isolated_home, "flaky", "m1", size=SIZE)
    store = LocalStore(isolated_home)
    real, calls = client.storage_put, []

    def flaky(url: str, chunks: Any, size: int) -> str:
        calls.append(url.split("/parts/")[1].split("?")[0])
        if len(calls) == 3:
            list(chunks)
            raise ConnectError("The connection broke; try again.")
        return real(url, chunks, size)

    monkeypatch.setattr(client, "storage_put", flaky)
    before = tree(store.models / "flaky" / "m1")
    board = ProgressBoard()
    result = transfer.push(client, tag, kind="model", store=store, part_size=PART, part_threads=1, progress=board)
    count = -(-result.size // PART)
    assert len(calls) == count + 1 and calls[2] == calls[3]
    assert board.snapshot()[0].done == result.size
    assert pull_back(client, store, tag) == before
