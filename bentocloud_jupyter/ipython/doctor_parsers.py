"""Subcommands of the doctor room, merged into :data:`~.parsers.SUBCOMMANDS`: ``%bentocloud doctor``."""

from __future__ import annotations

import argparse

from bentocloud_jupyter.ipython.parser_kit import Subcommand, add_context, simple_parser

__all__ = ["DOCTOR_SUBCOMMANDS", "DOCTOR_TIMEOUT"]

DOCTOR_TIMEOUT = 10.0
"""The verb's default (``core.api.doctor.DEFAULT_DOCTOR_TIMEOUT``), repeated so the table stays light to load."""


def _seconds(value: str) -> float:
    """A number of seconds; the verb checks its range (one line, nothing sent)."""
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError("the timeout is a number of seconds, e.g. 10") from None


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--timeout", type=_seconds, default=DOCTOR_TIMEOUT, metavar="S",
                        help=f"seconds each request to BentoCloud may take (default {DOCTOR_TIMEOUT:g})")


DOCTOR_SUBCOMMANDS: dict[str, Subcommand] = {
    "doctor": Subcommand(simple_parser("%bentocloud doctor", "Is everything in order? Versions, front end, "
                                       "credentials, endpoint, token and clock: each ok, warn or fail, with what "
                                       "to do. Never shows a token.", add_context, _add_timeout),
                         "check the setup, one line per check", "api.doctor"),
}
