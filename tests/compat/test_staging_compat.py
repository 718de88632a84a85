"""Issue 16, finding 4, against the real bentoml: `bentoml models list` keeps working after a pull is killed -9,
and the next pull removes what older versions left inside `models/<name>/` (which broke it).

A hostile loopback server (tests/transfer/hostile_server.py) serves a model bentoml made, stalling the first
time halfway through the download so the kill lands mid-pull.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "transfer"))  # the hostile server helper

from hostile_server import Answer, Hostile, serve_item
from support import poll

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.archive import write_archive
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.rest.client import BentoCloudClient

MAKE_MODEL = textwrap.dedent('''
    import sys
    import bentoml
    with bentoml.models.create(sys.argv[1]) as model:
        with open(model.path_of("weights.bin"), "wb") as handle:
            handle.write(bytes(range(256)) * 64)
    print(model.tag)
''')


def bentoml_cli(args: list[str], home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", "HOME": str(home.parent)}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, timeout=300)


def make_model(home: Path, name: str) -> str:
    done = bentoml_cli(["-c", MAKE_MODEL, name], home)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1]


def models_list(home: Path) -> subprocess.CompletedProcess[str]:
    return bentoml_cli(["-m", "bentoml", "models", "list"], home)


def stalling(first: bytes, release: threading.Event) -> Any:
    def stream(out: Any) -> None:
        out.write(first)
        out.flush()
        release.wait(60)
    return stream


def kill_mid_pull(hostile: Hostile, home: Path, tag: str, archive: bytes) -> None:
    """Start a pull in a child process, let it write part of the archive, then kill -9 it."""
    name, version = tag.split(":")
    release = threading.Event()
    hostile.on("GET", f"/api/v1/model_repositories/{name}/models/{version}/download",
               Answer(200, b"", {"Content-Type": "application/x-tar", "Content-Length": str(len(archive))},
                      stream=stalling(archive[: len(archive) * 2 // 3], release)))
    script = (f"from bentocloud_jupyter.core.artifacts import transfer\n"
              f"from bentocloud_jupyter.core.rest.client import BentoCloudClient\n"
              f"transfer.pull(BentoCloudClient({hostile.url!r}, 't'), {tag!r}, kind='model')\n")
    child = subprocess.Popen([sys.executable, "-c", script], env={**os.environ, "BENTOML_HOME": str(home)})
    staging = LocalStore(home).staging
    try:
        poll(lambda: [p for p in staging.glob("*/archive.tar") if p.stat().st_size > 0] if staging.is_dir() else [],
             bool, timeout=60, step=0.05, stuck=lambda _: "the child pull never started downloading")
        os.kill(child.pid, signal.SIGKILL)
        child.wait(10)
    finally:
        release.set()
        if child.poll() is None:
            child.kill()


def test_bentoml_models_list_survives_an_interrupted_pull(isolated_home: Path, tmp_path: Path) -> None:
    source = tmp_path / "source-home"
    pulled = make_model(source, "pulled_weights")
    kept = make_model(isolated_home, "kept_weights")
    name, version = pulled.split(":")
    tar = write_archive(source / "models" / name / version, tmp_path, exclude_models=False)
    archive = tar.read_bytes() + b"\x00" * (3 << 20)  # past one 1 MiB download chunk before the stall

    with Hostile() as hostile:
        serve_item(hostile, "model", name, version, archive=archive)
        kill_mid_pull(hostile, isolated_home, pulled, archive)
        assert list(LocalStore(isolated_home).staging.iterdir())  # the dead pull's work area is still there...
        listed = models_list(isolated_home)
        assert listed.returncode == 0, listed.stderr[-2000:]  # ...where bentoml never looks
        assert kept.split(":")[0] in listed.stdout and name not in listed.stdout

        legacy = isolated_home / "models" / kept.split(":")[0] / ".pulling-oldversion"  # left before this fix
        legacy.mkdir()
        then = time.time() - 2 * 3600
        os.utime(legacy, (then, then))
        broken = models_list(isolated_home)
        assert broken.returncode != 0 and "not a valid BentoML tag" in broken.stderr

        serve_item(hostile, "model", name, version, archive=archive)
        with BentoCloudClient(hostile.url, "t") as client:
            transfer.pull(client, pulled, kind="model", store=LocalStore(isolated_home))
    assert not legacy.exists() and not list(LocalStore(isolated_home).staging.iterdir())
    listed = models_list(isolated_home)
    assert listed.returncode == 0, listed.stderr[-2000:]
    assert name in listed.stdout and kept.split(":")[0] in listed.stdout

