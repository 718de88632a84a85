"""What we push with parallel parts, and what we resume after an interrupt, `bentoml models pull` gets back
byte for byte (a model made by the real bentoml, multipart mode, many small parts)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support import make_sandbox_fixture, tree

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.journal import journal_path
from bentocloud_jupyter.core.artifacts.progress import ProgressBoard
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.sandbox import Sandbox

PART = 64 * 1024
MAKE_MODEL = textwrap.dedent('''
    import os, bentoml
    with bentoml.models.create("parallel_weights") as model:
        with open(model.path_of("weights.bin"), "wb") as handle:
            handle.write(os.urandom(900_000))
    print(model.tag)
''')

sandbox = make_sandbox_fixture(scope="function")


def bentoml_run(args: list[str], home: Path, sandbox: Sandbox | None = None) -> str:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", "HOME": str(home.parent)}
    if sandbox is not None:
        env.update(BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url)
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


class StopAt60(ProgressBoard):
    def advance(self, label: str, nbytes: int) -> None:
        super().advance(label, nbytes)
        item = next(i for i in self.snapshot() if i.label == label)
        if item.total and item.done >= 0.6 * item.total:
            raise KeyboardInterrupt


def pulled_by_bentoml(sandbox: Sandbox, tag: str, home: Path) -> dict[str, bytes]:
    bentoml_run(["-m", "bentoml", "models", "pull", tag], home, sandbox)
    name, version = tag.split(":")
    return tree(home / "models" / name / version)


@pytest.mark.parametrize("resumed", [False, True])
def test_bentoml_pulls_back_what_we_pushed_in_parallel_or_resumed(resumed: bool, sandbox: Sandbox,
                                                                   isolated_home: Path) -> None:
    sandbox.transfer_mode = "multipart"
    tag = bentoml_run(["-c", MAKE_MODEL], isolated_home).strip().splitlines()[-1]
    name, version = tag.split(":")
    original = tree(isolated_home / "models" / name / version)
    store = LocalStore(isolated_home)
    with BentoCloudClient(sandbox.url, sandbox.token) as client:
        if resumed:
            with pytest.raises(KeyboardInterrupt):
                transfer.push(client, tag, kind="model", store=store, part_size=PART, part_threads=1,
                              progress=StopAt60())
            assert journal_path(store, "model", name, version).is_file()
        board = ProgressBoard()
        result = transfer.push(client, tag, kind="model", store=store, part_size=PART, progress=board)
        assert result.mode == "multipart" and client.get_item("model", name, version)["upload_status"] == "success"
        assert ("resumed:" in board.snapshot()[0].message) == resumed
    assert pulled_by_bentoml(sandbox, tag, isolated_home.parent / f"fresh-{resumed}") == original
