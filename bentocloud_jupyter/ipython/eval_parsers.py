"""Parsers of the evaluation subcommands, merged into ``parsers.SUBCOMMANDS``: ``%bentocloud bench``.

``%bentocloud bench NAME API --json '{...}' [-n N] [-c CONCURRENCY] [--duration 30s]`` runs ``api.bench``; the
destinations follow the verb's keywords (the parser/verb contract test checks them). Light imports only: the
table is built at ``%load_ext``.
"""

from __future__ import annotations

import argparse
import math
import re

from bentocloud_jupyter.ipython.parser_kit import MagicArgumentParser, Subcommand, add_cluster, add_context, new_parser

__all__ = ["EVAL_SUBCOMMANDS", "count_arg", "duration_arg"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$")
_UNIT = {"ms": 0.001, "s": 1.0, None: 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}


def duration_arg(value: str) -> float:
    """``30s``, ``500ms``, ``2m``, ``1h`` or plain seconds, as seconds above 0."""
    match = _DURATION.match(value)
    seconds = float(match.group(1)) * _UNIT[match.group(2)] if match else math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration; give e.g. 30s, 500ms or 2m")
    return seconds


def count_arg(value: str) -> int:
    """A whole number of at least 1 (the verb caps it)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return number


def _bench() -> MagicArgumentParser:
    p = new_parser("%bentocloud bench", "Load-test an API of a ready (or scaled-to-zero) deployment: the same body "
                                        "N times, C at a time; shows throughput, latency percentiles and charts.")
    p.add_argument("name", help="deployment")
    p.add_argument("api", metavar="API", help="API name, e.g. summarize")
    p.add_argument("--json", default=None, metavar="JSON", help="""JSON body, e.g. '{"text": "hi"}'""")
    p.add_argument("-n", dest="n", type=count_arg, default=None, metavar="N",
                   help="number of calls (default 100; with --duration, as many as fit)")
    p.add_argument("-c", "--concurrency", type=count_arg, default=8, metavar="C", help="calls at a time (default 8)")
    p.add_argument("--duration", type=duration_arg, default=None, metavar="D",
                   help="send no new call after this long, e.g. 30s")
    p.add_argument("--timeout", type=duration_arg, default=None, metavar="S", help="seconds per request")
    p.add_argument("--retries", type=int, default=0, metavar="R", help="retries on 429/503 per call (default 0)")
    add_cluster(p)
    add_context(p)
    return p


EVAL_SUBCOMMANDS: dict[str, Subcommand] = {
    "bench": Subcommand(_bench(), "load-test an API: throughput, latency percentiles, charts", "api.bench"),
}
