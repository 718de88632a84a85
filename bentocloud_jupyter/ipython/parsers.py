"""Argument parsers of ``%bentocloud`` subcommands and ``%deploy``: one ``argparse`` parser each.

Destination names and defaults follow the keyword signatures of :mod:`bentocloud_jupyter.core.api`
(the source of truth; a test checks that they agree). Errors raise IPython's own ``UsageError`` (a
one-line message, no traceback); ``--help`` raises :class:`HelpRequested` carrying the help text.
"""

from __future__ import annotations

from bentocloud_jupyter.core.defaults import DEFAULT_ENDPOINT, DEFAULT_TAIL, LOGIN_TIMEOUT
from bentocloud_jupyter.ipython.deploy_parsers import (
    CELL_DEPLOY,
    CELL_DEPLOY_PARSER,
    DEPLOY,
    DEPLOY_PARSER,
    after_status,
)
from bentocloud_jupyter.ipython.guard_parsers import add_confirm
from bentocloud_jupyter.ipython.parser_kit import (
    NAME_MAX,
    PATH_MAX,
    HelpRequested,
    MagicArgumentParser,
    SecretArgumentParser,
    Subcommand,
    add_cluster,
    add_context,
    add_output,
    add_waiting,
    add_yes,
    bento_arg,
    name_arg,
    new_parser,
    path_arg,
    port_arg,
    simple_parser,
    speed_arg,
    split_line,
    token_arg,
)

__all__ = ["CELL_DEPLOY", "CELL_DEPLOY_PARSER", "DEPLOY", "DEPLOY_PARSER", "NAME_MAX", "PATH_MAX", "SUBCOMMANDS",
           "HelpRequested", "MagicArgumentParser", "SecretArgumentParser", "Subcommand", "add_cluster", "add_context",
           "add_output", "add_waiting", "add_yes", "bento_arg", "help_text", "name_arg", "new_parser", "path_arg",
           "port_arg", "simple_parser", "speed_arg", "split_line", "token_arg"]


def _login() -> MagicArgumentParser:
    p = new_parser("%bentocloud login", "Log in to BentoCloud and save the token as a context.", SecretArgumentParser)
    p.add_argument("--endpoint", default=DEFAULT_ENDPOINT, metavar="URL")
    p.add_argument("--context", default=None, metavar="NAME", help="context to save into (default: the current)")
    p.add_argument("--api-token", default=None, type=token_arg, metavar="TOKEN",
                   help="avoid: the token is then stored in the notebook; omit it to be prompted")
    p.add_argument("--browser", action="store_true", help="create a new token in the browser (code flow)")
    p.add_argument("--timeout", type=float, default=LOGIN_TIMEOUT, metavar="S",
                   help="seconds for the request (and, x10, for the browser approval)")
    p.add_argument("--insecure", action="store_true", help="allow plain http to a remote host")
    return p


def _deployments() -> MagicArgumentParser:
    p = new_parser("%bentocloud deployments", "List deployments.")
    add_cluster(p)
    p.add_argument("--all", action="store_true", help="every cluster")
    p.add_argument("--search", default=None, metavar="Q", help="name contains Q")
    p.add_argument("--label", dest="labels", action="append", default=None, metavar="K=V", help="filter by label")
    p.add_argument("-o", "--output", default="table", choices=("table", "json", "yaml"))
    add_context(p)
    return p


def _sandbox() -> MagicArgumentParser:
    p = new_parser("%bentocloud sandbox", "Start a local BentoCloud sandbox in this kernel and switch to it.")
    p.add_argument("--port", type=port_arg, default=0, metavar="P", help="port on 127.0.0.1 (default: any free)")
    p.add_argument("--speed", type=speed_arg, default=1.0, metavar="X", help="run the lifecycle X times faster")
    p.add_argument("--stop", action="store_true", help="stop it and switch back to the previous context")
    return p


def _push() -> MagicArgumentParser:
    p = new_parser("%bentocloud push", "Push a bento (with its models) or a model from the local store.")
    p.add_argument("tag", help="name:version (or name for the latest) in the local store")
    p.add_argument("--force", action="store_true", help="upload again even if already on BentoCloud")
    add_context(p)
    return p


def _pull() -> MagicArgumentParser:
    p = new_parser("%bentocloud pull", "Pull a bento (with its models) or a model into the local store.")
    p.add_argument("tag", help="name:version (or name for the latest) on BentoCloud")
    p.add_argument("--output", default=None, type=path_arg, metavar="PATH", help="save the archive to PATH instead")
    p.add_argument("--force", action="store_true", help="replace a local copy")
    add_context(p)
    return p


def _logs() -> MagicArgumentParser:
    p = new_parser("%bentocloud logs", "Recent log lines of a deployment's containers (the image build's while it "
                "builds); --follow streams them live under the cell.")
    p.add_argument("name")
    p.add_argument("--follow", action="store_true", help="keep streaming (stop with the Stop button or unwatch)")
    p.add_argument("--tail", type=int, default=DEFAULT_TAIL, metavar="N",
                   help=f"lines to read back per container (default {DEFAULT_TAIL})")
    add_cluster(p)
    add_context(p)
    return p


def _call() -> MagicArgumentParser:
    p = new_parser("%bentocloud call", "Call an API of a ready deployment and show the response and its latency.")
    p.add_argument("name", help="deployment")
    p.add_argument("api_name", metavar="API", help="API name, e.g. summarize")
    body = p.add_mutually_exclusive_group()
    body.add_argument("--json", default=None, metavar="JSON", help="""JSON body, e.g. '{"text": "hi"}'""")
    body.add_argument("--file", default=None, type=path_arg, metavar="PATH", help="send this file's bytes as the body")
    add_context(p)
    return p


def _unwatch() -> MagicArgumentParser:
    p = new_parser("%bentocloud unwatch", "Stop live status displays and log streams.")
    p.add_argument("name", nargs="?", default=None)
    p.add_argument("--all", action="store_true")
    return p


SUBCOMMANDS: dict[str, Subcommand] = {
    "login": Subcommand(_login(), "log in and save a context", "frontend.login"),
    "logout": Subcommand(simple_parser("%bentocloud logout", "Remove a context.", name_arg(optional=True)),
                         "remove a context", "api.logout"),
    "contexts": Subcommand(simple_parser("%bentocloud contexts", "List saved contexts."),
                           "list contexts (picker panel)",
                           "api.contexts"),
    "use": Subcommand(simple_parser("%bentocloud use", "Switch the current context.", name_arg()),
                      "switch the current context", "api.use_context"),
    "whoami": Subcommand(simple_parser("%bentocloud whoami", "Who am I, where, and why.", add_context),
                         "show the resolved identity", "api.whoami"),
    "deployments": Subcommand(_deployments(), "list deployments", "api.list_deployments"),
    "get": Subcommand(simple_parser("%bentocloud get", "Show one deployment.", name_arg(), add_cluster, add_output,
                                    add_context),
                      "show one deployment", "api.get"),
    "status": Subcommand(simple_parser("%bentocloud status", "Live status of a deployment.", name_arg(), add_cluster,
                                 add_waiting, add_context), "live status of a deployment", "api.status"),
    "terminate": Subcommand(simple_parser("%bentocloud terminate", "Stop a deployment.", name_arg(), add_cluster,
                                          add_waiting, add_confirm, add_context), "stop a deployment",
                            "api.terminate"),
    "delete": Subcommand(simple_parser("%bentocloud delete", "Delete a deployment.", name_arg(), add_cluster, add_yes,
                                       add_confirm, add_context), "delete a deployment", "frontend.delete"),
    "instance-types": Subcommand(simple_parser("%bentocloud instance-types", "List instance types.", add_cluster,
                                               add_context),
                                 "list instance types", "api.instance_types"),
    "clusters": Subcommand(simple_parser("%bentocloud clusters", "List clusters.", add_context), "list clusters",
                           "api.clusters"),
    "push": Subcommand(_push(), "push a bento or model from the local store", "api.push", ("progress",)),
    "pull": Subcommand(_pull(), "pull a bento or model into the local store", "api.pull", ("progress",)),
    "bentos": Subcommand(simple_parser("%bentocloud bentos", "List bentos on BentoCloud.", add_context), "list bentos",
                         "api.bentos"),
    "models": Subcommand(simple_parser("%bentocloud models", "List models on BentoCloud.", add_context), "list models",
                         "api.models"),
    "logs": Subcommand(_logs(), "recent (or live) log lines of a deployment", "api.logs"),
    "call": Subcommand(_call(), "call an API of a ready deployment", "api.call"),
    "sandbox": Subcommand(_sandbox(), "start/stop the local sandbox", "frontend.sandbox"),
    "unwatch": Subcommand(_unwatch(), "stop live status displays and log streams", "frontend.unwatch"),
}

def help_text() -> str:
    """The overview shown by ``%bentocloud help``."""
    width = max(len(name) for name in SUBCOMMANDS)
    lines = ["Usage: %bentocloud SUBCOMMAND [options]   (add --help to any subcommand)", ""]
    lines += [f"  {name:<{width}}  {entry.summary}" for name, entry in SUBCOMMANDS.items()]
    lines += ["", "  %deploy BENTO [options]   deploy a bento (see %deploy --help)",
              "  %%deploy [NAME] [--dry-run] [--wait]   apply the YAML deployment config in the cell",
              "", "Settings: %config BentoCloudMagics  (poll_interval, timeout, context, widgets, and",
              "          watch_timeout: the default --timeout of commands that watch or --wait)"]
    return "\n".join(lines)


# Deployment-config subcommands (update, start, apply; %deploy and %%deploy) come from deploy_parsers, the
# organisation-level ones (secrets, API tokens) from org_parsers; both build on parser_kit.
after_status(SUBCOMMANDS)
from bentocloud_jupyter.ipython.org_parsers import ORG_SUBCOMMANDS  # noqa: E402

SUBCOMMANDS.update(ORG_SUBCOMMANDS)
from bentocloud_jupyter.ipython.eval_parsers import EVAL_SUBCOMMANDS  # noqa: E402  (evaluation: bench)

SUBCOMMANDS.update(EVAL_SUBCOMMANDS)
# Guardrails (session, teardown; protect, unprotect; doctor) and codespaces (code) each have their room.
from bentocloud_jupyter.ipython.code_parsers import CODE_SUBCOMMANDS  # noqa: E402
from bentocloud_jupyter.ipython.doctor_parsers import DOCTOR_SUBCOMMANDS  # noqa: E402
from bentocloud_jupyter.ipython.guard_parsers import GUARD_SUBCOMMANDS  # noqa: E402
from bentocloud_jupyter.ipython.protect_parsers import PROTECT_SUBCOMMANDS  # noqa: E402

for _room in (GUARD_SUBCOMMANDS, PROTECT_SUBCOMMANDS, DOCTOR_SUBCOMMANDS, CODE_SUBCOMMANDS):
    SUBCOMMANDS.update(_room)
