"""Argument parsers of ``%bentocloud`` subcommands and ``%deploy``: one ``argparse`` parser each.

Destination names and defaults follow the keyword signatures of :mod:`bentocloud_jupyter.core.api`
(the source of truth; a test checks that they agree). Errors raise IPython's own ``UsageError`` (a
one-line message, no traceback); ``--help`` raises :class:`HelpRequested` carrying the help text.
"""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Callable
from typing import Any, NamedTuple, NoReturn

from bentocloud_jupyter.core.defaults import DEFAULT_ENDPOINT, DEFAULT_TAIL, DEFAULT_TIMEOUT, LOGIN_TIMEOUT, STRATEGIES
from bentocloud_jupyter.core.errors import InvalidInputError

__all__ = ["DEPLOY", "DEPLOY_PARSER", "SUBCOMMANDS", "HelpRequested", "MagicArgumentParser", "Subcommand",
           "split_line"]


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

        raise UsageError(f"{self.prog}: {message} (see `{self.prog} --help`)")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise HelpRequested(self.format_help())

    def print_help(self, file: Any = None) -> None:
        raise HelpRequested(self.format_help())


def split_line(line: str) -> list[str]:
    """Shell-style quoting, as users expect from a command line."""
    try:
        return shlex.split(line)
    except ValueError as exc:
        raise InvalidInputError(f"Cannot parse the line: {exc} (check your quotes)") from None


def _parser(prog: str, description: str) -> MagicArgumentParser:
    return MagicArgumentParser(prog=prog, description=description, add_help=True, allow_abbrev=False)


def _context(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", default=None, metavar="NAME", help="credentials context to use")


def _cluster(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--cluster", default=None, metavar="C", help="cluster name (default: the default cluster)")


def _waiting(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--wait", action=argparse.BooleanOptionalAction, default=False,
                        help="block until it settles (for headless runs); default: return at once")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="S",
                        help=f"seconds to wait at most (default {DEFAULT_TIMEOUT:g})")


def _deploy_options(parser: argparse.ArgumentParser, *, create: bool) -> None:
    """The options of ``bentoml deploy``, same names and meanings."""
    if create:
        parser.add_argument("bento", nargs="?", default=None, help="bento on BentoCloud: name:version, or name")
        parser.add_argument("-n", "--name", default=None, help="deployment name (default: chosen by BentoCloud)")
    else:
        parser.add_argument("name", help="deployment to update")
        parser.add_argument("--bento", default=None, help="switch to this bento (name:version)")
    _cluster(parser)
    parser.add_argument("--access-authorization", default=None, metavar="BOOL",
                        help="require a token to call the endpoint (true/false)")
    parser.add_argument("--scaling-min", type=int, default=None, metavar="N", help="minimum replicas")
    parser.add_argument("--scaling-max", type=int, default=None, metavar="N", help="maximum replicas")
    parser.add_argument("--instance-type", default=None, metavar="T", help="see %%bentocloud instance-types")
    parser.add_argument("--strategy", default=None, choices=STRATEGIES, help="rollout strategy")
    parser.add_argument("--label", dest="labels", action="append", default=None, metavar="K=V",
                        help="deployment label (repeatable)")
    parser.add_argument("--env", dest="envs", action="append", default=None, metavar="K[=V]",
                        help="environment variable; K alone copies the kernel's value (repeatable)")
    parser.add_argument("--secret", dest="secrets", action="append", default=None, metavar="NAME",
                        help="organisation secret to attach (repeatable)")
    parser.add_argument("-f", "--config-file", default=None, metavar="PATH", help="YAML deployment config")
    parser.add_argument("--config-dict", default=None, metavar="JSON", help="JSON deployment config")
    _waiting(parser)
    parser.add_argument("--dry-run", action="store_true", help="show the request instead of sending it")
    _context(parser)


def _login() -> MagicArgumentParser:
    p = _parser("%bentocloud login", "Log in to BentoCloud and save the token as a context.")
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT, metavar="URL")
    p.add_argument("--context", default=None, metavar="NAME", help="context to save into (default: the current)")
    p.add_argument("--api-token", default=None, metavar="TOKEN",
                   help="avoid: the token is then stored in the notebook; omit it to be prompted")
    p.add_argument("--browser", action="store_true", help="create a new token in the browser (code flow)")
    p.add_argument("--timeout", type=float, default=LOGIN_TIMEOUT, metavar="S",
                   help="seconds for the request (and, x10, for the browser approval)")
    p.add_argument("--insecure", action="store_true", help="allow plain http to a remote host")
    return p


def _simple(prog: str, description: str, *args: Callable[[argparse.ArgumentParser], None]) -> MagicArgumentParser:
    p = _parser(prog, description)
    for add in args:
        add(p)
    return p


def _name_arg(optional: bool = False) -> Callable[[argparse.ArgumentParser], None]:
    def add(p: argparse.ArgumentParser) -> None:
        if optional:
            p.add_argument("context", nargs="?", default=None, help="context to remove (default: the current)")
        else:
            p.add_argument("name")
    return add


def _deployments() -> MagicArgumentParser:
    p = _parser("%bentocloud deployments", "List deployments.")
    _cluster(p)
    p.add_argument("--all", action="store_true", help="every cluster")
    p.add_argument("--search", default=None, metavar="Q", help="name contains Q")
    p.add_argument("--label", dest="labels", action="append", default=None, metavar="K=V", help="filter by label")
    p.add_argument("-o", "--output", default="table", choices=("table", "json", "yaml"))
    _context(p)
    return p


def _output(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", default="table", choices=("table", "json", "yaml"))


def _yes(p: argparse.ArgumentParser) -> None:
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _sandbox() -> MagicArgumentParser:
    p = _parser("%bentocloud sandbox", "Start a local BentoCloud sandbox in this kernel and switch to it.")
    p.add_argument("--port", type=int, default=0, metavar="P", help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--speed", type=float, default=1.0, metavar="X", help="run the lifecycle X times faster")
    p.add_argument("--stop", action="store_true", help="stop it and switch back to the previous context")
    return p


def _push() -> MagicArgumentParser:
    p = _parser("%bentocloud push", "Push a bento (with its models) or a model from the local store.")
    p.add_argument("tag", help="name:version (or name for the latest) in the local store")
    p.add_argument("--force", action="store_true", help="upload again even if already on BentoCloud")
    _context(p)
    return p


def _pull() -> MagicArgumentParser:
    p = _parser("%bentocloud pull", "Pull a bento (with its models) or a model into the local store.")
    p.add_argument("tag", help="name:version (or name for the latest) on BentoCloud")
    p.add_argument("--output", default=None, metavar="PATH", help="save the archive to PATH instead")
    p.add_argument("--force", action="store_true", help="replace a local copy")
    _context(p)
    return p


def _logs() -> MagicArgumentParser:
    p = _parser("%bentocloud logs", "Recent log lines of a deployment's containers (the image build's while it "
                "builds); --follow streams them live under the cell.")
    p.add_argument("name")
    p.add_argument("--follow", action="store_true", help="keep streaming (stop with the Stop button or unwatch)")
    p.add_argument("--tail", type=int, default=DEFAULT_TAIL, metavar="N",
                   help=f"lines to read back per container (default {DEFAULT_TAIL})")
    _cluster(p)
    _context(p)
    return p


def _call() -> MagicArgumentParser:
    p = _parser("%bentocloud call", "Call an API of a ready deployment and show the response and its latency.")
    p.add_argument("name", help="deployment")
    p.add_argument("api_name", metavar="API", help="API name, e.g. summarize")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--json", default=None, metavar="JSON", help="""JSON body, e.g. '{"text": "hi"}'""")
    body.add_argument("--file", default=None, metavar="PATH", help="send this file's bytes as the body")
    _context(p)
    return p


def _unwatch() -> MagicArgumentParser:
    p = _parser("%bentocloud unwatch", "Stop live status displays and log streams.")
    p.add_argument("name", nargs="?", default=None)
    p.add_argument("--all", action="store_true")
    return p


def _update() -> MagicArgumentParser:
    p = _parser("%bentocloud update", "Change a deployment (merged into its current configuration).")
    _deploy_options(p, create=False)
    return p


def _build_deploy() -> MagicArgumentParser:
    p = _parser("%deploy", "Deploy a bento from BentoCloud (the options of `bentoml deploy`).")
    _deploy_options(p, create=True)
    return p


SUBCOMMANDS: dict[str, Subcommand] = {
    "login": Subcommand(_login(), "log in and save a context", "frontend.login"),
    "logout": Subcommand(_simple("%bentocloud logout", "Remove a context.", _name_arg(optional=True)),
                         "remove a context", "api.logout"),
    "contexts": Subcommand(_simple("%bentocloud contexts", "List saved contexts."), "list contexts (picker panel)",
                           "api.contexts"),
    "use": Subcommand(_simple("%bentocloud use", "Switch the current context.", _name_arg()),
                      "switch the current context", "api.use_context"),
    "whoami": Subcommand(_simple("%bentocloud whoami", "Who am I, where, and why.", _context),
                         "show the resolved identity", "api.whoami"),
    "deployments": Subcommand(_deployments(), "list deployments", "api.list_deployments"),
    "get": Subcommand(_simple("%bentocloud get", "Show one deployment.", _name_arg(), _cluster, _output, _context),
                      "show one deployment", "api.get"),
    "status": Subcommand(_simple("%bentocloud status", "Live status of a deployment.", _name_arg(), _cluster,
                                 _waiting, _context), "live status of a deployment", "api.status"),
    "update": Subcommand(_update(), "change a deployment", "api.update", ("progress",)),
    "terminate": Subcommand(_simple("%bentocloud terminate", "Stop a deployment.", _name_arg(), _cluster, _waiting,
                                    _context), "stop a deployment", "api.terminate"),
    "delete": Subcommand(_simple("%bentocloud delete", "Delete a deployment.", _name_arg(), _cluster, _yes,
                                 _context), "delete a deployment", "frontend.delete"),
    "instance-types": Subcommand(_simple("%bentocloud instance-types", "List instance types.", _cluster, _context),
                                 "list instance types", "api.instance_types"),
    "clusters": Subcommand(_simple("%bentocloud clusters", "List clusters.", _context), "list clusters",
                           "api.clusters"),
    "push": Subcommand(_push(), "push a bento or model from the local store", "api.push", ("progress",)),
    "pull": Subcommand(_pull(), "pull a bento or model into the local store", "api.pull", ("progress",)),
    "bentos": Subcommand(_simple("%bentocloud bentos", "List bentos on BentoCloud.", _context), "list bentos",
                         "api.bentos"),
    "models": Subcommand(_simple("%bentocloud models", "List models on BentoCloud.", _context), "list models",
                         "api.models"),
    "logs": Subcommand(_logs(), "recent (or live) log lines of a deployment", "api.logs"),
    "call": Subcommand(_call(), "call an API of a ready deployment", "api.call"),
    "sandbox": Subcommand(_sandbox(), "start/stop the local sandbox", "frontend.sandbox"),
    "unwatch": Subcommand(_unwatch(), "stop live status displays and log streams", "frontend.unwatch"),
}

DEPLOY_PARSER = _build_deploy()
DEPLOY = Subcommand(DEPLOY_PARSER, "deploy a bento", "api.deploy", ("progress",))


def help_text() -> str:
    """The overview shown by ``%bentocloud help``."""
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["Usage: %bentocloud SUBCOMMAND [options]   (add --help to any subcommand)", ""]
    lines += [f"  {name:<{width}}  {entry.summary}" for name, entry in SUBCOMMANDS.items()]
    lines += ["", "  %deploy BENTO [options]   deploy a bento (see %deploy --help)",
              "", "Settings: %config BentoCloudMagics  (poll_interval, timeout, context, widgets, and",
              "          watch_timeout: the default --timeout of commands that watch or --wait)"]
    return "\n".join(lines)
