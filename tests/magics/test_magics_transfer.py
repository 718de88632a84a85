"""%bentocloud push / pull / bentos / models through the shell, and %deploy of a local-only bento."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from IPython.core.error import UsageError
from magics_helpers import Cell
from support import make_bento, make_model, tree


def test_push_pull_and_listings(logged_in: Cell, isolated_home: Path) -> None:
    model = make_model(isolated_home, "magic_model", "m1")
    bento = make_bento(isolated_home, "magic-bento", "b1", models=(model,))
    original = tree(isolated_home / "bentos" / "magic-bento" / "b1", skip="models")
    pushed = logged_in(f"%bentocloud push {bento}")
    assert pushed.error is None, pushed.stderr
    assert "magic_model:m1" in pushed.text and "proxy" in pushed.text
    assert "pushed (proxy" in pushed.stdout  # the text progress lines
    bentos = logged_in("%bentocloud bentos")
    assert "magic-bento:b1" in bentos.text and "success" in bentos.text
    assert "magic_model:m1" in logged_in("%bentocloud models").text
    assert "skipped" in logged_in(f"%bentocloud push {bento}").text
    shutil.rmtree(isolated_home / "bentos")
    pulled = logged_in("%bentocloud pull magic-bento")
    assert pulled.error is None, pulled.stderr
    assert tree(isolated_home / "bentos" / "magic-bento" / "b1") == original
    out = isolated_home.parent / "export.tar"
    assert logged_in(f"%bentocloud pull magic_model:m1 --output {out}").error is None and out.stat().st_size > 0


def test_push_and_pull_failures_are_one_line(logged_in: Cell) -> None:
    for line in ("%bentocloud push nothing:here", "%bentocloud pull nothing:here", "%bentocloud push"):
        run = logged_in(line)
        assert isinstance(run.error, UsageError) and "Traceback" not in run.stderr


def test_deploy_a_bento_that_is_only_local_pushes_it_first(logged_in: Cell, isolated_home: Path) -> None:
    bento = make_bento(isolated_home, "local-only", "b1", service="LocalOnly")
    run = logged_in(f"%deploy {bento} -n from-local --wait --timeout 30")
    assert run.error is None, run.stderr
    assert "running" in run.text
    assert json.loads(logged_in("%bentocloud get from-local -o json").text)["bento"] == "local-only:b1"


def test_deploy_a_project_folder_without_bentoml_says_what_to_install(logged_in: Cell, tmp_path: Path) -> None:
    import importlib.util

    import pytest

    if importlib.util.find_spec("bentoml") is not None:
        pytest.skip("bentoml is installed here; tests/compat builds a folder with it for real")
    (tmp_path / "service.py").write_text("import bentoml\n")
    run = logged_in(f"%deploy {tmp_path} -n from-folder")
    assert isinstance(run.error, UsageError) and "pip install bentoml" in run.stderr
