"""A codespace's file listing (``GET /api/v2/deployments/{name}/files``), read as hostile input.

The listing decides what we upload and delete, so a path that climbs out of the project, an absurd size or
an md5 that is not hex must not slip through: a bad entry makes the whole answer a protocol error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["MAX_LISTED", "MAX_PATH", "RemoteFile", "check_path", "parse_listing"]

MAX_LISTED = 100_000
"""The most files a listing may name (more is a server gone wrong, not a project)."""
MAX_PATH = 4096
_MD5 = re.compile(r"[0-9a-f]{32}")
_MAX_SIZE = 1 << 50


@dataclass(frozen=True)
class RemoteFile:
    """One file in the codespace: its project-relative path, size in bytes and md5 (lowercase hex)."""

    path: str
    size: int
    md5: str


def check_path(path: object) -> str:
    """A project-relative POSIX path with no way out (no ``..``, no absolute path, no NUL or backslash).

    Raises:
        TypeError: ``path`` is not such a path.
    """
    if not isinstance(path, str) or not path or len(path) > MAX_PATH:
        raise TypeError("a file path is not text of a sane length")
    parts = path.split("/")
    if path.startswith("/") or any(p in ("", ".", "..") for p in parts) or any(c in path for c in "\\\0"):
        raise TypeError("a file path leaves the project")
    if any(ord(c) < 32 for c in path):
        raise TypeError("a file path holds a control character")
    return path


def _entry(raw: Any) -> RemoteFile:
    if not isinstance(raw, Mapping):
        raise TypeError("a file entry is not an object")
    size, md5 = raw.get("size"), raw.get("md5")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size < _MAX_SIZE:
        raise TypeError("a file size is not a byte count")
    if not isinstance(md5, str) or not _MD5.fullmatch(md5.lower()):
        raise TypeError("a file md5 is not 32 hex digits")
    return RemoteFile(check_path(raw.get("path")), size, md5.lower())


def parse_listing(body: Any) -> list[RemoteFile]:
    """The files of a listing answer ``{"files": [{"path", "size", "md5"}]}`` (``files: null`` is none).

    Raises:
        TypeError: the answer is not such a listing (the client turns it into a ProtocolError).
    """
    if not isinstance(body, Mapping):
        raise TypeError("the file listing is not an object")
    files = body.get("files")
    if files is None:
        return []
    if not isinstance(files, list) or len(files) > MAX_LISTED:
        raise TypeError("the file listing's files is not a list of a sane length")
    found = [_entry(item) for item in files]
    if len({f.path for f in found}) != len(found):
        raise TypeError("the file listing names a path twice")
    return found
