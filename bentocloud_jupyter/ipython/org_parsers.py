"""Parsers of the organisation-level subcommands (secrets, API tokens), merged into ``parsers.SUBCOMMANDS``.

``%bentocloud secret list|create|apply|delete`` and ``%bentocloud api-token list|create|get|delete``
mirror ``bentoml secret`` and ``bentoml api-token``. Each action is one parser and one core verb
(:data:`ACTIONS`, whose destinations follow the verb's keywords: a test checks it); the table entry
``secret`` (``api-token``) is an :class:`ActionParser` that reads the action word and hands the rest to
that action's parser, so the magic still runs one front-end verb with ``action``, ``options`` and
``context`` (which the magic fills in as for any command). ``secrets`` and ``api-tokens`` are the listings.
Only light modules are imported here: the table is built at ``%load_ext``.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, NoReturn

from bentocloud_jupyter.ipython.parser_kit import (
    HelpRequested,
    MagicArgumentParser,
    Subcommand,
    add_cluster,
    add_context,
    add_output,
    new_parser,
    path_arg,
)

__all__ = ["ACTIONS", "ORG_SUBCOMMANDS", "SCOPES", "Action", "ActionParser", "ValueParser"]

SCOPES = ("api", "read_organization", "write_organization", "read_cluster", "write_cluster")
"""Shown in ``--help``; the core checks them (``core.api.tokens.SCOPES``)."""


class Action(NamedTuple):
    """One action of a family: its parser and the core verb (``api.NAME``) it runs."""

    parser: MagicArgumentParser
    verb: str


class ActionParser(MagicArgumentParser):
    """``FAMILY ACTION [options]``: the action word picks the parser of the rest.

    Its own arguments (``action``, ``options``, ``--context``) describe what it returns, for the
    parser/verb contract and for ``--help``; :meth:`parse_args` does the reading.
    """

    def __init__(self, prog: str, description: str, actions: dict[str, Action]) -> None:
        super().__init__(prog=prog, description=description, add_help=True, allow_abbrev=False)
        self.actions = actions
        self.add_argument("action", choices=list(actions), help="what to do (add --help after it for its options)")
        self.add_argument("options", nargs=argparse.REMAINDER, help="the action's arguments")
        add_context(self)

    def parse_args(self, args: Sequence[str] | None = None, namespace: Any = None) -> Any:  # type: ignore[override]
        words = list(args or [])
        if not words or words[0] in ("-h", "--help"):
            raise HelpRequested(self.format_help())
        action = self.actions.get(words[0])
        if action is None:
            self.error(f"unknown action {words[0]!r}; choose from {', '.join(self.actions)}")
        found = vars(action.parser.parse_args(words[1:]))
        context = found.pop("context", None)
        namespace = argparse.Namespace(action=words[0], options=found, context=context)
        if "confirm" in found:  # at the top, where the magic's typed-name field finds it and retries with it
            namespace.confirm = found.pop("confirm")
        return namespace

    def format_help(self) -> str:
        lines = [f"usage: {self.prog} {{{','.join(self.actions)}}} ...", "", self.description or "", ""]
        lines += [f"  {name:<8} {a.parser.description}" for name, a in self.actions.items()]
        return "\n".join([*lines, "", f"Run `{self.prog} ACTION --help` for the options of one."])



class ValueParser(MagicArgumentParser):
    """A parser whose errors never quote what was typed: a word of its line may be a secret's value."""

    def error(self, message: str) -> NoReturn:
        if message.startswith("unrecognized arguments"):
            message = "an unexpected argument was given (not repeated here: it may hold a value)"
        else:
            message = re.sub(r"(invalid(?: [\w.]+)? (?:value|choice))\b.*$", r"\1", message, flags=re.DOTALL)
        super().error(message)


def _secret_values(p: argparse.ArgumentParser, create: bool) -> None:
    p.add_argument("name", help="secret name (unique in the organisation)")
    p.add_argument("key_vals", nargs="*", default=None, metavar="KEY[=VALUE|=@FILE]",
                   help="KEY alone asks for the value (hidden); =@FILE reads a file; =VALUE stays in the notebook")
    p.add_argument("-t", "--type", default="env" if create else None, choices=("env", "file"),
                   help="mount as environment variables or as files" + ("" if create else " (default: as it is)"))
    p.add_argument("-p", "--path", default=None, type=path_arg, metavar="PATH",
                   help="where files are mounted (--type file; default $BENTOML_HOME)")
    p.add_argument("-s", "--stage", default="runtime" if create else None, choices=("build", "runtime", "all"),
                   help="when the secret is available" + (" (default runtime)" if create else " (default: as it is)"))
    add_cluster(p)
    p.add_argument("-f", "--from-file", dest="from_file", action="append", default=None, type=path_arg,
                   metavar="DOTENV", help="read KEY=VALUE lines from a dotenv file (repeatable)")
    p.add_argument("-d", "--description", default=None, metavar="TEXT")
    add_context(p)


def _parser(prog: str, description: str, *adders: Callable[[argparse.ArgumentParser], None],
            kind: type[MagicArgumentParser] = MagicArgumentParser) -> MagicArgumentParser:
    p = new_parser(prog, description, kind)
    for add in adders:
        add(p)
    return p


def _secret_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--search", default=None, metavar="Q", help="name contains Q")
    add_cluster(p)
    add_output(p)
    add_context(p)


def _secret_delete(p: argparse.ArgumentParser) -> None:
    p.add_argument("name")
    add_cluster(p)
    p.add_argument("--confirm", default=None, metavar="NAME",
                   help="in a protected context: the secret's name, typed back")
    add_context(p)


def _token_create(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", help="token name")
    p.add_argument("-s", "--scope", dest="scopes", action="append", default=None, metavar="SCOPE",
                   help=f"repeatable; one of {', '.join(SCOPES)} (default: BentoCloud's)")
    p.add_argument("--expires", default=None, metavar="WHEN", help="30d, 1w, 24h, or a date such as 2030-12-31")
    p.add_argument("-d", "--description", default=None, metavar="TEXT")
    p.add_argument("--save-as", dest="save_as", default=None, metavar="CONTEXT",
                   help="validate the new token and save it as this context")
    p.add_argument("--output-file", dest="output_file", default=None, type=path_arg, metavar="PATH",
                   help="write the new token to a new file readable by you only")
    add_context(p)


def _token_list(p: argparse.ArgumentParser) -> None:
    p.add_argument("--search", default=None, metavar="Q", help="name contains Q")
    add_output(p)
    add_context(p)


def _token_one(output: bool) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        p.add_argument("token", metavar="UID_OR_NAME", help="the token's uid (or its name)")
        if output:
            add_output(p)
        add_context(p)
    return add


def _secret_actions() -> dict[str, Action]:
    prog = "%bentocloud secret"
    return {
        "list": Action(_parser(f"{prog} list", "List secrets: names, keys, type, stage, path, cluster (never values).",
                               _secret_list), "api.secrets"),
        "create": Action(_parser(f"{prog} create", "Create a secret (bentoml secret create).",
                                 lambda p: _secret_values(p, True), kind=ValueParser), "api.create_secret"),
        "apply": Action(_parser(f"{prog} apply", "Create the secret, or replace its keys and values if it exists.",
                                lambda p: _secret_values(p, False), kind=ValueParser), "api.apply_secret"),
        "delete": Action(_parser(f"{prog} delete", "Delete a secret.", _secret_delete), "api.delete_secret"),
    }


def _token_actions() -> dict[str, Action]:
    prog = "%bentocloud api-token"
    return {
        "list": Action(_parser(f"{prog} list", "List API tokens: name, scopes, expiry, last use (never the token).",
                               _token_list), "api.api_tokens"),
        "create": Action(_parser(f"{prog} create", "Create an API token: saved as a context (--save-as), written to "
                                 "a file (--output-file), or shown once.", _token_create), "api.create_api_token"),
        "get": Action(_parser(f"{prog} get", "Show one API token's metadata.", _token_one(True)), "api.get_api_token"),
        "delete": Action(_parser(f"{prog} delete", "Revoke an API token.", _token_one(False)),
                         "api.delete_api_token"),
    }


ACTIONS: dict[str, dict[str, Action]] = {"secret": _secret_actions(), "api-token": _token_actions()}

ORG_SUBCOMMANDS: dict[str, Subcommand] = {
    "secrets": Subcommand(_parser("%bentocloud secrets", "List secrets (names and keys, never values).",
                                  _secret_list), "list secrets", "api.secrets"),
    "secret": Subcommand(ActionParser("%bentocloud secret", "Manage secrets, as `bentoml secret`.",
                                      ACTIONS["secret"]), "list|create|apply|delete secrets", "frontend.secret"),
    "api-tokens": Subcommand(_parser("%bentocloud api-tokens", "List API tokens (never the tokens).", _token_list),
                             "list API tokens", "api.api_tokens"),
    "api-token": Subcommand(ActionParser("%bentocloud api-token", "Manage API tokens, as `bentoml api-token`.",
                                         ACTIONS["api-token"]), "list|create|get|delete API tokens",
                            "frontend.api_token"),
}
