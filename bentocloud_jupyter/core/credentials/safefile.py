"""Crash-safe, lock-protected writes of one small file (the credentials file).

Why a module of its own: these are the guarantees the credentials file depends on, kept apart from
its format. A cross-process lock (a sibling ``.lock`` file) serialises writers; each write goes to a
temp file in the same folder (``0600``), is fsynced, renamed over the target and the folder fsynced,
so a crash leaves the complete old or the complete new file. Temp files of killed writers are removed
by the next lock holder.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from bentocloud_jupyter.core.errors import ConfigError

__all__ = ["atomic_write", "ensure_folder", "locked"]

LOCK_TIMEOUT_SECONDS = 30.0
TEMP_SUFFIX = ".tmp"


def _temp_prefix(target: Path) -> str:
    return target.name + "."


def ensure_folder(folder: Path) -> None:
    """Create the folder (and parents) ``0700`` when missing; an existing folder is left as it is."""
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"Cannot create the folder {folder}: {exc.strerror or exc}. Set BENTOML_HOME "
                          "to a writable folder.", path=str(folder)) from None


@contextlib.contextmanager
def locked(target: Path) -> Iterator[None]:
    """Hold the cross-process lock of ``target`` (a sibling ``.lock`` file), clearing stale temp files."""
    from filelock import FileLock, Timeout  # imported lazily: only writers need it

    lock = FileLock(str(target) + ".lock", timeout=LOCK_TIMEOUT_SECONDS, mode=0o600)
    try:
        with lock:
            remove_stale_temps(target)
            yield
    except Timeout:
        raise ConfigError(f"Another process has held the lock on {target} for {LOCK_TIMEOUT_SECONDS:.0f} s; "
                          "try again, or remove the stale file " + str(target) + ".lock",
                          path=str(target)) from None


def remove_stale_temps(target: Path) -> None:
    """Temp files of writers killed mid-write; only lock holders create them, so any found now is stale."""
    for stale in target.parent.glob(_temp_prefix(target) + "*" + TEMP_SUFFIX):
        with contextlib.suppress(OSError):
            stale.unlink()


def atomic_write(target: Path, text: str) -> None:
    """temp file (0600) -> fsync -> rename over ``target`` -> fsync the folder."""
    fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)
        os.replace(temp_name, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise ConfigError(f"Could not write {target}: {exc.strerror or exc}. The previous file is intact.",
                          path=str(target)) from None
    fsync_folder(target.parent)


def fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
