"""Verbs over a running deployment: read or follow its logs, read its OpenAPI, call it."""

from __future__ import annotations

from typing import Any

from bentocloud_jupyter.core.calls import invoke
from bentocloud_jupyter.core.calls.invoke import CallResult, OpenAPIView
from bentocloud_jupyter.core.errors import InvalidInputError
from bentocloud_jupyter.core.logs.follow import LogFollower, LogsView, recent_logs
from bentocloud_jupyter.core.logs.protocol import DEFAULT_TAIL, WsEndpoint
from bentocloud_jupyter.core.rest.session import client_for

__all__ = ["call", "logs", "openapi"]


def logs(name: str, follow: bool = False, tail: int = DEFAULT_TAIL, cluster: str | None = None,
         context: str | None = None) -> LogsView | LogFollower:
    """The last ``tail`` log lines of each of the deployment's containers (the image builder's while it builds).

    With ``follow``, a started :class:`~.logs.follow.LogFollower` instead: an asyncio task on the running loop
    that keeps the last 500 lines; a front end shows it live, and ``.stop()`` ends it.

    Raises:
        NotFoundError: no such deployment. AuthenticationError, ConnectError, APIError: the websocket failed.
        InvalidInputError: ``tail`` < 1, or ``follow`` without a running event loop.
    """
    if tail < 1:
        raise InvalidInputError(f"tail must be at least 1, not {tail}.")
    client, resolved = client_for(context)
    if follow:
        deployment = client.get_deployment(name, cluster)  # fail fast on an unknown name
        return LogFollower(name, context=context, cluster=cluster, tail=tail, deployment=deployment).start()
    return recent_logs(client, WsEndpoint.for_context(resolved), name, cluster, tail)


def call(name: str, api_name: str, json: Any = None, file: str | None = None,
         context: str | None = None) -> CallResult:
    """Call ``api_name`` of the ready deployment ``name`` with a JSON body (dict, or JSON text) or a file's bytes.

    The token is sent (as ``Authorization: Bearer``) only when the deployment has access authorization.

    Raises:
        NotReadyError: not ready. InvalidInputError: bad body. NotFoundError: no such deployment or API.
        AuthenticationError, ValidationError, ServerError: the API refused or failed (its message quoted).
    """
    return invoke.call(name, api_name, json, file, context)


def openapi(name: str, context: str | None = None) -> OpenAPIView:
    """The APIs the ready deployment ``name`` documents (its ``docs.json``), with their request fields."""
    return invoke.openapi(name, context)
