"""Logging in: validate a token against BentoCloud, then save it as a context of the credentials file.

Nothing is saved unless BentoCloud accepted the token (current user and current organisation both
answered), so a typo never replaces working credentials. The browser code flow obtains a new token
without pasting one: show the user :attr:`BrowserLogin.url`, then poll :meth:`BrowserLogin.wait`.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bentocloud_jupyter.core.credentials import config
from bentocloud_jupyter.core.credentials.config import DEFAULT_ENDPOINT, Context
from bentocloud_jupyter.core.errors import (
    APIError,
    AuthenticationError,
    InvalidInputError,
    RateLimitError,
    WatchTimeout,
)
from bentocloud_jupyter.core.hints import Hint, sentence
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, MAX_WATCH_TIMEOUT, check_duration
from bentocloud_jupyter.core.rest.models import Organization, User
from bentocloud_jupyter.core.tokens import Token, sendable_token

__all__ = ["MAX_POLL_INTERVAL", "Approval", "BrowserLogin", "LoginResult", "login", "start_browser_login"]

MAX_POLL_INTERVAL = 60.0
"""The longest pause between two questions of the browser login."""


@dataclass(frozen=True)
class LoginResult:
    """Who is logged in, where, and into which context of which file."""

    user: User
    organization: Organization
    endpoint: str
    context: str
    path: Path
    is_current: bool
    env_override: bool

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        from bentocloud_jupyter.core.display import esc

        return f"<div>{esc(self)}</div>"

    @property
    def hint(self) -> Hint | None:
        """What to run to make this context the current one (None when it already is)."""
        return None if self.is_current else Hint("use_context", {"name": self.context}, why="to switch")

    def __str__(self) -> str:
        current = "it is the current context" if self.hint is None else (
            f"it is not the current context: {sentence(self.hint)}")
        text = (f"Logged in as {self.user.display_name} <{self.user.email}> in organization "
                f"{self.organization.name!r} at {self.endpoint}; saved as context {self.context!r} "
                f"in {self.path}; {current}.")
        if self.env_override:
            text += " Note: BENTO_CLOUD_API_KEY is set and overrides every saved context until you unset it."
        return text


def login(endpoint: str = DEFAULT_ENDPOINT, api_token: str | Token | None = None, context: str | None = None,
          *, insecure: bool = False, timeout: float = 30.0, transport: Any = None) -> LoginResult:
    """Validate ``api_token`` at ``endpoint`` and save it as context ``context``.

    Without ``context`` the token is saved under the current context's name, as ``bentoml cloud login``
    does. The saved endpoint is the normalised URL (no trailing slash).

    Raises:
        InvalidInputError: no token, a bad endpoint (plain http to a remote host without ``insecure``), or a
            timeout that is not a number of seconds in ``(0, MAX_REQUEST_TIMEOUT]``.
        AuthenticationError: BentoCloud rejected the token. Nothing is saved.
        APIError, TransportError: BentoCloud could not validate it. Nothing is saved.
        ConfigError: the credentials file cannot be parsed or written.
    """
    timeout = check_duration(timeout, maximum=MAX_REQUEST_TIMEOUT)
    if api_token is None or not Token(api_token):
        raise InvalidInputError("No API token given; create one at your BentoCloud console (API Tokens page) "
                                "or use the browser login.")
    token = sendable_token(api_token)
    with BentoCloudClient(endpoint, token, timeout=timeout, insecure=insecure, transport=transport) as client:
        user = client.current_user()
        organization = client.current_organization()
        normalized = client.endpoint
    current_config = config.load_config()
    name = context or current_config.current_context_name
    saved = config.save_context(Context(name, normalized, token, user.email or None))
    if saved.find(saved.current_context_name) is None:  # the file's current name pointed nowhere: use this one
        saved = config.set_current_context(name)
    return LoginResult(user, organization, normalized, name, saved.path or config.credentials_path(),
                       saved.current_context_name == name, "BENTO_CLOUD_API_KEY" in os.environ)


@dataclass(frozen=True)
class BrowserLogin:
    """A pending browser code flow: open :attr:`url`, approve, and :meth:`wait` returns the new token."""

    endpoint: str
    code: str
    insecure: bool = False
    transport: Any = None

    @property
    def url(self) -> str:
        """The page where the user approves the new token."""
        return f"{self.endpoint}/api_tokens?{urlencode({'code': self.code})}"

    def wait(self, timeout: float = 300.0, poll_interval: float = 1.0,
             cancelled: Callable[[], bool] = lambda: False) -> Token:
        """Poll until the code is approved; interruptible (Ctrl-C / interrupt kernel) and bounded.

        Raises:
            WatchTimeout: not approved within ``timeout`` seconds.
            AuthenticationError: the code was refused.
            InvalidInputError: cancelled.
        """
        approval = Approval(timeout, poll_interval, cancelled)
        with BentoCloudClient(self.endpoint, insecure=self.insecure, transport=self.transport) as client:
            while True:
                try:
                    answer: str | APIError | None = client.login_token(self.code)
                except APIError as exc:
                    answer = exc
                if (token := approval.receive(answer)) is not None:
                    return token
                time.sleep(approval.interval)

    async def wait_async(self, timeout: float = 300.0, poll_interval: float = 1.0,
                         cancelled: Callable[[], bool] = lambda: False) -> Token:
        """:meth:`wait` for the kernel's event loop (used by the login panel)."""
        approval = Approval(timeout, poll_interval, cancelled)
        async with AsyncBentoCloudClient(self.endpoint, insecure=self.insecure, transport=self.transport) as client:
            while True:
                try:
                    answer: str | APIError | None = await client.login_token(self.code)
                except APIError as exc:
                    answer = exc
                if (token := approval.receive(answer)) is not None:
                    return token
                await asyncio.sleep(approval.interval)


class Approval:
    """Waiting for a browser login code to be approved, as plain code (no request, no sleep).

    Why: :meth:`BrowserLogin.wait` and :meth:`BrowserLogin.wait_async` must read answers, honour
    cancellation and give up at the deadline identically; each only asks for the token and sleeps
    :attr:`interval` between answers.
    """

    def __init__(self, timeout: float, interval: float, cancelled: Callable[[], bool] = lambda: False) -> None:
        """Raises: InvalidInputError: a NaN, negative or endless ``timeout``, or an ``interval`` outside
        ``(0, MAX_POLL_INTERVAL]`` (``time.sleep(nan)`` raises; ``inf`` never returns)."""
        if timeout != 0:  # 0: already past the deadline, a valid (if odd) request
            timeout = check_duration(timeout, maximum=MAX_WATCH_TIMEOUT)
        interval = check_duration(interval, "poll_interval", maximum=MAX_POLL_INTERVAL)
        self.timeout, self.interval, self.cancelled = timeout, interval, cancelled
        self.deadline = time.monotonic() + timeout

    def receive(self, answer: str | APIError | None) -> Token | None:
        """The token once approved; None means "ask again after :attr:`interval`".

        While the code waits for approval the API answers 4xx (or an empty token): that means "not yet".

        Raises:
            AuthenticationError, RateLimitError, APIError (5xx or no status): the code was refused.
            InvalidInputError: cancelled. WatchTimeout: not approved in time.
        """
        if isinstance(answer, APIError):
            if isinstance(answer, (AuthenticationError, RateLimitError)) or answer.status is None \
                    or answer.status >= 500:
                raise answer
            answer = None
        if answer:
            return Token(answer)
        if self.cancelled():
            raise InvalidInputError("Browser login cancelled.")
        if time.monotonic() >= self.deadline:
            raise WatchTimeout(f"The browser login was not approved within {self.timeout:g} s; start it again.",
                               name="login")
        return None


def start_browser_login(endpoint: str = DEFAULT_ENDPOINT, *, insecure: bool = False,
                        transport: Any = None) -> BrowserLogin:
    """Ask BentoCloud for a login code; show ``.url`` to the user, then call ``.wait()``.

    Raises:
        InvalidInputError: bad endpoint.
        APIError, TransportError: the code could not be obtained.
    """
    with BentoCloudClient(endpoint, insecure=insecure, transport=transport) as client:
        code = client.login_code()
        return BrowserLogin(client.endpoint, code, insecure, transport)
