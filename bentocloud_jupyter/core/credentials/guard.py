"""Writing the credentials file while ``bentoml`` may be rewriting it without a lock.

``bentoml`` rewrites the file in place (open with truncation, then write), so for a moment the file is
empty or holds only its first part. Read in that moment and written back, every context would be lost.
So, inside our lock (see :func:`write_guarded`):

* a read that does not look complete (missing a final newline or the ``current_context_name`` line that
  both tools always write last, or not parsable) is re-read until it stays the same for
  :data:`QUIET_SECONDS`, for at most :data:`SETTLE_LIMIT_SECONDS`;
* the file is read again just before our rename (after our temp file is written and fsynced), and
  the change is redone from the new content if it moved in between;
* a result that lacks a context the file had, other than those the caller removes on purpose, is
  refused.

What cannot be prevented without ``bentoml``'s help: it writes from its own earlier read, so it can
drop a context we saved meanwhile; a write of its that starts in the instant between our last check
and our rename goes to the replaced file and is lost; and a ``bentoml`` stalled for longer than the
quiet spell in the middle of its write looks settled.
"""

from __future__ import annotations

import functools
import re
import time
from collections.abc import Callable, Collection
from pathlib import Path

from bentocloud_jupyter.core.credentials.model import Config
from bentocloud_jupyter.core.credentials.reading import parse_config, read_raw
from bentocloud_jupyter.core.credentials.safefile import atomic_write
from bentocloud_jupyter.core.errors import ConfigError

__all__ = ["MAX_ATTEMPTS", "QUIET_SECONDS", "SETTLE_LIMIT_SECONDS", "Change", "read_settled", "refuse_loss",
           "write_guarded"]

QUIET_SECONDS = 0.1
"""How long a suspicious-looking file must stay unchanged before we believe it."""
POLL_SECONDS = 0.01
SETTLE_LIMIT_SECONDS = 1.5
"""How long we wait, at most, for a file that keeps changing to settle."""
MAX_ATTEMPTS = 5
"""How many times a change is redone because the file moved between our read and our rename."""

Change = Callable[[Config], tuple[Config, Collection[str]]]
"""Gets the file as it is now; returns the new content and the names it removes on purpose."""

_LAST_KEY_LINE = re.compile(rb"(?m)^current_context_name:")


def complete_config(raw: bytes | None, path: Path) -> Config | None:
    """The parsed file when it looks completely written, else None (it may be mid-write)."""
    if raw is None:
        return Config(path=path)
    if not raw.endswith(b"\n") or _LAST_KEY_LINE.search(raw) is None:
        return None
    try:
        return parse_config(raw, path)
    except ConfigError:
        return None


def read_settled(path: Path) -> tuple[bytes | None, Config]:
    """The file's bytes and content, once it looks complete or has stopped changing.

    Raises:
        ConfigError: it kept changing past the limit, or it settled and cannot be parsed (as before).
    """
    start = quiet_from = time.monotonic()
    raw = read_raw(path)
    while True:
        config = complete_config(raw, path)
        if config is not None:
            return raw, config
        now = time.monotonic()
        if now - quiet_from >= QUIET_SECONDS:
            return raw, Config(path=path) if raw is None else parse_config(raw, path)
        if now - start >= SETTLE_LIMIT_SECONDS:
            raise kept_changing(path)
        time.sleep(POLL_SECONDS)
        again = read_raw(path)
        if again != raw:
            raw, quiet_from = again, time.monotonic()


def refuse_loss(before: Config, after: Config, removing: Collection[str], path: Path) -> None:
    """Never turn a file that had contexts into one with fewer, except those removed on purpose.

    Raises:
        ConfigError: ``after`` would drop a context of ``before`` not named in ``removing``.
    """
    kept = set(after.names) | set(removing)
    lost = [name for name in dict.fromkeys(before.names) if name not in kept]
    if lost:
        names = ", ".join(repr(name) for name in lost)
        raise ConfigError(f"Refused to write {path}: it would drop the contexts {names}, which nothing asked "
                          "to remove; the file was left unchanged. Try again, and report it if it repeats.",
                          path=str(path))


def write_guarded(target: Path, change: Change) -> Config:
    """Apply ``change`` to the settled file and write the result, redoing it if the file moved meanwhile.

    The caller holds the lock of ``target``.

    Raises:
        ConfigError: the file cannot be parsed, kept changing, or the write failed (nothing was written).
    """
    for _ in range(MAX_ATTEMPTS):
        raw, before = read_settled(target)
        after, removing = change(before)
        refuse_loss(before, after, removing, target)
        # Renamed only if nobody wrote since our read, so ``after`` is built on what is there.
        if atomic_write(target, after.to_yaml(), still_current=functools.partial(holds, target, raw)):
            return after
    raise kept_changing(target)


def holds(path: Path, raw: bytes | None) -> bool:
    """Whether the file still holds exactly ``raw`` (None: still missing)."""
    return read_raw(path) == raw


def kept_changing(path: Path) -> ConfigError:
    return ConfigError(f"{path} kept changing while we read it (is `bentoml` writing it?); nothing was "
                       "written. Try again in a moment.", path=str(path))
