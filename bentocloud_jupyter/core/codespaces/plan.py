"""What one sync sends, as plain code (no I/O): the md5 difference between the project and the codespace's
listing, the generated dependency files, the syntax check, and bounded upload batches.

``bentoml code`` uploads every selected file whose md5 differs, its own ``requirements.txt`` (the project's
requirements or the bentofile's packages, plus bentoml itself), ``setup.sh`` (system packages) and
``post_setup.sh`` (the bentofile's setup script), then an empty ``.project_ready`` marker last.
"""

from __future__ import annotations

import ast
import base64
import hashlib
import importlib.metadata
import shlex
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bentocloud_jupyter.core.codespaces.listing import RemoteFile, check_path
from bentocloud_jupyter.core.codespaces.project import BuildConfig

__all__ = ["GENERATED", "MAX_BATCH", "READY_MARKER", "RESERVED_PREFIXES", "Batch", "Problem", "Source", "SyncPlan",
           "b64_size", "batches", "check_syntax", "generated_files", "iter_batches", "md5", "plan_sync", "too_big",
           "unlisted"]

MAX_BATCH = 64 * 1024 * 1024
"""Base64 characters per upload request (bentoml's limit); one file larger than this is refused."""
READY_MARKER = ".project_ready"
REQUIREMENTS, SETUP, POST_SETUP = "requirements.txt", "setup.sh", "post_setup.sh"
GENERATED = (REQUIREMENTS, SETUP, POST_SETUP)
RESERVED_PREFIXES = ("__editable_bentoml__/",)
"""Remote paths we never delete (bentoml's editable source, the marker, the generated files)."""


def md5(content: bytes) -> str:
    return hashlib.md5(content, usedforsecurity=False).hexdigest()


def b64_size(size: int) -> int:
    """Characters of base64 text for ``size`` bytes."""
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True)
class Problem:
    """A file that is not sent, and why, in one line (``line`` for a syntax error)."""

    path: str
    message: str
    line: int | None = None


def check_syntax(path: str, content: bytes) -> Problem | None:
    """A ``.py`` file that does not parse (sending it would break the running service), else None."""
    if not path.endswith(".py"):
        return None
    try:
        ast.parse(content, filename=path)
    except SyntaxError as exc:
        where = f" line {exc.lineno}" if exc.lineno else ""
        return Problem(path, f"{path}{where}: {exc.msg} (not uploaded; the codespace keeps the last good files)",
                       exc.lineno)
    except (ValueError, RecursionError, MemoryError):  # a NUL byte, nesting past the parser's limits
        return Problem(path, f"{path}: not Python the parser can read (not uploaded; the codespace keeps the "
                             "last good files)")
    return None


def _bentoml_requirement() -> str:
    try:
        return f"bentoml=={importlib.metadata.version('bentoml')}"
    except importlib.metadata.PackageNotFoundError:
        return "bentoml"


def _read(root: Path, name: str | None) -> bytes | None:
    if not name:
        return None
    path = (root / name)
    try:
        if path.resolve().is_relative_to(root) and path.is_file():
            return path.read_bytes()
    except (OSError, RuntimeError):
        return None
    return None


def generated_files(root: Path, config: BuildConfig) -> dict[str, bytes]:
    """The dependency files bentoml generates for a codespace (``post_setup.sh`` only when non-empty)."""
    requirements = _read(root, config.requirements_txt)
    text = requirements.rstrip(b"\n") + b"\n" if requirements is not None else \
        b"".join(f"{p}\n".encode() for p in config.packages)
    files = {REQUIREMENTS: text + f"{_bentoml_requirement()}\n".encode()}
    setup = b""
    if config.system_packages:
        quoted = " ".join(shlex.quote(p) for p in config.system_packages)
        setup = f"apt-get update && apt-get install -y {quoted} || exit 1\n".encode()
    files[SETUP] = setup
    post = _read(root, config.setup_script)
    if post:
        files[POST_SETUP] = post
    return files


@dataclass(frozen=True)
class Batch:
    """One upload request: ``[{"path", "b64_encoded_content"}]`` and its base64 size."""

    files: tuple[dict[str, str], ...]
    size: int

    @property
    def paths(self) -> list[str]:
        return [f["path"] for f in self.files]


def unlisted(path: str) -> Problem | None:
    """A name the codespace's listing could not give back safely (a backslash, a control character): sent,
    it would fail the whole upload or every later listing."""
    try:
        check_path(path)
    except TypeError:
        return Problem(path, f"{path!r} has a backslash or a control character in its name, which a codespace "
                             "cannot list back; not uploaded (rename it, or exclude it in bentofile.yaml)")
    return None


def too_big(path: str, size: int, limit: int = MAX_BATCH) -> Problem:
    return Problem(path, f"{path} is {size / 2**20:.1f} MiB, over the {limit / 2**20:.0f} MiB a codespace takes "
                         "per request; not uploaded (exclude it in bentofile.yaml or .bentoignore)")


def iter_batches(uploads: Iterable[tuple[str, bytes]], limit: int, problems: list[Problem]) -> Iterator[Batch]:
    """:func:`batches` one request at a time (only one batch's base64 is in memory); a file over the limit
    goes to ``problems``."""
    current: list[dict[str, str]] = []
    size = 0
    for path, content in uploads:
        encoded = b64_size(len(content))
        if encoded > limit:
            problems.append(too_big(path, len(content), limit))
            continue
        if current and size + encoded > limit:
            yield Batch(tuple(current), size)
            current, size = [], 0
        current.append({"path": path, "b64_encoded_content": base64.b64encode(content).decode("ascii")})
        size += encoded
    if current:
        yield Batch(tuple(current), size)


def batches(uploads: Sequence[tuple[str, bytes]], limit: int = MAX_BATCH) -> tuple[list[Batch], list[Problem]]:
    """Uploads in order, cut so that no request carries more than ``limit`` base64 characters; a file alone
    over the limit is not sent (a problem naming it), the others still are."""
    problems: list[Problem] = []
    return list(iter_batches(uploads, limit, problems)), problems


@dataclass
class SyncPlan:
    """One sync: uploads (path, content) in order, remote deletes, files held back, and whether the
    dependencies changed in a way that needs a new bento (the setup scripts)."""

    uploads: list[tuple[str, bytes]] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    needs_update: bool = False

    @property
    def empty(self) -> bool:
        return not self.uploads and not self.deletes


def _kept(path: str) -> bool:
    return path == READY_MARKER or path in GENERATED or path.startswith(RESERVED_PREFIXES)


@dataclass
class Source:
    """A project file known by its md5 (from a cache keyed by size and mtime), read only when it is sent."""

    path: Path
    digest: str
    content: bytes | None = None
    size: int | None = None  # from the stat: a file over the request limit is never read (nor hashed)

    def read(self) -> bytes:
        if self.content is None:
            self.content = self.path.read_bytes()
        return self.content


def plan_sync(local: Mapping[str, bytes | Source], generated: Mapping[str, bytes], remote: Sequence[RemoteFile],
              held: Sequence[str] = (), limit: int = MAX_BATCH) -> SyncPlan:
    """The difference: local files whose md5 differs (syntax errors held back), generated files that
    changed, and remote files gone locally (never a held-back one, the marker or a generated file).

    ``held`` are paths not to delete though missing from ``local`` (unreadable right now; ``dir/`` holds
    everything under it, ``""`` everything); a :class:`Source` whose size is over ``limit`` is a problem,
    never read."""
    remote_md5 = {f.path: f.md5 for f in remote}
    plan = SyncPlan()
    for path in sorted(local):
        if path in GENERATED:
            continue  # the generated requirements.txt stands in for the project's own
        item = local[path]
        refused = unlisted(path) or (too_big(path, item.size, limit) if isinstance(item, Source) and item.size
                                     is not None and b64_size(item.size) > limit else None)
        if refused is not None:
            plan.problems.append(refused)
            continue
        if remote_md5.get(path) == (item.digest if isinstance(item, Source) else md5(item)):
            continue
        try:
            content = item.read() if isinstance(item, Source) else item
        except OSError:
            continue  # gone or unreadable since it was hashed: the next change syncs it
        problem = check_syntax(path, content)
        if problem is not None:
            plan.problems.append(problem)
        else:
            plan.uploads.append((path, content))
    for path, content in generated.items():
        if remote_md5.get(path) != md5(content):
            plan.uploads.append((path, content))
            plan.needs_update |= path in (SETUP, POST_SETUP) and path in remote_md5
    held_back = {p.path for p in plan.problems} | set(held)
    folders = tuple(h for h in held if not h or h.endswith("/"))  # unreadable folders: nothing under them goes
    plan.deletes = sorted(p for p in remote_md5 if p not in local and not _kept(p) and p not in held_back
                          and not p.startswith(folders))
    return plan
