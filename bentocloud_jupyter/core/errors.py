"""Every error bentocloud-jupyter raises, as one tree.

Each message is one or two lines that say what went wrong and what to do next; front ends print
``str(error)`` and never a traceback. Messages are passed through :func:`~.tokens.redact` on
construction, so no token can reach a user through an exception.

::

    BentoCloudError
    ├── ConfigError (ValueError)            the credentials file cannot be read, parsed or written
    ├── ContextNotFoundError (LookupError)  no context of that name in the credentials file
    ├── InvalidInputError (ValueError)      bad arguments: options, endpoints, tags
    │   └── InsecureEndpointError           a token would travel over plain http to a remote host
    ├── APIError                            BentoCloud answered, but not with success
    │   ├── AuthenticationError             401 / 403: the token was rejected
    │   ├── NotFoundError (LookupError)     404, or 400 "record not found"
    │   ├── ConflictError                   409: e.g. the name is taken
    │   ├── ValidationError (ValueError)    400 / 422: the server refused the request's content
    │   ├── RateLimitError                  429: carries ``retry_after``
    │   └── ServerError                     5xx: carries ``trace_id`` when the server sent one
    ├── ProtocolError                       an answer came (even a 200) but is not the JSON we expect
    ├── TransportError                      BentoCloud could not be reached
    │   ├── ConnectError (ConnectionError)  refused, DNS, TLS
    │   └── RequestTimeout (TimeoutError)   no answer in time
    ├── NotReadyError                       the deployment cannot be called yet (not running, no URL)
    └── WatchError                          waiting for a deployment ended without success
        ├── DeploymentFailed                it reached a failure status
        └── WatchTimeout (TimeoutError)     it did not settle in time
"""

from __future__ import annotations

from bentocloud_jupyter.core.hints import Hint, sentence
from bentocloud_jupyter.core.tokens import redact

__all__ = [
    "APIError",
    "AuthenticationError",
    "BentoCloudError",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "ContextNotFoundError",
    "DeploymentFailed",
    "InsecureEndpointError",
    "InvalidInputError",
    "NotFoundError",
    "NotReadyError",
    "ProtocolError",
    "RateLimitError",
    "RequestTimeout",
    "ServerError",
    "TransportError",
    "ValidationError",
    "WatchError",
    "WatchTimeout",
]


class BentoCloudError(Exception):
    """Base of every error we raise; ``str()`` is a short, token-free message for humans.

    ``message`` says what went wrong; ``hint`` (data, not words) says what to run next, and each front end
    words it in its own syntax (:func:`~.hints.sentence`).
    """

    hint: Hint | None = None

    def __init__(self, message: str, *, hint: Hint | None = None) -> None:
        self.message = redact(message)
        if hint is not None:
            self.hint = hint
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.words()

    def words(self, surface: str | None = None) -> str:
        """The message with its hint worded for ``surface`` ("magic", "python"; default: every loaded one)."""
        if self.hint is None:
            return self.message
        said = sentence(self.hint, surface=surface)
        if self.message.endswith((".", "?", "!")):
            return redact(f"{self.message} {said[:1].upper()}{said[1:]}.")
        joiner = " " if self.message.endswith((";", ":")) else "; "
        return redact(f"{self.message}{joiner}{said}.")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class ConfigError(BentoCloudError, ValueError):
    """The credentials file is unreadable, malformed or cannot be written; it was left untouched."""

    def __init__(self, message: str, *, path: str | None = None,
                 line: int | None = None, column: int | None = None, hint: Hint | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        super().__init__(message, hint=hint)


class ContextNotFoundError(BentoCloudError, LookupError):
    """No context of the requested name exists."""

    def __init__(self, message: str, *, name: str, hint: Hint | None = None) -> None:
        self.name = name
        super().__init__(message, hint=hint)


class InvalidInputError(BentoCloudError, ValueError):
    """An argument we were given cannot be used (bad option, endpoint, tag...)."""


class InsecureEndpointError(InvalidInputError):
    """Refused to send a token over plain http to a host that is not on this machine."""


class APIError(BentoCloudError):
    """BentoCloud answered with an error status; ``status`` and ``endpoint`` say where."""

    def __init__(self, message: str, *, status: int | None = None, endpoint: str | None = None,
                 trace_id: str | None = None, server_message: str | None = None, hint: Hint | None = None) -> None:
        self.status = status
        self.endpoint = endpoint
        self.trace_id = trace_id
        self.server_message = redact(server_message) if server_message else server_message
        super().__init__(message, hint=hint)


class AuthenticationError(APIError):
    """401/403: the token is missing, expired, revoked or lacks the permission."""


class NotFoundError(APIError, LookupError):
    """404 (or the legacy 400 "record not found"): the named thing does not exist."""


class ConflictError(APIError):
    """409: the request conflicts with what exists (typically a name already in use)."""


class ValidationError(APIError, ValueError):
    """400/422: BentoCloud refused the content of the request; the server's reason is kept."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is the server's advice in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, hint: Hint | None = None,
                 **kwargs: object) -> None:
        self.retry_after = retry_after
        super().__init__(message, hint=hint, **kwargs)  # type: ignore[arg-type]


class ServerError(APIError):
    """5xx: BentoCloud failed; quote ``trace_id`` when reporting it."""


class ProtocolError(BentoCloudError):
    """An answer (even a 200) was not valid JSON, or not the shape we expect: a decoding error, not a refusal."""

    def __init__(self, message: str, *, endpoint: str | None = None, hint: Hint | None = None) -> None:
        self.endpoint = endpoint
        super().__init__(message, hint=hint)


class TransportError(BentoCloudError):
    """The request never got an HTTP answer. ``before_send``: it never reached the server (safe to retry)."""

    def __init__(self, message: str, *, endpoint: str | None = None, before_send: bool = False,
                 hint: Hint | None = None) -> None:
        self.endpoint = endpoint
        self.before_send = before_send
        super().__init__(message, hint=hint)


class ConnectError(TransportError, ConnectionError):
    """Connection refused, unknown host, TLS failure, or the connection dropped mid-request."""


class RequestTimeout(TransportError, TimeoutError):
    """No answer within the timeout."""


class NotReadyError(BentoCloudError):
    """The deployment is not in a state that can serve calls (not running yet, or no single URL)."""


class WatchError(BentoCloudError):
    """Waiting for a deployment ended without it becoming ready."""

    def __init__(self, message: str, *, name: str, status: str | None = None, hint: Hint | None = None) -> None:
        self.name = name
        self.status = status
        super().__init__(message, hint=hint)


class DeploymentFailed(WatchError):
    """The deployment reached a failure status (failed, image-build-failed, unhealthy, ...)."""


class WatchTimeout(WatchError, TimeoutError):
    """The deployment did not reach a final status in time."""
