"""The parts every ``%bentocloud`` parser table is made of: the table entry, a parser that never exits the
kernel, argument types that fail in one line, and the common options (re-exported by :mod:`.parsers`).

Split from :mod:`.parsers` so that the table modules (:mod:`.deploy_parsers`, :mod:`.org_parsers`) build on
these without importing the table they are merged into (no import cycle, whichever is imported first).
"""

from __future__ import annotations

import argparse
import math
import re
import shlex
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

from bentocloud_jupyter.core.defaults import DEFAULT_TIMEOUT
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.tokens import Token, redact, sendable_token

__all__ = ["NAME_MAX", "PATH_MAX", "HelpRequested", "MagicArgumentParser", "SecretArgumentParser", "Subcommand",
           "add_cluster", "add_context", "add_output", "add_waiting", "add_yes", "bento_arg", "name_arg", "new_parser",
           "path_arg", "port_arg", "simple_parser", "speed_arg", "split_line", "token_arg"]


class Subcommand(NamedTuple):
    """One table entry: the parser, its one-line summary, the verb it runs, and what the front end injects.

    ``verb`` is ``"api.NAME"`` (a core verb) or ``"frontend.NAME"`` (the few that belong to the notebook:
    hidden prompts, confirmations, the sandbox, unwatch), imported only when the command runs.
    ``inject`` names keyword-only arguments the magic supplies (``progress``: a transfer display).
    """

    parser: MagicArgumentParser
    summary: str
    verb: str
    inject: tuple[str, ...] = ()


class HelpRequested(Exception):
    """``--help`` was given; ``text`` is the help to show."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class MagicArgumentParser(argparse.ArgumentParser):
    """An ArgumentParser that never exits the kernel: errors and help become exceptions."""

    def error(self, message: str) -> NoReturn:
        from IPython.core.error import UsageError

        raise UsageError(f"{self.prog}: {redact(message)} (see `{self.prog} --help`)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def print_help(self, file: Any = None) -> None:
        raise HelpRequested(self.format_help())


class SecretArgumentParser(MagicArgumentParser):
    """A parser whose errors never quote what was typed: a word of its line may be a token."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = ("an unexpected argument was given; to pass a token use --api-token TOKEN (it is then stored "
                       "in the notebook), or omit it to be prompted")
        else:
            message = _QUOTED_VALUE.sub(r"\1", message)
        super().error(message)


_QUOTED_VALUE = re.compile(r"(invalid(?: [\w.]+)? (?:value|choice))\b.*$", re.DOTALL)


def split_line(line: str) -> list[str]:
    """Shell-style quoting, as users expect from a command line."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise InvalidInputError(f"Cannot parse the line: {exc} (check your quotes)") from None


def new_parser(prog: str, description: str,
               kind: type[MagicArgumentParser] = MagicArgumentParser) -> MagicArgumentParser:
    return kind(prog=prog, description=description, add_help=True, allow_abbrev=False)


# ------------------------------------------------------------------- argument types: one line, never a traceback

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
NAME_MAX = 255  # bytes in one path component (Linux, macOS); a longer word is neither a tag nor a path
PATH_MAX = 4096


def path_arg(value: str) -> str:
    """A file or folder path the OS can open: no NUL or control characters, no over-long name."""
    if _CONTROL.search(value):
        raise argparse.ArgumentTypeError("a path cannot hold NUL or control characters")
    parts = value.encode("utf-8", "surrogateescape")
    if len(parts) > PATH_MAX or any(len(part) > NAME_MAX for part in parts.split(b"/")):
        raise argparse.ArgumentTypeError(f"the path is too long (at most {NAME_MAX} bytes per name)")
    return value


def bento_arg(value: str) -> str:
    """A bento tag (name:version) or a project folder; checked as a path, worded for both."""
    try:
        return path_arg(value)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError("not a bento tag (name:version, at most 63 characters each, letters, "
                                         "digits, '-', '_', '.') nor a project folder") from None


def port_arg(value: str) -> int:
    """A TCP port: 0 (any free one) to 65535."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is a whole number from 0 (any free port) to 65535")
    return port


def speed_arg(value: str) -> float:
    """A finite speed factor above 0 (the verb also caps it)."""
    try:
        speed = float(value)
    except ValueError:
        speed = math.nan
    if not (math.isfinite(speed) and speed > 0):
        raise argparse.ArgumentTypeError("the speed is a number above 0, e.g. 10")
    return speed


def token_arg(value: str) -> Token:
    """The token as a :class:`Token` from the start; refused (never quoted) if no header can carry it."""
    try:
        return sendable_token(value)
    except InvalidInputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_context(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", default=None, metavar="NAME", help="credentials context to use")


def add_cluster(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None, metavar="C", help="cluster name (default: the default cluster)")


def add_waiting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action=argparse.BooleanOptionalAction, default=False,
                        help="block until it settles (for headless runs); default: return at once")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"seconds to wait at most (default {DEFAULT_TIMEOUT:g})")


def simple_parser(prog: str, description: str, *args: Callable[[argparse.ArgumentParser], None]) -> MagicArgumentParser:
    p = new_parser(prog, description)
    for add in args:
        add(p)
    return p


def name_arg(optional: bool = False) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        if optional:
            p.add_argument("context", nargs="?", default=None, help="context to remove (default: the current)")
        else:
            p.add_argument("name")
    return add


def add_output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="table", choices=("table", "json", "yaml"))


def add_yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
