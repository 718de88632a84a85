"""The context banner: one short line above every output that changes something in BentoCloud.

The same notebook runs against staging or production by changing one context, or because
``BENTO_CLOUD_API_KEY`` is set and silently wins; the line says which, before the change is sent, and is
red in a protected context. It never makes a request (one read of the credentials file) and never
raises: a file that cannot be read is the verb's to report, so the banner then says nothing.

In a kernel it is display data (HTML, with its text/plain twin); outside one (terminal IPython, an
embedded shell) nothing renders HTML, so it is the text line on stdout, red on a terminal when protected.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.ipython.parser_kit import Subcommand

__all__ = ["CHANGING_VERBS", "READ_ONLY_ACTIONS", "announce", "announce_context", "banner_bundle", "changes_something",
           "in_kernel"]

CHANGING_VERBS = frozenset({"deploy", "update", "start", "apply", "terminate", "delete", "push", "teardown", "code",
                            "secret", "api_token"})
"""Verb names (after ``api.`` / ``frontend.``) that create, change or remove something in BentoCloud."""
READ_ONLY_ACTIONS = {"secret": frozenset({"list"}), "api_token": frozenset({"list", "get"})}
"""Actions of an action family that only read; any other action of a family (or an unknown one) changes."""
LIST_ACTIONS = frozenset({"list", "ls", "get", "status", "show"})
"""Read-only actions of families not listed above (``code list``, ...)."""
DANGER, CALM = "#cf222e", "#57606a"
ORG_CHARS = 60
RED, RESET = "\x1b[31;1m", "\x1b[0m"


def changes_something(command: Subcommand, kwargs: Mapping[str, Any]) -> bool:
    """Whether ``command`` with these arguments changes something in BentoCloud (a dry run does not)."""
    name = command.verb.partition(".")[2]
    if name not in CHANGING_VERBS or kwargs.get("dry_run") or kwargs.get("list") is True:  # `code --list` reads
        return False
    action = kwargs.get("action")
    if not isinstance(action, str):
        return True
    return action not in READ_ONLY_ACTIONS.get(name, LIST_ACTIONS)


def _parts(where: Any) -> tuple[str, str]:
    """(what is chosen, the rest) for one line: context (or the environment), organization, host."""
    named = getattr(where, "protected_as", None)
    if where.env_override:
        asked = f"; context {where.requested!r} is ignored" if where.requested else ""
        token_of = f"; it holds the token of context {named!r}" if named and named != where.requested else ""
        chosen = f"BENTO_CLOUD_API_KEY (overrides the file{asked}{token_of})"
    else:
        by_env = " (chosen by BENTOML_CLOUD_CONTEXT)" if getattr(where, "env_context", False) else ""
        chosen = f"context {where.context!r}{by_env}"
    organization = where.organization if not where.organization or len(where.organization) <= ORG_CHARS else (
        where.organization[:ORG_CHARS] + "…")  # the server's words: one short line whatever it answers
    org = f"organization {organization!r}" if organization else f"at {where.endpoint_host}"
    return chosen, org


def banner_bundle(context: str | None) -> dict[str, str] | None:
    """The banner's text/plain and text/html for ``context``; None when it cannot be worked out."""
    found = _banner(context)
    return None if found is None else found[0]


def _banner(context: str | None) -> tuple[dict[str, str], bool] | None:
    """The bundle and whether the context is protected."""
    from bentocloud_jupyter.core.guardrails.whereami import whereabouts

    try:
        where = whereabouts(context)
    except Exception:  # a bad file or unknown context: the verb says so, in its own words
        return None
    chosen, org = _parts(where)
    mark = "PROTECTED " if where.protected else ""
    text = f"BentoCloud → {mark}{chosen} · {org}"
    colour = DANGER if where.protected else CALM
    weight = "font-weight:bold;" if where.protected else ""
    html = (f'<div class="bentocloud-banner" style="color:{colour};{weight}font-size:0.9em">'
            f"BentoCloud → {esc(mark)}{esc(chosen)} · {esc(org)}</div>")
    return {"text/plain": text, "text/html": html}, where.protected


def in_kernel() -> bool:
    """True in a Jupyter kernel, where display data renders as HTML."""
    from bentocloud_jupyter.ipython.present import widgets_enabled

    return widgets_enabled()


def _show(bundle: dict[str, str], protected: bool) -> None:
    if in_kernel():
        from IPython.display import display

        display(bundle, raw=True)
        return
    text = bundle["text/plain"]
    print(f"{RED}{text}{RESET}" if protected and sys.stdout.isatty() else text)


def announce(command: Subcommand, kwargs: dict[str, Any]) -> None:
    """Show where the change goes (context, organization, env override) before ``command`` runs."""
    try:
        if not changes_something(command, kwargs):
            return
    except Exception:  # the banner is a courtesy: it never stands in the way of the verb
        return
    announce_context(kwargs.get("context"))


def announce_context(context: str | None) -> None:
    """The banner for a change in ``context`` that is no subcommand (the ``%%bentocloud write`` cell)."""
    try:
        found = _banner(context)
        if found is not None:
            _show(*found)
    except Exception:  # never stands in the way of the change
        return
