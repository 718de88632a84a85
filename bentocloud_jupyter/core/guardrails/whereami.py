"""Where a change would go, worked out without a request: the context, its organization, the env override.

The front ends show it before every change (the magics' banner). The organization is known only when a
verb of this process already asked BentoCloud (login, whoami) for these credentials, or when the
endpoint's host names it (``ORG.cloud.bentoml.com``); otherwise it is left out rather than fetched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from bentocloud_jupyter.core.credentials.resolve import ContextSource, ResolvedContext, resolve_context
from bentocloud_jupyter.core.guardrails.confirm import protected_as
from bentocloud_jupyter.core.tokens import Token

__all__ = ["Whereabouts", "forget_organizations", "known_organization", "remember_organization", "shown_endpoint",
           "shown_host", "whereabouts"]

_ORGANIZATIONS: dict[tuple[str, Token], str] = {}
CLOUD_SUFFIX = ".cloud.bentoml.com"
PLAIN_HOST = re.compile(r"[A-Za-z0-9._\-:\[\]]{1,253}")
NO_HOST = "an endpoint with no host name"
UNREADABLE = "(the protected-contexts file cannot be read)"


@dataclass(frozen=True)
class Whereabouts:
    """What the banner says: which context, which organization (if known), whether the environment won."""

    context: str
    endpoint_host: str
    organization: str | None
    env_override: bool
    requested: str | None
    protected: bool
    protected_as: str | None = None
    """The protected context these credentials are (its name; differs from ``context`` with the env's key)."""
    env_context: bool = False
    """The context was chosen by ``BENTOML_CLOUD_CONTEXT`` (not by the file's current context nor by name)."""


def remember_organization(endpoint: str, token: Token, organization: str) -> None:
    """Remember the organization BentoCloud named for these credentials (kept in memory only)."""
    if organization:
        _ORGANIZATIONS[(endpoint.rstrip("/"), token)] = organization


def forget_organizations() -> None:
    """Forget every organization learnt so far (a logout, or a test that wants a fresh process)."""
    _ORGANIZATIONS.clear()


def known_organization(endpoint: str, token: Token) -> str | None:
    """The organization of these credentials if this process learnt it, or the endpoint's host names it."""
    found = _ORGANIZATIONS.get((endpoint.rstrip("/"), token))
    if found:
        return found
    try:
        host = urlsplit(endpoint).hostname or ""
    except ValueError:  # an endpoint that is no URL: the verb says so; no organization to name
        return None
    if host.endswith(CLOUD_SUFFIX) and host.count(".") == CLOUD_SUFFIX.count("."):
        return host[: -len(CLOUD_SUFFIX)] or None
    return None


def _protected(resolved: ResolvedContext) -> str | None:
    """Protected as the typed-name check sees it; an unreadable protected-contexts file counts as protected."""
    try:
        return protected_as(resolved)
    except Exception:  # the verb will refuse with the file's error; the banner must not guess "safe"
        return UNREADABLE


def shown_host(endpoint: str) -> str:
    """The endpoint's host as it may be shown: never the whole endpoint (it may hold user:password), and a
    host with control or odd characters quoted (``repr``) so it cannot restyle a terminal."""
    try:
        host = urlsplit(endpoint).hostname
    except ValueError:
        host = None
    if not host:
        return NO_HOST
    return host if PLAIN_HOST.fullmatch(host) else repr(host)


def shown_endpoint(endpoint: str) -> str:
    """The endpoint as a label may show it: no ``user:password@``, no control characters."""
    try:
        parts = urlsplit(endpoint)
        host, port = parts.hostname, parts.port
    except ValueError:
        return NO_HOST
    if not host:
        return NO_HOST
    where = shown_host(endpoint) + (f":{port}" if port else "")
    path = "".join(ch if ch.isprintable() else "?" for ch in parts.path.rstrip("/"))
    return f"{parts.scheme}://{where}{path}" if parts.scheme else where + path


def whereabouts(context: str | None = None) -> Whereabouts:
    """Where a change with ``context`` would go (one read of the credentials file, no request).

    Raises:
        BentoCloudError: the context cannot be resolved (the verb will say so itself).
    """
    resolved = resolve_context(context)
    ctx = resolved.context
    env = resolved.source is ContextSource.ENV_API_KEY
    protected = _protected(resolved)
    return Whereabouts(ctx.name, shown_host(ctx.endpoint), known_organization(ctx.endpoint, ctx.api_token), env,
                       resolved.requested, protected is not None, None if protected == UNREADABLE else protected,
                       resolved.source is ContextSource.ENV_CONTEXT)
