"""Reading a secret's keys and values the way ``bentoml secret create`` takes them, before anything is sent.

``KEY=VALUE``, ``KEY=@FILE`` (the file's text), a ``(KEY, VALUE)`` pair from Python, and
``--from-file DOTENV`` (``KEY=VALUE`` lines, ``export``, quotes, ``#`` comments). Each value becomes a
:class:`~..tokens.Token` at once, so it is masked in every printable form and redacted from every later
message; errors name the key, the file and the line, never the value. A bare ``KEY`` has no value: the
notebook front end asks for it with a hidden prompt before calling the verb; elsewhere it is refused.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from pathlib import Path

from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ENV_KEY", "KeyValue", "bare_key", "read_dotenv", "read_pairs"]

ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_FILE_BYTES = 4 * 1024 * 1024
KeyValue = tuple[str, Token]
_DOTENV_LINE = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*?)\s*")


def bare_key(item: object) -> str | None:
    """The key of a ``KEY`` given without ``=VALUE`` (to be asked for), else None."""
    return item if isinstance(item, str) and "=" not in item else None


def no_value(key: str) -> InvalidInputError:
    return InvalidInputError(f"Key {key!r} has no value and there is no way to ask for it here: pass "
                             f"{key}=@FILE (a file holding the value) or --from-file DOTENV; {key}=VALUE works "
                             "too, but the value is then stored in the notebook. Nothing was sent.")


def _read_text(path: str, what: str) -> str:
    target = Path(os.path.expanduser(path))
    try:
        found = target.is_file()
    except (OSError, ValueError) as exc:  # a name too long, a NUL in the path
        raise InvalidInputError(f"{what}: cannot use {str(target)[:200]!r} as a file ({exc}). Nothing was sent.") \
            from None
    if not found:
        raise InvalidInputError(f"{what}: no such file {str(target)!r}. Nothing was sent.")
    try:
        if target.stat().st_size > MAX_FILE_BYTES:
            raise InvalidInputError(f"{what}: {str(target)!r} is over {MAX_FILE_BYTES // 2**20} MiB. Nothing was sent.")
        return target.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InvalidInputError(f"{what}: {str(target)!r} is not UTF-8 text. Nothing was sent.") from None
    except OSError as exc:
        raise InvalidInputError(f"{what}: cannot read {str(target)!r} ({exc.strerror or exc}). Nothing was sent.") \
            from None


def _one(item: str | tuple[str, str | Token]) -> KeyValue:
    if isinstance(item, tuple):
        key, value = item
    else:
        if bare_key(item) is not None:
            raise no_value(item)
        key, _, value = item.partition("=")
        if value.startswith("@"):
            value = _read_text(value[1:], f"{key}=@FILE")
    if not isinstance(key, str) or not key.strip():
        raise InvalidInputError("A key is empty: give KEY=VALUE. Nothing was sent.")
    token = Token(value) if isinstance(value, (str, Token)) else None
    if not token:
        raise InvalidInputError(f"Key {key!r} has an empty value; give a value or leave the key out. Nothing was sent.")
    return key.strip(), token


def read_pairs(items: Iterable[str | tuple[str, str | Token]]) -> list[KeyValue]:
    """``KEY=VALUE`` / ``KEY=@FILE`` / ``(KEY, VALUE)`` items as ``(key, Token)`` pairs.

    Raises:
        InvalidInputError: a bare key, an empty key or value, a missing or unreadable file.
    """
    return [_one(item) for item in items]


def _unquote(raw: str, where: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        if end < 0 or raw[end + 1:].strip()[:1] not in ("", "#"):
            raise InvalidInputError(f"{where}: the quoted value does not end where expected. Nothing was sent.")
        value = raw[1:end]
        return value.replace("\\n", "\n").replace('\\"', '"') if quote == '"' else value
    return re.split(r"\s+#", raw, maxsplit=1)[0].strip()


def read_dotenv(path: str) -> list[KeyValue]:
    """The ``KEY=VALUE`` lines of a dotenv file (later lines win), as ``(key, Token)`` pairs.

    Raises:
        InvalidInputError: the file is missing or unreadable, or a line is not ``KEY=VALUE``.
    """
    text = _read_text(path, "--from-file")
    found: dict[str, Token] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}, line {number}"
        match = _DOTENV_LINE.fullmatch(line)
        if match is None:
            raise InvalidInputError(f"{where}: not a KEY=VALUE line (a dotenv file). Nothing was sent.")
        value = _unquote(match.group(2), where)
        if value:
            found[match.group(1)] = Token(value)
    if not found:
        raise InvalidInputError(f"{path}: no KEY=VALUE lines in it. Nothing was sent.")
    return list(found.items())
