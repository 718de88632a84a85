"""Push and pull interoperate with bentoml: a bento and a model built by the real bentoml, pushed by us and
pulled by bentoml (and the other way round), byte for byte; and `bentoml build` + `%deploy PATH`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import make_sandbox_fixture, tree

from bentocloud_jupyter.core.artifacts import transfer
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.sandbox import Sandbox

SERVICE = textwrap.dedent('''
    import bentoml

    @bentoml.service
    class Echo:
        weights = bentoml.models.BentoModel("tiny_weights:latest")

        @bentoml.api
        def echo(self, text: str) -> str:
            return text
''')
BENTOFILE = 'service: "service:Echo"\ninclude:\n  - "*.py"\n'
MAKE_MODEL = textwrap.dedent('''
    import bentoml
    with bentoml.models.create("tiny_weights") as model:
        with open(model.path_of("weights.bin"), "wb") as handle:
            handle.write(bytes(range(256)) * 512)
    print(model.tag)
''')


def bentoml_run(args: list[str], home: Path, sandbox: Sandbox | None = None, cwd: Path | None = None) -> str:
    env = {**os.environ, "BENTOML_HOME": str(home), "BENTOML_DO_NOT_TRACK": "True", "HOME": str(home.parent)}
    if sandbox is not None:
        env.update(BENTO_CLOUD_API_KEY=sandbox.token, BENTO_CLOUD_API_ENDPOINT=sandbox.url)
    done = subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    """A bento (with one model) built by real bentoml into a module-wide store; yields (home, bento, model)."""
    root = tmp_path_factory.mktemp("built")
    home, project = root / "bentoml-home", root / "project"
    project.mkdir()
    (project / "service.py").write_text(SERVICE)
    (project / "bentofile.yaml").write_text(BENTOFILE)
    model = bentoml_run(["-c", MAKE_MODEL], home).strip().splitlines()[-1]
    out = bentoml_run(["-m", "bentoml", "build", str(project)], home, cwd=project)
    bento = next(line.split('tag="')[1].split('"')[0] for line in out.splitlines() if 'Bento(tag="' in line)
    yield home, bento, model


sandbox = make_sandbox_fixture(scope="function")


def copy_store(source: Path, target: Path) -> None:
    shutil.copytree(source / "bentos", target / "bentos")
    shutil.copytree(source / "models", target / "models")


@pytest.mark.parametrize("mode", ["proxy", "presigned", "multipart"])
def test_we_push_bentoml_pulls(mode: str, built: tuple[Path, str, str], sandbox: Sandbox,
                               isolated_home: Path) -> None:
    home, bento, model = built
    copy_store(home, isolated_home)
    sandbox.transfer_mode = mode
    name, version = bento.split(":")
    original = tree(isolated_home / "bentos" / name / version)
    with BentoCloudClient(sandbox.url, sandbox.token) as client:
        result = transfer.push(client, bento, store=LocalStore(isolated_home), part_size=64 * 1024)
    assert result.mode == mode and [m.tag for m in result.models] == [model]
    fresh = isolated_home.parent / f"fresh-{mode}"
    bentoml_run(["-m", "bentoml", "pull", bento, "--with-models"], fresh, sandbox)
    pulled = tree(fresh / "bentos" / name / version)
    assert {k: v for k, v in pulled.items() if not k.startswith("models/")} == \
        {k: v for k, v in original.items() if not k.startswith("models/")}
    model_name, model_version = model.split(":")
    assert tree(fresh / "models" / model_name / model_version) == tree(home / "models" / model_name / model_version)


@pytest.mark.parametrize("mode", ["proxy", "multipart"])
def test_bentoml_pushes_we_pull(mode: str, built: tuple[Path, str, str], sandbox: Sandbox,
                                isolated_home: Path) -> None:
    home, bento, model = built
    sandbox.transfer_mode = mode
    bentoml_run(["-m", "bentoml", "push", bento], home, sandbox)
    with BentoCloudClient(sandbox.url, sandbox.token) as client:
        pulled = transfer.pull(client, bento, store=LocalStore(isolated_home))
    name, version = bento.split(":")
    ours = tree(pulled.path)
    theirs = tree(home / "bentos" / name / version)
    assert {k: v for k, v in ours.items() if not k.startswith("models/")} == \
        {k: v for k, v in theirs.items() if not k.startswith("models/")}
    model_name, model_version = model.split(":")
    assert tree(isolated_home / "models" / model_name / model_version) == \
        tree(home / "models" / model_name / model_version)


def test_bentoml_lists_what_we_pulled(built: tuple[Path, str, str], sandbox: Sandbox, isolated_home: Path) -> None:
    home, bento, _ = built
    copy_store(home, isolated_home / "pusher")
    with BentoCloudClient(sandbox.url, sandbox.token) as client:
        transfer.push(client, bento, store=LocalStore(isolated_home / "pusher"))
        transfer.pull(client, bento, store=LocalStore(isolated_home))
    listing = bentoml_run(["-m", "bentoml", "list", "-o", "json"], isolated_home)
    assert bento in listing


def test_build_and_deploy_a_project_folder(built: tuple[Path, str, str], sandbox: Sandbox,
                                           isolated_home: Path, tmp_path: Path) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    home, _, _ = built
    shutil.copytree(home / "models", isolated_home / "models")  # the service needs its model to build
    project = tmp_path / "project"
    project.mkdir()
    (project / "service.py").write_text(SERVICE)
    (project / "bentofile.yaml").write_text(BENTOFILE)
    auth.login(sandbox.url, sandbox.token, "sbx")
    config.set_current_context("sbx")
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "bentocloud_jupyter")
    try:
        result = shell.run_cell(f"%deploy {project} -n from-folder --wait --timeout 60")
        assert result.error_in_exec is None, result.error_in_exec
        assert "running" in repr(result.result) and "echo:" in repr(result.result)
    finally:
        shell.run_line_magic("unload_ext", "bentocloud_jupyter")
