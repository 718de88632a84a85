"""The journal of a multipart push, so an interrupted push continues instead of starting from byte zero.

One small JSON file per item (0600, in ``<staging>/journals/``, which stale clean-up leaves alone) holds
the upload id, the part size, a fingerprint of the local item (every file's path, size, mode and mtime:
the archive is rebuilt from it byte for byte) and the ETag of every part BentoCloud acknowledged. A
journal that does not match the item and part size any more is ignored; it is removed once the push
completes or BentoCloud refuses the upload id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.artifacts.staging import JOURNALS
from bentocloud_jupyter.core.artifacts.store import LocalStore

__all__ = ["Journal", "fingerprint", "journal_path"]


def journal_path(store: LocalStore, kind: str, name: str, version: str) -> Path:
    """Where the journal of ``kind name:version`` lives (a hashed name: no path tricks through a tag)."""
    digest = hashlib.sha256(f"{kind}\0{name}\0{version}".encode()).hexdigest()[:32]
    return store.staging / JOURNALS / f"{kind}-{digest}.json"


def fingerprint(folder: Path, size: int) -> str:
    """What the archive is built from: any change to the item means the recorded parts are not valid."""
    digest = hashlib.sha256(str(size).encode())
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for entry in sorted(files) + dirs:
            path = Path(root, entry)
            with contextlib.suppress(OSError):
                info = path.lstat()
                digest.update(f"{path.relative_to(folder)}\0{info.st_size}\0{info.st_mode}\0{info.st_mtime_ns}\n"
                              .encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


@dataclass
class Journal:
    """The state of one multipart upload; :meth:`record` is safe from the part threads."""

    path: Path
    upload_id: str
    part_size: int
    source: str
    parts: dict[int, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def load(cls, path: Path, part_size: int, source: str) -> Journal | None:
        """The journal at ``path`` if it belongs to this very archive and part size, else None."""
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            upload_id, parts = str(data["upload_id"]), data["parts"]
            if not upload_id or data["part_size"] != part_size or data["source"] != source:
                return None
            done = {int(number): str(etag) for number, etag in parts.items() if str(etag)}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None
        return cls(path, upload_id, part_size, source, done)

    def record(self, number: int, etag: str) -> None:
        with self._lock:
            self.parts[number] = etag
            self.save()

    def save(self) -> None:
        """Write atomically, readable by this user only."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        payload = json.dumps({"upload_id": self.upload_id, "part_size": self.part_size, "source": self.source,
                              "parts": {str(n): e for n, e in sorted(self.parts.items())}})
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.chmod(partial, 0o600)
            os.replace(partial, self.path)
        finally:
            with contextlib.suppress(OSError):
                partial.unlink()

    def drop(self) -> None:
        with contextlib.suppress(OSError):
            self.path.unlink()
