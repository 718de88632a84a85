"""Protected contexts, kept in their own file beside ``.yatai.yaml``.

``bentoml cloud login`` rewrites ``.yatai.yaml`` and drops every key it does not know, so a flag stored
there would be erased by the next login into any context; ``$BENTOML_HOME/.bentocloud-jupyter/protected.yaml``
is ours alone. Written like the credentials file: locked, re-read inside the lock, atomic, ``0600`` in a
``0700`` folder. A file we cannot read or parse is an error and is never overwritten (it may hold the only
record of which contexts are production); keys we do not know survive our writes. A symbolic link in place of
the file is refused for writing: our rename would silently replace the link, parting it from its target. A file
(or a link's target) that other users may write, or one in a folder they may write, is refused too: whoever
can change or remove it can unprotect production.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import Any

import yaml

from bentocloud_jupyter.core.credentials.reading import bentoml_home
from bentocloud_jupyter.core.credentials.safefile import atomic_write, ensure_folder, locked
from bentocloud_jupyter.core.errors import ConfigError

__all__ = ["PROTECTED_KEY", "is_protected", "protected_contexts", "protected_path", "set_protected"]

PROTECTED_KEY = "protected_contexts"
MAX_BYTES = 1 << 20
"""A protected-contexts file larger than this is not ours: refused, never parsed."""


def protected_path() -> Path:
    """Where the names of protected contexts live (outside ``.yatai.yaml``, which bentoml rewrites)."""
    return bentoml_home() / ".bentocloud-jupyter" / "protected.yaml"


def _broken(target: Path, why: str) -> ConfigError:
    return ConfigError(f"{target} {why}; fix or remove it (it lists the protected contexts).", path=str(target))


def _check_folder(target: Path) -> None:
    """A folder others may write (and not sticky) lets them delete the file, silently unprotecting everything."""
    try:
        mode = target.parent.stat().st_mode
    except OSError:
        return  # no folder: nothing protected yet; any other trouble shows when the file is read
    if stat.S_IMODE(mode) & 0o022 and not mode & stat.S_ISVTX:
        raise _broken(target, f"is in a folder other users may change (mode {stat.S_IMODE(mode):04o}; "
                              f"chmod 700 {target.parent}, or set BENTOML_HOME to a folder of your own)")


def _read_text(target: Path) -> str | None:
    """The file's text; None when it does not exist."""
    _check_folder(target)
    try:
        with target.open("rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            raw = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise _broken(target, "is a folder, not a file") from None
    except OSError as exc:
        raise _broken(target, f"cannot be read ({exc.strerror or type(exc).__name__})") from None
    if mode & 0o022:  # through a link too: whoever may write it may unprotect production
        raise _broken(target, f"can be changed by other users (mode {mode:04o}; chmod 600 it)")
    if len(raw) > MAX_BYTES:
        raise _broken(target, "is too large to be a list of context names")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _broken(target, "is not UTF-8 text") from None


def read_document(target: Path) -> dict[str, Any]:
    """The whole document (unknown keys included); ``{}`` when the file is missing or empty.

    Raises:
        ConfigError: unreadable, not YAML, not a mapping, or a ``protected_contexts`` that is not a list of names.
    """
    text = _read_text(target)
    if text is None or not text.strip():
        return {}
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        raise _broken(target, "is not valid YAML") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise _broken(target, "is not a mapping")
    names = document.get(PROTECTED_KEY, [])
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise _broken(target, f"has a {PROTECTED_KEY} that is not a list of names")
    return document


def protected_contexts(path: Path | None = None) -> frozenset[str]:
    """The protected context names; a missing file protects nothing, an unreadable one is an error."""
    return frozenset(read_document(path or protected_path()).get(PROTECTED_KEY, []))


def is_protected(name: str, path: Path | None = None) -> bool:
    """True when changes in context ``name`` must have the target's name typed back."""
    return name in protected_contexts(path)


def _tighten_folder(folder: Path) -> None:
    """Our own folder is ``0700`` (it says which contexts are production); one we do not own is left alone."""
    with contextlib.suppress(OSError):
        info = folder.stat()
        if info.st_uid == os.geteuid() and stat.S_IMODE(info.st_mode) & 0o077:
            folder.chmod(stat.S_IMODE(info.st_mode) & 0o700)


def _refuse_link(target: Path) -> None:
    """A link in place of the file would be replaced by our rename, silently parting from what it pointed to."""
    if target.is_symlink():
        raise ConfigError(f"{target} is a symbolic link; protect and unprotect would replace it with a file. "
                          "Make it a regular file (copy its target over it), then try again.", path=str(target))


def set_protected(name: str, protected: bool, path: Path | None = None) -> frozenset[str]:
    """Protect (or unprotect) ``name``; returns the protected names after the change.

    Raises:
        ConfigError: the file is unreadable or garbled (left as it is), a symbolic link, or cannot be written.
    """
    target = path or protected_path()
    _refuse_link(target)
    ensure_folder(target.parent)
    _tighten_folder(target.parent)
    with locked(target):
        _refuse_link(target)
        document = read_document(target)  # re-read inside the lock: a concurrent change is kept
        before = list(document.get(PROTECTED_KEY, []))
        names = list(dict.fromkeys([*before, name])) if protected else [n for n in dict.fromkeys(before) if n != name]
        if names != before or not target.exists():
            document = {**document, PROTECTED_KEY: names}
            atomic_write(target, yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return frozenset(names)
