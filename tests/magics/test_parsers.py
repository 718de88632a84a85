"""The magics' parsers follow the API verbs' keyword signatures: same names, same defaults."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

from bentocloud_jupyter.core import api
from bentocloud_jupyter.ipython import frontend
from bentocloud_jupyter.ipython.parsers import DEPLOY_PARSER, SUBCOMMANDS

# subcommand -> (verb, parser destinations that exist only in the magic)
TWINS: dict[str, tuple[Callable[..., Any], set[str]]] = {
    "login": (api.login, {"browser"}),
    "logout": (api.logout, set()),
    "contexts": (api.contexts, set()),
    "use": (api.use_context, set()),
    "whoami": (api.whoami, set()),
    "deployments": (api.list_deployments, set()),
    "get": (api.get, set()),
    "status": (api.status, set()),
    "update": (api.update, set()),
    "terminate": (api.terminate, set()),
    "delete": (api.delete, {"yes"}),
    "instance-types": (api.instance_types, set()),
    "clusters": (api.clusters, set()),
    "push": (api.push, set()),
    "pull": (api.pull, set()),
    "bentos": (api.bentos, set()),
    "models": (api.models, set()),
    "logs": (api.logs, set()),
    "call": (api.call, set()),
    "start": (api.start, set()),
    "apply": (api.apply, set()),
    "secrets": (api.secrets, set()),
    "secret": (frontend.secret, set()),  # each action's parser vs its verb: tests/magics/test_magics_secrets_tokens.py
    "api-tokens": (api.api_tokens, set()),
    "api-token": (frontend.api_token, set()),
    "bench": (api.bench, set()),
    "doctor": (api.doctor, set()),
    "protect": (api.protect, set()),
    "unprotect": (api.unprotect, set()),
    "session": (api.session, set()),
    "teardown": (api.teardown, set()),
    "code": (api.code, set()),
}


def _parser_defaults(parser: Any) -> dict[str, Any]:
    defaults = {}
    for action in parser._actions:
        if action.dest == "help":
            continue
        value = action.default
        defaults[action.dest] = () if value is None and action.__class__.__name__ == "_AppendAction" else value
    return defaults


def _compare(parser: Any, verb: Callable[..., Any], magic_only: set[str]) -> None:
    signature = inspect.signature(verb)
    # keyword-only parameters are what a front end injects (progress=), never a flag of the line
    params = {n: p.default for n, p in signature.parameters.items() if p.kind is not p.KEYWORD_ONLY}
    defaults = _parser_defaults(parser)
    assert set(defaults) - magic_only == set(params), f"{parser.prog} vs {verb.__name__}"
    for name, default in params.items():
        if default is not inspect.Parameter.empty:
            assert defaults[name] == default, f"{parser.prog}: default of {name}"


@pytest.mark.parametrize("sub", sorted(TWINS))
def test_subcommand_parsers_match_api_signatures(sub: str) -> None:
    verb, magic_only = TWINS[sub]
    _compare(SUBCOMMANDS[sub][0], verb, magic_only)


def test_deploy_parser_matches_api_deploy() -> None:
    _compare(DEPLOY_PARSER, api.deploy, set())


def test_every_subcommand_has_a_twin_or_is_front_end_only() -> None:
    assert set(SUBCOMMANDS) - set(TWINS) == {"sandbox", "unwatch"}
    import bentocloud_jupyter as bc
    assert callable(bc.start_sandbox) and callable(bc.stop_sandbox) and callable(bc.unwatch)
