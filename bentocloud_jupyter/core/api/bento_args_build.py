"""Bento arguments handed to the build of a project folder, as ``bentoml deploy PATH --arg ...`` does.

The arguments go to ``bentoml build PATH --arg-file F`` (a private temporary YAML file, so values keep
their YAML types and never show in a process listing); the built ``name:version`` then goes through the
usual resolution (pushed when only local). A bento tag is built already: its arguments are the ones it was
built with, so the result says the ``--arg`` changed nothing (bentoml ignores them without a word).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.artifacts.build import is_project_folder
from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["build_with_args", "prebuild", "unused_args_note"]

_BUILT_TAG = re.compile(r'Bento\(tag="([^"]+)"\)|__tag__:(\S+)')


def _run_build(command: list[str], cwd: str, echo: Callable[[str], None]) -> tuple[int, str | None, list[str]]:
    env = {**os.environ, "BENTOML_DO_NOT_TRACK": os.environ.get("BENTOML_DO_NOT_TRACK", "True")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,  # noqa: S603
                               env=env, cwd=cwd)  # a fixed argv, no shell
    assert process.stdout is not None
    tag: str | None = None
    tail: list[str] = []
    for line in process.stdout:
        echo(line.rstrip("\n"))
        tail = [*tail[-9:], line.rstrip()]
        found = _BUILT_TAG.search(line)
        tag = (found.group(1) or found.group(2)) if found else tag
    return process.wait(), tag, tail


def build_with_args(path: str, args: Mapping[str, Any], echo: Callable[[str], None] = print) -> str:
    """``bentoml build PATH`` with bento arguments; returns the built tag.

    Raises:
        InvalidInputError: no ``bentoml`` here, or the build failed (its last lines quoted).
    """
    import importlib.util

    if importlib.util.find_spec("bentoml") is None:
        raise InvalidInputError("Building a project folder needs bentoml in this kernel's environment: pip install "
                                "bentoml (then restart the kernel), or build elsewhere and deploy by tag.")
    folder = str(Path(path).expanduser())
    handle, arg_file = tempfile.mkstemp(prefix="bento-args-", suffix=".yaml")  # 0600
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            yaml.safe_dump(dict(args), out, sort_keys=False, allow_unicode=True)
        code, tag, tail = _run_build([sys.executable, "-m", "bentoml", "build", folder, "--arg-file", arg_file],
                                     folder, echo)
    finally:
        os.unlink(arg_file)
    if code != 0 or tag is None:
        detail = " | ".join(t for t in tail if t.strip())[-400:]
        raise InvalidInputError(f"`bentoml build {path}` with --arg failed (exit {code}): {detail}")
    return tag


def prebuild(tag: str, args: Mapping[str, Any]) -> str:
    """``tag`` itself, or, for a project folder given bento arguments, the tag built with them."""
    return build_with_args(tag, args) if args and tag and is_project_folder(tag) else tag


def unused_args_note(tag: str, args: Mapping[str, Any]) -> str:
    """The note of a deploy whose ``--arg`` could not apply (the bento was built already), else ''."""
    if not args or (tag and is_project_folder(tag)):
        return ""
    return (f"--arg {', '.join(args)}: bento arguments apply when building a project folder; {tag} is built "
            "already and keeps the arguments it was built with (nothing of them is sent with the deployment).")
