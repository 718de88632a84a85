"""`%load_ext bentocloud_jupyter` stays light: no HTTP client, YAML, websockets, asyncio or core client at load.

Each check runs a fresh interpreter that starts IPython's ``InteractiveShell`` (the bare shell's own
modules are the baseline, so only what we add counts), loads the extension, runs ``%bentocloud help``
and completes ``%bentocloud u``; the first magic that talks to BentoCloud loads the heavy parts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

# Modules that loading, help and subcommand completion must not add. Prefix match: "httpx" covers "httpx._api".
HEAVY = (
    "httpx", "httpcore", "h11", "anyio", "certifi", "idna", "ssl", "click", "yaml", "websockets",
    "tarfile", "asyncio", "concurrent.futures",
    "bentocloud_jupyter.core.rest.client", "bentocloud_jupyter.core.rest.http",
    "bentocloud_jupyter.core.rest.session", "bentocloud_jupyter.core.api",
    "bentocloud_jupyter.core.logs.protocol", "bentocloud_jupyter.core.logs.follow",
    "bentocloud_jupyter.core.deployments.watch", "bentocloud_jupyter.core.artifacts",
    "bentocloud_jupyter.core.calls",
)

PROBE = """\
import json, sys
from IPython.core.completer import provisionalcompleter
from IPython.core.interactiveshell import InteractiveShell

shell = InteractiveShell.instance()
bare = set(sys.modules)
steps = {}
shell.run_line_magic("load_ext", "bentocloud_jupyter")
steps["load"] = sorted(set(sys.modules) - bare)
help_result = shell.run_line_magic("bentocloud", "help")
steps["help"] = sorted(set(sys.modules) - bare)
with provisionalcompleter():
    completions = [c.text for c in shell.Completer.completions("%bentocloud u", len("%bentocloud u"))]
steps["complete"] = sorted(set(sys.modules) - bare)
print(json.dumps({"steps": steps, "help": repr(help_result), "completions": completions}))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One fresh interpreter for the module, with its own HOME and BENTOML_HOME, and no cloud variables."""
    root = tmp_path_factory.mktemp("load-light")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("BENTO_CLOUD_", "BENTOML_"))}
    env.update(HOME=str(root), BENTOML_HOME=str(root / "bentoml"), BENTOML_DO_NOT_TRACK="True")
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, cwd=root,
                         timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def heavy_in(modules: list[str]) -> list[str]:
    """The entries of HEAVY that ``modules`` holds (the module itself or one under it)."""
    return [h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in modules)]


def test_load_ext_imports_nothing_heavy(probe: dict[str, Any]) -> None:
    added = probe["steps"]["load"]
    assert "bentocloud_jupyter.ipython.magics" in added
    assert heavy_in(added) == []


def test_help_imports_nothing_heavy(probe: dict[str, Any]) -> None:
    assert "use" in probe["help"] and "deployments" in probe["help"]
    assert heavy_in(probe["steps"]["help"]) == []


def test_subcommand_completion_works_and_stays_light(probe: dict[str, Any]) -> None:
    assert "use" in probe["completions"]
    assert heavy_in(probe["steps"]["complete"]) == []
