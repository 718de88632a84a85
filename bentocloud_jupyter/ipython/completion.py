"""Tab completion for ``%bentocloud`` and ``%deploy``: subcommands, options, contexts, deployments,
instance types and clusters. Remote names come from a short-lived cache so completing never waits on
the network twice in a row.

Nothing heavy is imported here: the parsers load on the first completion, the context file reader
(YAML) on the first context name, the client (HTTP) on the first remote name, so loading the
extension costs nothing for completion.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from argparse import ArgumentParser

__all__ = ["complete_bentocloud", "complete_deploy"]

CACHE_SECONDS = 30.0
_NEEDS_DEPLOYMENT = {"get", "status", "update", "terminate", "delete", "unwatch", "logs", "call"}
_NEEDS_CONTEXT = {"use", "logout"}
_cache: dict[str, tuple[float, list[str]]] = {}


def _cached(key: str, fetch: Callable[[], list[str]]) -> list[str]:
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    try:
        values = fetch()
    except Exception:  # completion must never raise or print
        values = []
    _cache[key] = (now, values)
    return values


def _subcommands() -> Mapping[str, tuple[Any, ...]]:
    """The subcommand table of the parsers (each entry's first field is its parser), imported on first use."""
    from bentocloud_jupyter.ipython.parsers import SUBCOMMANDS

    return SUBCOMMANDS


def _deploy_parser() -> ArgumentParser:
    """The ``%deploy`` parser, imported on first completion of an option."""
    from bentocloud_jupyter.ipython.parsers import DEPLOY_PARSER

    return DEPLOY_PARSER


def _context_names() -> list[str]:
    try:
        from bentocloud_jupyter.core.credentials import config

        return config.load_config().names
    except Exception:
        return []


def _remote(kind: str) -> list[str]:
    def fetch() -> list[str]:
        from bentocloud_jupyter.core.rest import session

        client, _ = session.client_for(None)
        if kind == "deployments":
            return [d.name for d in client.list_deployments()]
        if kind == "instance-types":
            return [t.name for t in client.list_instance_types()]
        if kind == "clusters":
            return [c.name for c in client.list_clusters()]
        return [b.tag for b in client.list_bentos()]
    return _cached(kind, fetch)


def _options(parser: ArgumentParser) -> list[str]:
    return sorted(opt for action in parser._actions for opt in action.option_strings)


def _value_for(previous: str) -> list[str] | None:
    """Candidates for the value of the option just typed, if it takes a known kind of value."""
    if previous == "--context":
        return _context_names()
    if previous == "--instance-type":
        return _remote("instance-types")
    if previous == "--cluster":
        return _remote("clusters")
    if previous == "--bento":
        return _remote("bentos")
    return None


def complete_bentocloud(shell: Any, event: Any) -> list[str]:
    """IPython ``complete_command`` hook for ``%bentocloud``."""
    words = event.line.split()
    if event.line.endswith(" "):
        words.append("")
    subcommands = _subcommands()
    if len(words) <= 2:
        return [name for name in [*subcommands, "help"] if name.startswith(event.symbol)]
    sub, previous = words[1], words[-2]
    values = _value_for(previous)
    if values is not None:
        return values
    if event.symbol.startswith("-") and sub in subcommands:
        return _options(subcommands[sub][0])
    if sub in _NEEDS_CONTEXT and len(words) == 3:
        return _context_names()
    if sub in _NEEDS_DEPLOYMENT and len(words) == 3:
        return _remote("deployments")
    if sub == "call" and len(words) == 4:
        return _apis(words[2])
    return []


def _apis(deployment: str) -> list[str]:
    """API names of a ready deployment (its OpenAPI document), cached like the other remote names."""
    def fetch() -> list[str]:
        from bentocloud_jupyter.core.calls.invoke import openapi

        return [a.name for a in openapi(deployment).apis]
    return _cached(f"apis:{deployment}", fetch)


def complete_deploy(shell: Any, event: Any) -> list[str]:
    """IPython ``complete_command`` hook for ``%deploy``."""
    words = event.line.split()
    if event.line.endswith(" "):
        words.append("")
    values = _value_for(words[-2]) if len(words) >= 2 else None
    if values is not None:
        return values
    if event.symbol.startswith("-"):
        return _options(_deploy_parser())
    return _remote("bentos") if len(words) == 2 else []
