"""Parsers of the commands that take a deployment config: ``%deploy``, ``update``, ``apply``, ``start`` and the
``%%deploy`` cell magic; merged into :data:`~.parsers.SUBCOMMANDS` by :mod:`.parsers`.

The options are ``bentoml deploy``'s, same names and meanings, including the bento arguments ``--arg``
and ``--arg-file``; destination names follow the verbs' keywords (a test checks that they agree).
"""

from __future__ import annotations

import argparse

from bentocloud_jupyter.core.defaults import STRATEGIES
from bentocloud_jupyter.ipython.guard_parsers import add_confirm, add_ttl
from bentocloud_jupyter.ipython.parser_kit import (
    MagicArgumentParser,
    Subcommand,
    add_cluster,
    add_context,
    add_waiting,
    bento_arg,
    name_arg,
    new_parser,
    path_arg,
    simple_parser,
)

__all__ = ["CELL_DEPLOY", "CELL_DEPLOY_PARSER", "DEPLOY", "DEPLOY_PARSER", "DEPLOY_SUBCOMMANDS", "add_bento_args",
           "after_status"]


def add_bento_args(parser: argparse.ArgumentParser) -> None:
    """``--arg KEY=VALUE`` (repeatable, or ``k1=v1,k2=v2``) and ``--arg-file FILE``, as bentoml has them."""
    parser.add_argument("--arg", dest="args", action="append", default=None, metavar="KEY=VALUE",
                        help="bento argument for the build of a project folder (repeatable; k1=v1,k2=v2)")
    parser.add_argument("--arg-file", default=None, type=path_arg, metavar="PATH",
                        help="YAML file of bento arguments (an --arg wins over the same key)")


def _target(parser: argparse.ArgumentParser, create: bool) -> None:
    if create:
        parser.add_argument("bento", nargs="?", default=None, type=bento_arg,
                            help="bento on BentoCloud: name:version, or name; or a project folder to build")
        parser.add_argument("-n", "--name", default=None, help="deployment name (default: chosen by BentoCloud)")
    else:
        parser.add_argument("name", help="deployment to update")
        parser.add_argument("--bento", default=None, type=bento_arg, help="switch to this bento (name:version)")
    add_cluster(parser)


def _deploy_options(parser: argparse.ArgumentParser, *, create: bool, confirm: bool = True) -> None:
    """The options of ``bentoml deploy``, same names and meanings; ``--ttl`` and (not on ``%deploy``, which
    only creates) ``--confirm`` from the guardrails."""
    _target(parser, create)
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
    parser.add_argument("-f", "--config-file", default=None, type=path_arg, metavar="PATH",
                        help="YAML deployment config")
    parser.add_argument("--config-dict", default=None, metavar="JSON", help="JSON deployment config")
    add_bento_args(parser)
    add_waiting(parser)
    parser.add_argument("--dry-run", action="store_true", help="show the request instead of sending it")
    add_ttl(parser)
    if confirm:
        add_confirm(parser)
    add_context(parser)


def _with_options(prog: str, description: str, *, create: bool, confirm: bool = True) -> MagicArgumentParser:
    p = new_parser(prog, description)
    _deploy_options(p, create=create, confirm=confirm)
    return p


def _cell_deploy() -> MagicArgumentParser:
    p = new_parser("%%deploy", "Apply the deployment config written in YAML in the cell body: create the "
                   "deployment, or show what changes (current vs new) and replace its configuration.")
    p.add_argument("name", nargs="?", default=None, help="deployment name (when the config has no name:)")
    add_cluster(p)
    add_bento_args(p)
    add_waiting(p)
    p.add_argument("--dry-run", action="store_true", help="show the whole plan (or request); send nothing")
    add_ttl(p)
    add_confirm(p)
    add_context(p)
    return p


DEPLOY_SUBCOMMANDS: dict[str, Subcommand] = {
    "update": Subcommand(_with_options("%bentocloud update", "Change a deployment (merged into its current "
                                       "configuration).", create=False), "change a deployment", "api.update",
                         ("progress",)),
    "start": Subcommand(simple_parser("%bentocloud start", "Restart a terminated deployment (an update with its "
                                      "current configuration) and follow it to running.", name_arg(), add_cluster,
                                      add_waiting, add_ttl, add_context), "restart a terminated deployment",
                        "api.start"),
    "apply": Subcommand(_with_options("%bentocloud apply", "Create a deployment, or replace the configuration of "
                                      "the existing one (as `bentoml deployment apply`).", create=True),
                        "create or replace a deployment from a config", "api.apply", ("progress",)),
}

DEPLOY_PARSER = _with_options("%deploy", "Deploy a bento from BentoCloud (the options of `bentoml deploy`).",
                              create=True, confirm=False)
DEPLOY = Subcommand(DEPLOY_PARSER, "deploy a bento", "api.deploy", ("progress",))
CELL_DEPLOY_PARSER = _cell_deploy()
CELL_DEPLOY = Subcommand(CELL_DEPLOY_PARSER, "apply the deployment config in the cell", "api.apply",
                         ("progress",))


def after_status(table: dict[str, Subcommand]) -> None:
    """Put these subcommands right after ``status`` in ``table`` (the order ``%bentocloud help`` lists)."""
    entries = list(table.items())
    at = next((i + 1 for i, (key, _) in enumerate(entries) if key == "status"), len(entries))
    table.clear()
    table.update([*entries[:at], *DEPLOY_SUBCOMMANDS.items(), *entries[at:]])
