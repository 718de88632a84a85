"""Verbs over the credentials: log in and out, list and switch contexts, and say who you are."""

from __future__ import annotations

import os
from pathlib import Path

from bentocloud_jupyter.core.credentials import auth, config
from bentocloud_jupyter.core.credentials.auth import BrowserLogin, LoginResult
from bentocloud_jupyter.core.credentials.auth import login as validate_and_save
from bentocloud_jupyter.core.credentials.config import DEFAULT_ENDPOINT
from bentocloud_jupyter.core.rest.session import INSECURE_KEY, client_for
from bentocloud_jupyter.core.results import ContextsView, Message, WhoAmI
from bentocloud_jupyter.core.tokens import Token

__all__ = ["contexts", "credentials_file", "login", "logout", "start_browser_login", "use_context", "whoami"]


def login(endpoint: str = DEFAULT_ENDPOINT, api_token: str | Token | None = None, context: str | None = None,
          insecure: bool = False, timeout: float = 30.0) -> LoginResult:
    """Validate a token and save it as a context (see :func:`~.credentials.auth.login`)."""
    result = validate_and_save(endpoint, api_token, context, insecure=insecure, timeout=timeout)
    if insecure:  # remember the user's explicit choice for this context's later calls
        saved = config.get_context(result.context)
        config.save_context(config.Context(saved.name, saved.endpoint, saved.api_token, saved.email,
                                           {**saved.extra, INSECURE_KEY: True}))
    return result


def logout(context: str | None = None) -> Message:
    """Remove a context from the credentials file (default: the current one).

    Raises:
        ContextNotFoundError: no such context.
    """
    name = context or config.load_config().current_context_name
    after = config.remove_context(name)
    current = f"the current context is now {after.current_context_name!r}" if after.contexts else "no contexts left"
    return Message(f"Removed context {name!r} from {after.path}; {current}.")


def contexts() -> ContextsView:
    """The saved contexts, the current one, and whether ``BENTO_CLOUD_API_KEY`` overrides them."""
    cfg = config.load_config()
    override = config.resolve_context() if "BENTO_CLOUD_API_KEY" in os.environ else None
    return ContextsView(cfg.contexts, cfg.current_context_name, cfg.path or config.credentials_path(), override,
                        cfg.problems)


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
    return WhoAmI(resolved, client.current_user(), client.current_organization())


def start_browser_login(endpoint: str = DEFAULT_ENDPOINT, insecure: bool = False) -> BrowserLogin:
    """Begin BentoCloud's browser code flow: open ``.url``, then ``.wait()`` / ``await .wait_async()`` for the token.

    Raises:
        InvalidInputError, InsecureEndpointError: an unusable endpoint. TransportError, APIError: it failed.
    """
    return auth.start_browser_login(endpoint, insecure=insecure)


def credentials_file() -> Path:
    """Where the credentials shared with the ``bentoml`` CLI live (``$BENTOML_HOME/.yatai.yaml``)."""
    return config.credentials_path()
