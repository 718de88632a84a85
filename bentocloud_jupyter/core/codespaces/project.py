"""A project folder as ``bentoml code`` sees it: its build config and the files it would upload.

Ignore rules follow the bentofile's ``include``/``exclude`` and every ``.bentoignore`` (gitwildmatch, the
common cases), plus the folders bentoml always leaves out. Links are never followed out of the project: a
link to a file inside it is read, one pointing elsewhere (or a linked folder) is skipped and named.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.errors import InvalidInputError

if sys.version_info >= (3, 11):
    import tomllib

__all__ = ["ALWAYS_IGNORED", "BUILD_FILES", "BuildConfig", "Patterns", "ProjectFiles", "check_project",
           "project_files", "read_config"]

BUILD_FILES = ("bentofile.yaml", "pyproject.toml")
"""Uploaded whatever the include rules say (bentoml's DEFAULT_BENTO_BUILD_FILES)."""
ALWAYS_IGNORED = (".git/", ".venv/", "venv/", "__pycache__/", ".DS_Store", ".ipynb_checkpoints/", "*.pyc")
IGNORE_FILE = ".bentoignore"
Matcher = Callable[[str], "re.Match[str] | None"]


class Patterns:
    """gitwildmatch patterns, the common cases: ``name`` at any depth, ``/anchored``, ``dir/``, ``!negated``."""

    def __init__(self, lines: Iterable[str]) -> None:
        self.rules: list[tuple[bool, Matcher, bool, bool]] = []  # (negated, glob, anchored, directory only)
        for raw in lines:
            line = str(raw).strip()
            if not line or line.startswith("#"):
                continue
            negated = line.startswith("!")
            line = line[1:] if negated else line
            directory = line.endswith("/")
            line = line.strip("/") if directory else line
            anchored = line.startswith("/") or "/" in line
            glob = line.lstrip("/").replace("**/", "*").replace("/**", "/*")
            self.rules.append((negated, re.compile(fnmatch.translate(glob)).match, anchored, directory))

    def matches(self, path: str) -> bool:
        """Whether the last matching rule selects ``path`` (a POSIX path relative to the patterns' folder)."""
        parts = path.split("/")
        found = False
        for negated, glob, anchored, directory in self.rules:
            if self._hit(parts, glob, anchored, directory):
                found = not negated
        return found

    @staticmethod
    def _hit(parts: list[str], glob: Matcher, anchored: bool, directory: bool) -> bool:
        if anchored:
            prefixes = ("/".join(parts[:i]) for i in range(1, len(parts) + (0 if directory else 1)))
            return any(glob(p) for p in prefixes)
        names = parts[:-1] if directory else parts
        return any(glob(name) for name in names)


@dataclass(frozen=True)
class BuildConfig:
    """What the bentofile says about files and dependencies (the parts a codespace needs)."""

    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    requirements_txt: str | None = None
    system_packages: tuple[str, ...] = ()
    setup_script: str | None = None
    service: str = ""


def _texts(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise InvalidInputError(f"the bentofile has {value!r} where a list of text belongs; fix the bentofile")


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key) or {}
    return value if isinstance(value, Mapping) else {}


def _bentofile(root: Path) -> Mapping[str, Any]:
    path = root / "bentofile.yaml"
    if path.is_file():
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, UnicodeError, yaml.YAMLError) as exc:
            raise InvalidInputError(f"{path} cannot be read as YAML ({type(exc).__name__}); fix it and retry.") \
                from None
        return raw if isinstance(raw, Mapping) else {}
    return _pyproject_build(root)


def _pyproject_build(root: Path) -> Mapping[str, Any]:
    """``[tool.bentoml.build]`` of pyproject.toml (on Python 3.10, without tomllib, the defaults)."""
    if sys.version_info >= (3, 11):
        try:
            data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeError, tomllib.TOMLDecodeError):
            return {}
        return _section(_section(_section(data, "tool"), "bentoml"), "build")
    return {}


def read_config(root: Path) -> BuildConfig:
    """The build config of ``root`` (bentofile.yaml, else pyproject's ``[tool.bentoml.build]``).

    Raises:
        InvalidInputError: the bentofile is not readable YAML, or has the wrong shape.
    """
    raw = _bentofile(root)
    python, docker = _section(raw, "python"), _section(raw, "docker")
    requirements, script = python.get("requirements_txt"), docker.get("setup_script")
    return BuildConfig(_texts(raw.get("include")) or ("*",), _texts(raw.get("exclude")),
                       _texts(python.get("packages")), requirements if isinstance(requirements, str) else None,
                       _texts(docker.get("system_packages")), script if isinstance(script, str) else None,
                       str(raw.get("service") or ""))


def check_project(path: str | os.PathLike[str]) -> Path:
    """The resolved folder of a BentoML project (a bentofile.yaml, a pyproject.toml or a service.py in it).

    Raises:
        InvalidInputError: ``path`` is not such a folder.
    """
    try:
        root = Path(path).expanduser().resolve()
        ok = root.is_dir() and any((root / name).is_file() for name in (*BUILD_FILES, "service.py"))
    except (OSError, ValueError, RuntimeError):
        ok, root = False, Path(str(path))
    if not ok:
        raise InvalidInputError(f"{str(path)!r} is not a BentoML project folder (no bentofile.yaml, pyproject.toml "
                                "or service.py in it); give the folder that holds your service.")
    return root


@dataclass
class ProjectFiles:
    """The files to upload (relative POSIX path -> real path) and the links skipped because they lead out."""

    root: Path
    files: dict[str, Path] = field(default_factory=dict)
    skipped_links: list[str] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders ("dir/"; "" the root) the walk could not list


def _inside(root: Path, path: Path) -> bool:
    try:
        return path.resolve().is_relative_to(root)
    except (OSError, RuntimeError):
        return False


def project_files(root: Path, config: BuildConfig | None = None) -> ProjectFiles:
    """Every file of the project that the build config selects (links out of the project skipped).

    One ``scandir`` per folder (the entry types come with the listing: no stat per file, which a project of
    10k files would feel on every save), folders sorted, a stack rather than recursion (any depth)."""
    config = config or read_config(root)
    include, exclude, always = Patterns(config.include), Patterns(config.exclude), Patterns(ALWAYS_IGNORED)
    found = ProjectFiles(root)
    stack: list[tuple[Path, str, list[tuple[str, Patterns]]]] = [(root, "", [])]
    while stack:
        base, rel_dir, ignores = stack.pop()
        try:
            with os.scandir(base) as listing:
                entries = sorted(listing, key=lambda e: e.name)
        except OSError:  # removed or unreadable while walking: the next change sees it
            found.unreadable.append(f"{rel_dir}/" if rel_dir else "")  # "": the root itself
            continue
        if any(e.name == IGNORE_FILE for e in entries):
            ignores = [*ignores, (rel_dir, Patterns(_lines(base / IGNORE_FILE)))]
        folders = []
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if _is_folder(entry):
                if entry.is_symlink():
                    found.skipped_links.append(rel)
                elif not always.matches(f"{entry.name}/x"):  # unanchored rules: the folders above passed
                    folders.append((base / entry.name, rel, ignores))
            elif not always.matches(entry.name) and _selected(rel, include, exclude, ignores):
                _add_file(found, root, base / entry.name, rel, entry)
        stack.extend(reversed(folders))
    return found


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _add_file(found: ProjectFiles, root: Path, path: Path, rel: str, entry: os.DirEntry[str]) -> None:
    try:
        if entry.is_symlink() and not _inside(root, path):
            found.skipped_links.append(rel)
        elif entry.is_file():
            found.files[rel] = path
    except OSError:
        return


def _selected(rel: str, include: Patterns, exclude: Patterns, ignores: list[tuple[str, Patterns]]) -> bool:
    if rel in BUILD_FILES:
        return True
    if not include.matches(rel) or exclude.matches(rel):
        return False
    return not any(spec.matches(rel[len(parent) + 1:] if parent else rel) for parent, spec in ignores
                   if not parent or rel.startswith(parent + "/"))


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeError):
        return []
