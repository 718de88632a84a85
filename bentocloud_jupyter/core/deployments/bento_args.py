"""Bento arguments (``--arg KEY=VALUE``, ``--arg-file FILE``) and a deployment config given as YAML text.

``bentoml deploy/apply/deployment update`` take these flags, but they never reach the deployment's request
body: bentoml hands them to the build of a project folder (they become the bento's ``args``, read by
``bentoml.use_arguments()``). A bento that is built already keeps the arguments it was built with, so
there they change nothing (bentoml says nothing; we say so in the result's note).

Differences from bentoml, where it would surprise: ``--arg a=1,b=2`` gives two arguments as its help
promises (bentoml keeps ``1,b=2`` as one value) while ``--arg models=x,y`` keeps its comma (the part after a
comma starts a new pair only when it reads ``KEY=``); an ``--arg`` wins over the same key in ``--arg-file``
whatever the order on the line; a malformed item, a missing file or a file that is no mapping is one line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["load_config_text", "parse_bento_args", "read_yaml_mapping"]

_PAIR_START = re.compile(r",(?=[A-Za-z_][-.\w]*=)")
_KEY = re.compile(r"^[A-Za-z_][-.\w]*$")


def _pairs(item: object) -> list[tuple[str, str]]:
    if not isinstance(item, str):
        raise InvalidInputError(f"--arg expects text such as key=value, not {type(item).__name__}")
    out = []
    for part in _PAIR_START.split(item):
        key, sep, value = part.partition("=")
        if not sep or not _KEY.match(key.strip()):
            raise InvalidInputError(f"--arg {item!r} is not KEY=VALUE (a name, '=', then the value); "
                                    "use --arg key=value, or key1=v1,key2=v2")
        if any(ord(ch) < 32 and ch not in "\t" for ch in value):
            raise InvalidInputError(f"--arg {key.strip()}: its value holds a control character (a NUL, a newline); "
                                    "put such values in an --arg-file")
        out.append((key.strip(), value))
    return out


def _yaml_error(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return f"is not valid YAML{at}: {getattr(exc, 'problem', None) or exc}"


def read_yaml_mapping(path: str, flag: str) -> dict[str, Any]:
    """The YAML mapping in ``path`` (``~`` and ``$VARS`` expanded).

    Raises:
        InvalidInputError: a missing or unreadable file, bad YAML, or anything but a mapping (one line each).
    """
    where = os.path.expandvars(os.path.expanduser(path))
    try:
        with open(where, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except FileNotFoundError:
        raise InvalidInputError(f"{flag} {path} does not exist (relative paths start at {os.getcwd()}); "
                                "check the path") from None
    except (OSError, ValueError) as exc:  # a folder, no permission, a NUL in the path, not UTF-8
        raise InvalidInputError(f"cannot read {flag} {path} ({type(exc).__name__}); it must be a readable "
                                "UTF-8 file") from None
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{flag} {path} {_yaml_error(exc)}; fix the file and retry") from None
    except RecursionError:  # hostile nesting: one line, not a traceback
        raise InvalidInputError(f"{flag} {path} nests too deeply to be a config; fix the file and retry") from None
    if not isinstance(data, dict):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        raise InvalidInputError(f"{flag} {path} must hold a mapping such as `key: value`; it holds {kind}")
    return {str(key): value for key, value in data.items()}


def parse_bento_args(args: Iterable[str] | None = (), arg_file: str | None = None) -> dict[str, Any]:
    """``--arg``/``--arg-file`` as one mapping; an ``--arg`` wins over the file's value of the same key.

    Raises:
        InvalidInputError: an item that is not ``KEY=VALUE``, or a bad ``--arg-file`` (one line, nothing sent).
    """
    items = (args,) if isinstance(args, str) else tuple(args or ())
    if arg_file is not None and not isinstance(arg_file, (str, os.PathLike)):
        raise InvalidInputError(f"--arg-file expects the path of a YAML file, not {type(arg_file).__name__}")
    out = read_yaml_mapping(os.fspath(arg_file), "--arg-file") if arg_file else {}
    for item in items:
        out.update(_pairs(item))
    return out


def load_config_text(text: str, where: str = "the %%deploy cell") -> dict[str, Any]:
    """A deployment config written as YAML text (the body of a ``%%deploy`` cell) as a fresh mapping.

    Raises:
        InvalidInputError: bad YAML (with line and column) or anything but a mapping.
    """
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InvalidInputError(f"{where} {_yaml_error(exc)}; fix it and run the cell again") from None
    except RecursionError:  # hostile nesting: one line, not a traceback
        raise InvalidInputError(f"{where} nests too deeply to be a deployment config; fix it") from None
    if not isinstance(data, Mapping):
        kind = "nothing" if data is None else f"a {type(data).__name__}"
        raise InvalidInputError(f"{where} must be a deployment config in YAML, a mapping such as "
                                f"`bento: summarizer:v3`; it holds {kind}")
    return {str(key): value for key, value in data.items()}
