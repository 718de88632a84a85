"""Build a bento from a project folder with the ``bentoml`` CLI, streaming its output.

Only building needs ``bentoml`` (it imports the user's service); everything else here works without
it. The build runs in a subprocess of the kernel's own Python, so the project's dependencies are the
kernel's, and its output appears line by line under the cell.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["BENTOML_NEEDED", "bentoml_installed", "build_bento", "is_project_folder"]

BENTOML_NEEDED = ("Building a project folder needs bentoml in this kernel's environment: pip install bentoml "
                  "(then restart the kernel), or build elsewhere and deploy by tag.")
# A bare bento (no archive of the files: a codespace syncs them itself), as ``bentoml code`` builds it.
# bentoml keeps no bare bento in its store, so its bento.yaml is written to the folder named third.
_BARE = ("import json, os, sys, bentoml\n"
         "b = bentoml.bentos.build_bentofile(build_ctx=sys.argv[1], bare=True, args=json.loads(sys.argv[2]) or None)\n"
         "f = open(os.path.join(sys.argv[3], 'bento.yaml'), 'w')\n"
         "b.info.dump(f)\n"
         "f.close()\n"
         "print(f'__tag__:{b.tag}')\n")

_BUILT = re.compile(r'Bento\(tag="([^"]+)"\)|__tag__:(\S+)')


def is_project_folder(value: str) -> bool:
    """True for a folder that ``bentoml build`` can build (a ``bentofile.yaml`` or a ``service.py``)."""
    try:
        path = Path(value).expanduser()
        return path.is_dir() and any((path / name).exists() for name in ("bentofile.yaml", "service.py",
                                                                           "pyproject.toml"))
    except (OSError, ValueError):  # a name too long for the file system, a NUL byte: not a folder
        return False


def bentoml_installed() -> bool:
    return importlib.util.find_spec("bentoml") is not None


def build_bento(path: str, echo: Callable[[str], None] = print, *, bare: bool = False,
                args: Mapping[str, Any] | None = None, info_dir: str | None = None) -> str:
    """Run ``bentoml build PATH``; the built tag. ``bare``: a bare bento for a codespace (bento ``args``), not
    kept in the store: its ``bento.yaml`` is written into ``info_dir`` for the bare push.

    Raises:
        InvalidInputError: ``bentoml`` is not installed here, or the build failed (its last lines quoted).
    """
    if not bentoml_installed():
        raise InvalidInputError(BENTOML_NEEDED)
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": os.environ.get("BENTOML_DO_NOT_TRACK", "True")}
    folder = str(Path(path).expanduser())
    command = [sys.executable, "-c", _BARE, folder, json.dumps(dict(args or {})), info_dir or "."] if bare else \
        [sys.executable, "-m", "bentoml", "build", folder]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,  # noqa: S603 - fixed argv, no shell
                               cwd=str(Path(path).expanduser()))
    assert process.stdout is not None
    tag: str | None = None
    tail: list[str] = []
    for line in process.stdout:
        echo(line.rstrip("\n"))
        tail = [*tail[-9:], line.rstrip()]
        found = _BUILT.search(line)
        if found:
            tag = found.group(1) or found.group(2)
    if process.wait() != 0 or tag is None:
        detail = " | ".join(t for t in tail if t.strip())[-400:]
        if bare and "bentoml_bento_" in detail and "/src" in detail:  # bentoml locks packages in a folder a bare
            raise InvalidInputError("bentoml could not lock the packages of a bare bento for the codespace; set "
                                    "`python: {lock_packages: false}` in bentofile.yaml (the codespace installs "
                                    "its requirements.txt itself) and run code again.")
        what = "a bare bento of" if bare else "bentoml build"
        raise InvalidInputError(f"`{what} {path}` failed (exit {process.returncode}): {detail}")
    return tag
