"""Subcommands of the guard room (``session``, ``teardown``), merged into :data:`~.parsers.SUBCOMMANDS`, and
the two flags the guardrails add to other commands: ``--ttl`` and ``--confirm``."""

from __future__ import annotations

import argparse
import re

from bentocloud_jupyter.ipython.parser_kit import MagicArgumentParser, Subcommand, add_context, new_parser

__all__ = ["GUARD_SUBCOMMANDS", "add_confirm", "add_ttl"]

_NEGATIVE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-\d+[smhdSMHD]$")  # argparse's own, and a negative duration


def add_ttl(parser: argparse.ArgumentParser) -> None:
    """``--ttl DURATION``: terminate it when the time is up (checked by the verb, before anything is sent).

    ``--ttl -5m`` reaches the verb, which says a TTL cannot be negative: argparse would otherwise take
    ``-5m`` for an option and answer "expected one argument" (it only lets ``-5`` through as a value).
    """
    parser.add_argument("--ttl", default=None, metavar="DURATION",
                        help="terminate it after this long: 90s, 30m, 2h or 1d (a timer in this kernel and an "
                             "expires-at label)")
    parser._negative_number_matcher = _NEGATIVE


def add_confirm(parser: argparse.ArgumentParser) -> None:
    """``--confirm NAME``: the target's name typed back, which a protected context asks for."""
    parser.add_argument("--confirm", default=None, metavar="NAME",
                        help="in a protected context: the deployment's name, typed back")


def _session() -> MagicArgumentParser:
    p = new_parser("%bentocloud session", "What this kernel created, started or updated, with live status.")
    p.add_argument("--all", action="store_true", help="everything our labels mark, left by any kernel")
    add_context(p)
    return p


def _teardown() -> MagicArgumentParser:
    p = new_parser("%bentocloud teardown", "Terminate (or delete) everything this kernel started, after one "
                   "question that lists it.")
    p.add_argument("--delete", action="store_true", help="delete instead of terminating")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--confirm", default=None, metavar="NAME",
                   help="in a protected context: the context's name, typed back")
    add_context(p)
    return p


GUARD_SUBCOMMANDS: dict[str, Subcommand] = {
    "session": Subcommand(_session(), "what this kernel started, live", "api.session"),
    "teardown": Subcommand(_teardown(), "terminate (or delete) what this kernel started", "frontend.teardown"),
}
