"""Crash-safe, lock-protected writes of one small file (the credentials file).

Why a module of its own: these are the guarantees the credentials file depends on, kept apart from
its format. A cross-process lock (a sibling ``.lock`` file) serialises writers; each write goes to a
temp file in the same folder (``0600``), is fsynced, renamed over the target and the folder fsynced,
so a crash leaves the complete old or the complete new file. Temp files of killed writers are removed
by the next lock holder. A folder or file the user made read-only is refused with one line before
anything is locked or written (a rename would replace a read-only file without complaint).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from bentocloud_jupyter.core.errors import ConfigError

__all__ = ["atomic_write", "check_writable", "ensure_folder", "locked"]

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

    check_writable(target)
    lock = FileLock(str(target) + ".lock", timeout=LOCK_TIMEOUT_SECONDS, mode=0o600)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(f"Another process has held the lock on {target} for {LOCK_TIMEOUT_SECONDS:.0f} s; "
                          "try again, or remove the stale file " + str(target) + ".lock",
                          path=str(target)) from None
    except OSError as exc:  # a read-only folder or file system, a lock file we may not open
        raise ConfigError(f"Cannot lock {target} for writing ({exc.strerror or exc}); make the folder "
                          f"{target.parent} writable or set BENTOML_HOME to a writable folder.",
                          path=str(target)) from None
    try:
        remove_stale_temps(target)
        yield
    finally:
        lock.release()


def writable_by_us(path: Path) -> bool:
    """Whether the mode bits let us write ``path``: the owner's bit when it is ours, else ``os.access``.

    Why the bits and not only ``os.access``: root may write anything, yet a file or folder its owner
    made read-only (``chmod a-w``) says "do not change me", and we honour that for root too.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return True  # nothing there yet: whether it can be created is the folder's question
    except OSError:
        return False
    if info.st_uid == os.geteuid():
        return bool(info.st_mode & stat.S_IWUSR)
    return os.access(path, os.W_OK)


def check_writable(target: Path) -> None:
    """Refuse early, with what to do, when the folder or the existing file is read-only.

    Raises:
        ConfigError: the folder or the file is read-only (nothing was changed).
    """
    folder = target.parent
    if not writable_by_us(folder):
        raise ConfigError(f"The folder {folder} is read-only, so {target.name} cannot be changed; make it "
                          f"writable (chmod u+w {folder}) or set BENTOML_HOME to a writable folder.",
                          path=str(target))
    if not writable_by_us(target):
        raise ConfigError(f"{target} is read-only, so it was left unchanged; make it writable "
                          f"(chmod u+w {target}) to save or change contexts.", path=str(target))


def remove_stale_temps(target: Path) -> None:
    """Temp files of writers killed mid-write; only lock holders create them, so any found now is stale."""
    for stale in target.parent.glob(_temp_prefix(target) + "*" + TEMP_SUFFIX):
        with contextlib.suppress(OSError):
            stale.unlink()


def atomic_write(target: Path, text: str, still_current: Callable[[], bool] = lambda: True) -> bool:
    """temp file (0600) -> fsync -> rename over ``target`` -> fsync the folder.

    ``still_current`` is asked last, just before the rename: when it says False (someone else wrote
    ``target`` meanwhile), the temp file is dropped, nothing changes, and the answer is False. Asked
    after the slow part, so the gap it leaves to a writer that does not lock is as short as can be.
    """
    fd, temp_name = tempfile.mkstemp(prefix=_temp_prefix(target), suffix=TEMP_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, 0o600)
        if not still_current():
            os.unlink(temp_name)
            return False
        os.replace(temp_name, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise ConfigError(f"Could not write {target}: {exc.strerror or exc}. The previous file is intact.",
                          path=str(target)) from None
    fsync_folder(target.parent)
    return True


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
