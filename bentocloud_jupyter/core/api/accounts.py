"""Verbs over the credentials: log in and out, list and switch contexts, and say who you are."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.credentials.auth import BrowserLogin, LoginResult
from bentocloud_jupyter.core.credentials.auth import login as validate_and_save
from bentocloud_jupyter.core.credentials.config import DEFAULT_ENDPOINT, INSECURE_KEY
from bentocloud_jupyter.core.credentials.guard import read_settled
from bentocloud_jupyter.core.credentials.protected import protected_contexts
from bentocloud_jupyter.core.credentials.resolve import ResolvedContext
from bentocloud_jupyter.core.errors import ConfigError
from bentocloud_jupyter.core.guardrails.confirm import protected_as
from bentocloud_jupyter.core.guardrails.whereami import remember_organization
from bentocloud_jupyter.core.rest.session import client_for
from bentocloud_jupyter.core.results import ContextsView, Message, WhoAmI
from bentocloud_jupyter.core.tokens import Token

__all__ = ["ProtectedContextsView", "contexts", "credentials_file", "login", "logout", "start_browser_login",
           "use_context", "whoami"]


def login(endpoint: str = DEFAULT_ENDPOINT, api_token: str | Token | None = None, context: str | None = None,
          insecure: bool = False, timeout: float = 30.0) -> LoginResult:
    """Validate a token and save it as a context (see :func:`~.credentials.auth.login`)."""
    result = validate_and_save(endpoint, api_token, context, insecure=insecure, timeout=timeout)
    saved = config.load_config().find(result.context)
    if saved is not None:  # the banner names the organization from now on, without asking again
        remember_organization(saved.endpoint, saved.api_token, result.organization.name)
    if insecure:  # remember the user's explicit choice for this context's later calls
        config.update_config(lambda cfg: allow_insecure(cfg, result.context))
    return result


def allow_insecure(cfg: config.Config, name: str) -> config.Config:
    """``cfg`` with plain http allowed for the context ``name``, set on the file as read inside the lock."""
    if cfg.find(name) is None:
        raise config.context_not_found(name, cfg)
    flagged = tuple(replace(ctx, extra={**ctx.extra, INSECURE_KEY: True}) if ctx.name == name else ctx
                    for ctx in cfg.contexts)
    return replace(cfg, contexts=flagged)


def logout(context: str | None = None) -> Message:
    """Remove a context from the credentials file (default: the current one).

    Raises:
        ContextNotFoundError: no such context.
    """
    # Settled: a read in the middle of a `bentoml` write would name "default" instead of the current one.
    name = context or read_settled(config.credentials_path())[1].current_context_name
    after = config.remove_context(name)
    current = f"the current context is now {after.current_context_name!r}" if after.contexts else "no contexts left"
    return Message(f"Removed context {name!r} from {after.path}; {current}.")


PROTECTED_MARK = " (protected)"


@dataclass(frozen=True, repr=False)  # repr=False: keep the parent's table, not a dataclass repr
class ProtectedContextsView(ContextsView):
    """The contexts view with protected contexts marked, so a production context is seen as one."""

    protected: frozenset[str] = frozenset()

    def _rows(self) -> list[list[str]]:
        rows = super()._rows()
        for row, ctx in zip(rows, self.contexts, strict=True):
            if ctx.name in self.protected:
                row[1] = ctx.name + PROTECTED_MARK
        return rows


def protection_notes(saved: Sequence[config.Context], protected: frozenset[str],
                     override: ResolvedContext | None) -> list[str]:
    """Where protection by name may not do what the user thinks: a protected name no longer saved (renamed?),
    an unprotected copy of a protected context's token, the environment's key standing for a protected one."""
    names = {ctx.name for ctx in saved}
    notes = [f"Protected context {name!r} is no longer saved (renamed, or removed?): its protection waits for a "
             f"context of that name; protect the new name (%bentocloud protect NAME)."
             for name in sorted(protected - names)]
    for ctx in saved:
        twin = next((o.name for o in saved if o.name in protected and ctx.api_token and o.api_token == ctx.api_token),
                    None)
        if ctx.name not in protected and twin is not None:
            notes.append(f"Context {ctx.name!r} has the token of protected context {twin!r} but is not protected "
                         f"itself (%bentocloud protect {ctx.name}).")
    try:
        behind = protected_as(override) if override is not None else None
    except ConfigError:
        behind = None  # already listed as a problem of the file
    if behind is not None:
        notes.append(f"BENTO_CLOUD_API_KEY stands for protected context {behind!r}: changes through it ask for "
                     "the name to be typed back.")
    return notes


def contexts() -> ContextsView:
    """The saved contexts, the current one, which are protected, and whether ``BENTO_CLOUD_API_KEY`` overrides them.

    A protected-contexts file that cannot be read is listed as a problem (the contexts still show).
    """
    cfg = config.load_config()
    override = config.resolve_context() if "BENTO_CLOUD_API_KEY" in os.environ else None
    problems = list(cfg.problems)
    try:
        protected = protected_contexts()
    except ConfigError as exc:
        protected, problems = frozenset(), [*problems, exc.words()]
    problems += protection_notes(cfg.contexts, protected, override)
    return ProtectedContextsView(cfg.contexts, cfg.current_context_name, cfg.path or config.credentials_path(),
                                 override, tuple(problems), protected)


def use_context(name: str) -> ContextsView:
    """Make ``name`` the current context in the file, so the ``bentoml`` CLI follows too.

    Raises:
        ContextNotFoundError: no such context.
    """
    config.set_current_context(name)
    return contexts()


def whoami(context: str | None = None) -> WhoAmI:
    """Who the resolved credentials belong to, at which endpoint, and why they were chosen."""
    client, resolved = client_for(context)
    user, organization = client.current_user(), client.current_organization()
    remember_organization(resolved.context.endpoint, resolved.context.api_token, organization.name)
    return WhoAmI(resolved, user, organization)


def start_browser_login(endpoint: str = DEFAULT_ENDPOINT, insecure: bool = False) -> BrowserLogin:
    """Begin BentoCloud's browser code flow: open ``.url``, then ``.wait()`` / ``await .wait_async()`` for the token.

    Raises:
        InvalidInputError, InsecureEndpointError: an unusable endpoint. TransportError, APIError: it failed.
    """
    return auth.start_browser_login(endpoint, insecure=insecure)


def credentials_file() -> Path:
    """Where the credentials shared with the ``bentoml`` CLI live (``$BENTOML_HOME/.yatai.yaml``)."""
    return config.credentials_path()
