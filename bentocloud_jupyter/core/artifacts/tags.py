"""Tag names and versions that are safe to turn into paths, and paths that stay inside the store.

A bento or model name and version become folders (``bentos/<name>/<version>``), so a value chosen by a
server (a ``latest`` version, a manifest's model list, the ``bento.yaml`` inside an archive) must never
be ``..`` or hold a slash. The rule is ``bentoml``'s own (``src/bentoml/_internal/tag.py``): lowercase
letters, digits and ``- _ .``, starting and ending with a letter or digit, at most 63 characters; so
whatever passes here is also a tag ``bentoml list`` accepts. Paths are then resolved (symlinks
followed) and must land strictly inside the store's folder before anything is written or removed.
"""

from __future__ import annotations

import re
from pathlib import Path

from bentocloud_jupyter.core.errors import InvalidInputError, ProtocolError

__all__ = ["TAG_MAX_LENGTH", "is_tag_part", "server_part", "server_tag", "shown", "tag_part", "within"]

TAG_MAX_LENGTH = 63
_TAG_PART = re.compile(r"[a-z0-9](?:[-._a-z0-9]*[a-z0-9])?")
_RULE = ("a name or version is lowercase letters, digits, '-', '_' or '.', starts and ends with a letter or "
         f"digit, and has at most {TAG_MAX_LENGTH} characters")


def shown(value: object, limit: int = 80) -> str:
    """``value`` quoted for a message: escaped (no newline or control character) and cut short."""
    text = repr(value if isinstance(value, str) else str(value))
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def is_tag_part(value: object) -> bool:
    """Whether ``value`` (already lowercased) is a valid tag name or version."""
    return (isinstance(value, str) and len(value) <= TAG_MAX_LENGTH
            and _TAG_PART.fullmatch(value) is not None)


def tag_part(value: str, what: str, tag: str | None = None) -> str:
    """``value`` lowercased (as bentoml does), when it is a valid tag name or version.

    Raises:
        InvalidInputError: it is not (the user typed it).
    """
    lowered = value.lower()
    if not is_tag_part(lowered):
        where = f" in {shown(tag)}" if tag is not None and tag != value else ""
        raise InvalidInputError(f"{shown(value)}{where} is not a valid {what}: {_RULE}.")
    return lowered


def server_part(value: object, what: str) -> str:
    """A name or version BentoCloud (or an archive) sent, lowercased, when it is safe as a folder name.

    Raises:
        ProtocolError: it is not; nothing has been written.
    """
    lowered = value.lower() if isinstance(value, str) else value
    if not is_tag_part(lowered):
        raise ProtocolError(f"BentoCloud sent {shown(value)} as the {what}, which is not a valid tag ({_RULE}); "
                            "refusing to write it to disk.")
    assert isinstance(lowered, str)
    return lowered


def server_tag(value: object, what: str) -> tuple[str, str | None]:
    """A ``name[:version]`` BentoCloud sent (a manifest's model), checked as :func:`server_part`.

    Raises:
        ProtocolError: not a string, more than one colon, or a part that is not a valid tag.
    """
    if not isinstance(value, str):
        raise ProtocolError(f"BentoCloud sent {shown(value)} as a {what}, which is not a tag; refusing it.")
    name, colon, version = value.partition(":")
    if ":" in version or (colon and not version):
        raise ProtocolError(f"BentoCloud sent {shown(value)} as a {what}, which is not a tag; refusing it.")
    checked_name = server_part(name, f"{what} name")
    if not version or version == "latest":
        return checked_name, None
    return checked_name, server_part(version, f"{what} version")


def within(path: Path, root: Path) -> Path:
    """``path`` resolved, when it lies strictly inside ``root`` (resolved too); never ``root`` itself.

    Like pip's ``is_within_directory``, but on resolved paths, so a symlinked folder cannot lead out.

    Raises:
        InvalidInputError: it would land outside (nothing is written or removed).
    """
    resolved, base = path.resolve(), root.resolve()
    if base not in resolved.parents:
        raise InvalidInputError(f"{path} would land outside the local store {root}; refusing to touch it.")
    return resolved
