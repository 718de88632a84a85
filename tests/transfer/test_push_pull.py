"""Push and pull against the sandbox in all three transfer modes, byte for byte, and every failure."""

from __future__ import annotations

import io
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from support import make_bento, make_model, tree

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.progress import TextProgress
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.errors import APIError, BentoCloudError, InvalidInputError, NotFoundError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy
from bentocloud_jupyter.sandbox import Sandbox

MODES = ["proxy", "presigned", "multipart"]
SMALL_PARTS = 64 * 1024  # several multipart parts for a ~200 KB model


@pytest.fixture()
def client(sandbox: Sandbox) -> Iterator[BentoCloudClient]:
    sandbox.faults.reset()
    with BentoCloudClient(sandbox.url, sandbox.token, retry=RetryPolicy(max_attempts=1)) as c:
        yield c
    sandbox.faults.reset()
    sandbox.transfer_mode = "proxy"


@pytest.mark.parametrize("mode", MODES)
def test_round_trip_is_byte_for_byte(mode: str, sandbox: Sandbox, client: BentoCloudClient,
                                     isolated_home: Path) -> None:
    sandbox.transfer_mode = mode
    model = make_model(isolated_home, f"model_{mode}", "m1", size=300_000)
    bento = make_bento(isolated_home, f"bento-{mode}", "b1", models=(model,))
    store = LocalStore(isolated_home)
    before_bento = tree(store.bentos / f"bento-{mode}" / "b1", skip="models")
    before_model = tree(store.models / f"model_{mode}" / "m1")

    pushed = transfer.push(client, bento, store=store, part_size=SMALL_PARTS)
    assert pushed.mode == mode and [m.mode for m in pushed.models] == [mode]
    remote = client.get_bento(f"bento-{mode}", "b1")
    assert remote.upload_status == "success" and remote.entry_service == "Tiny"
    assert client.get_model(f"model_{mode}", "m1").upload_status == "success"

    shutil.rmtree(store.bentos)
    shutil.rmtree(store.models)
    pulled = transfer.pull(client, bento, store=store)
    assert pulled.path == store.bentos / f"bento-{mode}" / "b1" and [m.tag for m in pulled.models] == [model]
    assert tree(pulled.path) == before_bento
    assert tree(store.models / f"model_{mode}" / "m1") == before_model
    assert (store.bentos / f"bento-{mode}" / "latest").read_text() == "b1"
    assert not list(store.bentos.glob("*/.pulling-*"))


def test_already_pushed_is_skipped_unless_forced(client: BentoCloudClient, isolated_home: Path) -> None:
    bento = make_bento(isolated_home, "again", "b1")
    transfer.push(client, bento)
    assert transfer.push(client, bento).mode == "skipped"
    assert transfer.push(client, bento, force=True).mode == "proxy"


def test_model_push_and_pull_into_a_file(client: BentoCloudClient, isolated_home: Path, tmp_path: Path) -> None:
    model = make_model(isolated_home, "solo", "m1")
    assert transfer.push(client, model, kind="model").kind == "model"
    out = tmp_path / "export" / "solo.tar"
    result = transfer.pull(client, "solo", kind="model", output=out)
    with tarfile.open(out) as tar:
        assert "./model.yaml" in tar.getnames() and "./saved_model.pkl" in tar.getnames()
    assert result.path == out


def test_pull_of_an_existing_local_copy_is_skipped(client: BentoCloudClient, isolated_home: Path) -> None:
    bento = make_bento(isolated_home, "kept", "b1")
    transfer.push(client, bento)
    assert transfer.pull(client, bento).skipped


def test_progress_reports_bytes(client: BentoCloudClient, isolated_home: Path) -> None:
    out = io.StringIO()
    bento = make_bento(isolated_home, "progress", "b1", models=(make_model(isolated_home, "pm", "m1"),))
    transfer.push(client, bento, progress=TextProgress(out))
    text = out.getvalue()
    assert "model pm:m1: pushed (proxy" in text and "bento progress:b1: pushed (proxy" in text


def test_not_in_local_store_and_corrupt_metadata(client: BentoCloudClient, isolated_home: Path) -> None:
    with pytest.raises(NotFoundError) as missing:
        transfer.push(client, "nothing:here")
    assert "local store" in str(missing.value)
    bento = make_bento(isolated_home, "broken", "b1")
    (isolated_home / "bentos" / "broken" / "b1" / "bento.yaml").write_text("service: [unclosed\n")
    with pytest.raises(InvalidInputError) as corrupt:
        transfer.push(client, bento)
    assert "bento.yaml" in str(corrupt.value)


def test_missing_model_is_a_clear_error(client: BentoCloudClient, isolated_home: Path, sandbox: Sandbox) -> None:
    bento = make_bento(isolated_home, "needs-model", "b1", models=("ghost_model:v9",))
    sandbox.reset_stats()
    with pytest.raises(InvalidInputError) as info:
        transfer.push(client, bento)
    assert "ghost_model:v9" in str(info.value)
    assert "POST /api/v1/bento_repositories/{repo}/bentos" not in str(sandbox.stats()["by_route"])


@pytest.mark.parametrize("mode", ["proxy", "presigned"])
def test_interrupted_upload_is_marked_failed(mode: str, sandbox: Sandbox, client: BentoCloudClient,
                                             isolated_home: Path) -> None:
    sandbox.transfer_mode = mode
    model = make_model(isolated_home, f"cut_{mode}", "m1", size=2_000_000)
    sandbox.faults.drop_upload_after = 300_000
    with pytest.raises(BentoCloudError):
        transfer.push(client, model, kind="model")
    remote = client.get_item("model", f"cut_{mode}", "m1")
    assert remote["upload_status"] == "failed" and remote["upload_finished_reason"]


def test_presigned_url_refused(sandbox: Sandbox, client: BentoCloudClient, isolated_home: Path) -> None:
    sandbox.transfer_mode = "presigned"
    sandbox.faults.presign_forbidden = True
    model = make_model(isolated_home, "refused", "m1")
    with pytest.raises(APIError) as info:
        transfer.push(client, model, kind="model")
    assert info.value.status == 403
    assert client.get_item("model", "refused", "m1")["upload_status"] == "failed"


def _evil_archive(tmp_path: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as tar:
        for name, data in (("./bento.yaml", b"name: evil\nversion: b1\n"), ("../../escaped.txt", b"gotcha")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_archive_escaping_the_target_is_refused(sandbox: Sandbox, client: BentoCloudClient,
                                                isolated_home: Path, tmp_path: Path) -> None:
    bento = make_bento(isolated_home, "evil", "b1")
    transfer.push(client, bento)
    evil = _evil_archive(tmp_path)
    headers = {"X-YATAI-API-TOKEN": sandbox.token, "Content-Type": "application/octet-stream"}
    client.item_action("bento", "evil", "b1", "start_upload")
    assert httpx.put(f"{sandbox.url}/api/v1/bento_repositories/evil/bentos/b1/upload", content=evil,
                     headers=headers).status_code == 200
    shutil.rmtree(isolated_home / "bentos")
    with pytest.raises(InvalidInputError) as info:
        transfer.pull(client, bento)
    assert "outside its folder" in str(info.value)
    assert not (isolated_home / "bentos" / "evil" / "b1").exists()
    assert not list((isolated_home / "bentos" / "evil").glob(".pulling-*"))
    assert not list(isolated_home.rglob("escaped.txt"))


def test_pull_of_an_unknown_tag(client: BentoCloudClient) -> None:
    with pytest.raises(NotFoundError):
        transfer.pull(client, "no-such-bento:v1")


class InterruptingProgress:
    """Raises KeyboardInterrupt (what Jupyter's "interrupt kernel" does) once some bytes went out."""

    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, label: str, nbytes: int) -> None:
        raise KeyboardInterrupt

    def finish(self, label: str, message: str) -> None:
        pass

    def refresh(self, force: bool = False) -> None:
        pass


@pytest.mark.parametrize("mode", MODES)
def test_ctrl_c_marks_the_upload_failed(mode: str, sandbox: Sandbox, client: BentoCloudClient,
                                        isolated_home: Path) -> None:
    sandbox.transfer_mode = mode
    model = make_model(isolated_home, f"interrupted_{mode}", "m1", size=500_000)
    with pytest.raises(KeyboardInterrupt):
        transfer.push(client, model, kind="model", progress=InterruptingProgress(), part_size=SMALL_PARTS)
    remote = client.get_item("model", f"interrupted_{mode}", "m1")
    assert remote["upload_status"] == "failed" and "interrupted" in remote["upload_finished_reason"]
