"""Work areas for transfers, outside every folder ``bentoml`` lists, and the clean-up of dead ones.

A pull downloads an archive and extracts it before moving the result into ``models/<name>/<version>``.
Doing that work inside ``models/<name>/`` means a kill -9 leaves a ``.pulling-*`` folder there, and
``bentoml models list`` then fails on it (not a valid tag). So every transfer works in its own folder
under ``$BENTOML_HOME/.bentocloud-jupyter-staging/``, which ``bentoml`` never reads, marked with the
owning process. The next transfer removes areas whose owner is dead (same host) or that nothing has
touched for an hour, plus what older versions left behind (``.pulling-*`` folders, ``tmp`` archives).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bentocloud_jupyter.core.artifacts.store import LocalStore

__all__ = ["JOURNALS", "OWNER_FILE", "STALE_AFTER", "clean_stale", "pid_alive", "staging_area"]

STALE_AFTER = 3600.0
OWNER_FILE = "owner.json"
LEGACY_ARCHIVES = "bentocloud-*.tar"
JOURNALS = "journals"  # pull and push archives of older versions, in $BENTOML_HOME/tmp


@contextlib.contextmanager
def staging_area(store: LocalStore, purpose: str = "pull") -> Iterator[Path]:
    """A fresh folder for one transfer, owned by this process, removed on the way out whatever happens."""
    store.staging.mkdir(parents=True, exist_ok=True)
    area = Path(tempfile.mkdtemp(prefix=f"{purpose}-{os.getpid()}-", dir=store.staging))
    try:
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
        (area / OWNER_FILE).write_text(json.dumps(owner), encoding="utf-8")
        yield area
    finally:
        remove(area)


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (one of another user counts as alive).

    On Windows signal 0 is CTRL_C_EVENT, so nothing is probed there: every owner counts as alive.
    """
    if os.name == "nt":
        return True
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def last_touched(path: Path) -> float:
    """The newest modification time of ``path`` and of what it directly holds (a growing download)."""
    newest = path.lstat().st_mtime
    if path.is_dir() and not path.is_symlink():
        with os.scandir(path) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    newest = max(newest, entry.stat(follow_symlinks=False).st_mtime)
    return newest


def owner_is_dead(area: Path) -> bool:
    """True only when the area's owner file names a process of this host that no longer runs."""
    try:
        owner = json.loads((area / OWNER_FILE).read_text(encoding="utf-8"))
        pid, host = int(owner["pid"]), str(owner["host"])
    except (OSError, ValueError, TypeError, KeyError):
        return False
    return host == socket.gethostname() and not pid_alive(pid)


def is_stale(path: Path, now: float, owned: bool) -> bool:
    try:
        if now - last_touched(path) > STALE_AFTER:
            return True
    except OSError:
        return False
    return owned and owner_is_dead(path)


def remove(path: Path) -> None:
    """Delete a file, a link (not what it points at) or a folder; quietly, as clean-up must never fail."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def stale_candidates(store: LocalStore) -> Iterator[tuple[Path, bool]]:
    """Every leftover a transfer may have left: (path, whether it has an owner file)."""
    if store.staging.is_dir() and not store.staging.is_symlink():
        for area in store.staging.iterdir():
            if area.name != JOURNALS:  # push journals outlive transfers (see .journal)
                yield area, True
    if store.tmp.is_dir():
        for archive in store.tmp.glob(LEGACY_ARCHIVES):
            yield archive, False
    for root in (store.bentos, store.models):
        if root.is_dir():
            for leftover in root.glob("*/.pulling-*"):
                yield leftover, False


def clean_stale(store: LocalStore, now: float | None = None) -> list[Path]:
    """Remove dead transfers' leftovers; returns what was removed. Never raises."""
    moment = time.time() if now is None else now
    removed: list[Path] = []
    try:
        for path, owned in list(stale_candidates(store)):
            if is_stale(path, moment, owned):
                remove(path)
                removed.append(path)
    except OSError:
        pass
    return removed
