"""The ``%%bentocloud write FILE`` cell: write the body into the attached codespace's project and sync it.

Editing the cell and pressing Shift-Enter is the whole loop. FILE is one path, relative to the attached
project (or a plain path when no codespace is attached: then the file is only written, and the line says so).
The verb ``write_file`` does the writing and the sync; this module only parses the line and words the result.
"""

from __future__ import annotations

import argparse

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.ipython.parser_kit import path_arg

__all__ = ["human_size", "write_cell", "written_line"]

_USAGE = "`%%bentocloud write FILE` (one path, relative to the attached project)"


def human_size(size: int) -> str:
    """``812 B``, ``1.2 kB``, ``3.4 MB`` (powers of 1000, as file managers show)."""
    if size < 1000:
        return f"{size} B"
    units, value, index = ("kB", "MB", "GB"), size / 1000, 0
    while value >= 1000 and index < len(units) - 1:
        value, index = value / 1000, index + 1
    return f"{value:.1f} {units[index]}"


def written_line(file: str, size: int, codespace: str | None, *, live: bool = False) -> str:
    """The one line a write cell shows (``live``: the sync runs on the kernel's loop, the panel follows it)."""
    head = f"wrote {file} ({human_size(size)})"
    if codespace and live:
        return f"{head}; syncing to codespace {codespace} (the panel shows the reload)"
    if codespace:
        return f"{head}; synced to codespace {codespace}"
    return f"{head}; no codespace attached, so only written"


def file_of(words: list[str]) -> str:
    """The one FILE of the line, checked as a path the OS can open.

    Raises:
        InvalidInputError: no FILE, more than one, or one the OS would refuse.
    """
    if len(words) != 1:
        given = "no FILE" if not words else f"{len(words)} words"
        raise InvalidInputError(f"%%bentocloud write takes one FILE, got {given}: {_USAGE}.")
    try:
        return path_arg(words[0])
    except argparse.ArgumentTypeError as exc:
        raise InvalidInputError(f"%%bentocloud write: {exc}.") from None


def write_cell(words: list[str], cell: str) -> Message:
    """Write ``cell`` to the file named in ``words`` (and sync it to the attached codespace)."""
    file = file_of(words)
    from bentocloud_jupyter.core.api.codespaces import attached, write_file

    handle = attached()
    result = write_file(file, cell)
    if handle is not None and result.level != "info":  # the verb's own word: detached, terminated
        return result
    live = handle is not None and handle.loop is not None and handle.loop.is_running()
    codespace = handle.state.name if handle is not None else None
    return Message(written_line(file, len(cell.encode("utf-8")), codespace, live=live))
