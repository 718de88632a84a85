"""Importing our core (and the package itself) stays light: no Jupyter stack, no bentoml, no sandbox; and
the front end never needs bentoml. Every module is imported alone in a fresh interpreter, so one module's
import cannot hide behind another's."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import pytest

import bentocloud_jupyter.core
import bentocloud_jupyter.ipython
import bentocloud_jupyter.widgets

HEAVY = ("IPython", "ipywidgets", "traitlets", "bentoml", "starlette", "uvicorn", "ipykernel")
JUPYTER_AND_BENTOML = ("IPython", "ipywidgets", "traitlets", "bentoml")


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _every_module(package: object) -> list[str]:
    """The package itself and every module below it, found on disk (pkgutil), subpackages included."""
    name: str = package.__name__  # type: ignore[attr-defined]
    path: list[str] = package.__path__  # type: ignore[attr-defined]
    return [name, *sorted(info.name for info in pkgutil.walk_packages(path, f"{name}."))]


def _heavy(module: str, families: tuple[str, ...]) -> list[str]:
    loaded = _modules_after(f"import {module}")
    assert module in loaded
    return sorted(name for name in loaded if name.split(".")[0] in families)


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


@pytest.mark.parametrize("module", _every_module(bentocloud_jupyter.core))
def test_every_core_module_is_free_of_jupyter_and_bentoml(module: str) -> None:
    assert _heavy(module, JUPYTER_AND_BENTOML) == []


FRONT_END = _every_module(bentocloud_jupyter.ipython) + _every_module(bentocloud_jupyter.widgets)


@pytest.mark.parametrize("module", FRONT_END)
def test_front_end_modules_need_no_bentoml(module: str) -> None:
    assert _heavy(module, ("bentoml",)) == []


def test_the_walk_finds_nested_modules() -> None:
    """The parametrization above is only as good as the walk: it must reach modules in subpackages."""
    found = _every_module(bentocloud_jupyter.core)
    assert "bentocloud_jupyter.core.rest.http" in found and "bentocloud_jupyter.core.credentials.config" in found
