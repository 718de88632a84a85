"""Subcommands of the code room, merged into :data:`~.parsers.SUBCOMMANDS`: ``%bentocloud code``.

``%bentocloud code PATH [--attach NAME] [--list] [--cluster C] [--instance-type T] [--env K=V ...]
[--secret S ...] [--arg K=V ...] [--ttl DURATION] [--context C]`` runs ``api.code``; the destinations are the
verb's keywords (the parser/verb contract test checks them). Light imports only: the table is built at
``%load_ext``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from bentocloud_jupyter.ipython.guard_parsers import add_ttl
from bentocloud_jupyter.ipython.parser_kit import (
    MagicArgumentParser,
    Subcommand,
    add_cluster,
    add_context,
    new_parser,
    path_arg,
)

__all__ = ["CODE_PARSER", "CODE_SUBCOMMANDS", "CodeParser"]


def _options(p: argparse.ArgumentParser) -> None:
    """The options of ``bentoml code`` that shape a new codespace (ignored when attaching)."""
    p.add_argument("--instance-type", default=None, metavar="T", help="see %%bentocloud instance-types")
    p.add_argument("--env", dest="envs", action="append", default=None, metavar="K[=V]",
                   help="environment variable; K alone copies the kernel's value (repeatable)")
    p.add_argument("--secret", dest="secrets", action="append", default=None, metavar="NAME",
                   help="organisation secret to attach (repeatable)")
    p.add_argument("--arg", dest="args", action="append", default=None, metavar="KEY=VALUE",
                   help="bento argument for the build (repeatable; k1=v1,k2=v2)")
    add_ttl(p)


class CodeParser(MagicArgumentParser):
    """Repeatable options left out arrive as ``()``, the verb's own default (not argparse's None)."""

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        parsed = super().parse_args(args, namespace)
        for key in ("envs", "secrets", "args"):
            if getattr(parsed, key, None) is None:
                setattr(parsed, key, ())
        return parsed


def _code() -> MagicArgumentParser:
    p = new_parser("%bentocloud code", "Create (or attach to) a codespace for a project folder: a dev deployment "
                                       "that reloads when the files under PATH change. Returns at once; the panel "
                                       "follows the sync. `%%bentocloud write FILE` edits a file from a cell.",
                   kind=CodeParser)
    p.add_argument("path", nargs="?", default=None, type=path_arg, metavar="PATH",
                   help="the project folder (bentofile.yaml or service.py); default: the current folder")
    p.add_argument("--attach", default=None, metavar="NAME",
                   help="attach to this running codespace instead of creating one")
    p.add_argument("--list", action="store_true", help="list the codespaces (dev deployments) and stop there")
    add_cluster(p)
    _options(p)
    add_context(p)
    return p


CODE_PARSER = _code()

CODE_SUBCOMMANDS: dict[str, Subcommand] = {
    "code": Subcommand(CODE_PARSER, "create or attach a codespace: BentoCloud reloads it as you edit", "api.code"),
}
