"""Archives as ``bentoml`` builds them for upload, and safe extraction of downloaded ones.

Uploads are uncompressed PAX tars with members relative to the folder (``.``, ``./bento.yaml``, ...), a
bento's ``./models`` left out (models travel on their own). Extraction refuses any member that would
land outside the target (absolute paths, ``..``, links pointing out, devices) with one clear error,
instead of silently skipping it, and never leaves a half-extracted folder behind.
"""

from __future__ import annotations

import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["extract_safely", "write_archive"]


def write_archive(folder: Path, dest_dir: Path, *, exclude_models: bool) -> Path:
    """Write ``folder`` as an uncompressed tar into a temp file in ``dest_dir``; the caller deletes it."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="bentocloud-", suffix=".tar", dir=dest_dir)

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if exclude_models and (info.name == "./models" or info.name.startswith("./models/")):
            return None
        return info

    try:
        with os.fdopen(fd, "wb") as handle, tarfile.open(fileobj=handle, mode="w:", format=tarfile.PAX_FORMAT) as tar:
            tar.add(str(folder), arcname=".", filter=keep)
    except BaseException:
        os.unlink(name)
        raise
    return Path(name)


def _check_member(member: tarfile.TarInfo, target: Path) -> None:
    where = (target / member.name).resolve()
    if member.name.startswith(("/", "\\")) or not _inside(where, target):
        raise InvalidInputError(f"The archive tries to write outside its folder ({member.name!r}); refusing it.")
    if member.issym() or member.islnk():
        link = (where.parent / member.linkname) if member.issym() else (target / member.linkname)
        if os.path.isabs(member.linkname) or not _inside(link.resolve(), target):
            raise InvalidInputError(f"The archive holds a link out of its folder ({member.name!r} -> "
                                    f"{member.linkname!r}); refusing it.")
    if member.isdev() or member.isfifo():
        raise InvalidInputError(f"The archive holds a device or pipe ({member.name!r}); refusing it.")


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def extract_safely(archive: Path, target: Path, required: str, place: Callable[[Path], None]) -> None:
    """Extract ``archive`` into a temp folder inside ``target`` (a staging area), check it, then ``place`` it.

    ``required`` must be at the archive's root (``bento.yaml`` or ``model.yaml``). ``place`` receives the
    checked folder and moves it into its final location; on any failure the temp folder is removed.

    Raises:
        InvalidInputError: not a tar, a member escaping the folder, or ``required`` missing.
    """
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix="extract-", dir=target))
    try:
        try:
            with tarfile.open(archive, mode="r:*") as tar:
                members = tar.getmembers()
                for member in members:
                    _check_member(member, staging.resolve())
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(staging, members=members, filter="data")
                else:  # pragma: no cover - Python < 3.10.12 / 3.11.4: members were checked above
                    tar.extractall(staging, members=members)  # noqa: S202
        except tarfile.TarError as exc:
            raise InvalidInputError(f"The downloaded archive is not a valid tar ({exc}); try again.") from None
        if not (staging / required).is_file():
            raise InvalidInputError(f"The downloaded archive has no {required} at its root; it is not usable.")
        place(staging)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
