"""Importing our core (and the package itself) stays light: no Jupyter stack, no bentoml, no sandbox."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("IPython", "ipywidgets", "traitlets", "bentoml", "starlette", "uvicorn", "ipykernel")


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


@pytest.mark.parametrize("module", [
    "bentocloud_jupyter",
    "bentocloud_jupyter.core.credentials.config",
    "bentocloud_jupyter.core.tokens",
    "bentocloud_jupyter.core.errors",
])
def test_import_pulls_in_nothing_heavy(module: str) -> None:
    loaded = _modules_after(f"import {module}")
    assert module in loaded
    heavy = sorted(name for name in loaded if name.split(".")[0] in HEAVY)
    assert heavy == []
