"""One client (one keep-alive connection pool) and one watcher hub per context, reused across calls.

A long-lived kernel calls BentoCloud many times; building a client per call would open a new TCP and
TLS connection each time. Clients are keyed by the context's name, endpoint and token, so a fresh
login (or a changed file) gets a fresh client while repeated calls share one. Unlike ``bentoml``'s
process-wide singletons, the credentials are resolved again on every call, so switching contexts in
the file takes effect at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import weakref
from typing import Any

from bentocloud_jupyter.core.credentials.config import Context, ResolvedContext, resolve_context
from bentocloud_jupyter.core.credentials.model import INSECURE_KEY
from bentocloud_jupyter.core.deployments.watch import SLOW_INTERVAL, WatchHub
from bentocloud_jupyter.core.rest.client import DEFAULT_TIMEOUT, AsyncBentoCloudClient, BentoCloudClient
from bentocloud_jupyter.core.rest.http import RetryPolicy

__all__ = ["INSECURE_KEY", "async_client_for", "client_for", "close_all", "hubs", "settings"]

_lock = threading.Lock()
_clients: dict[tuple[str, str, str], BentoCloudClient] = {}
# Per event loop (async clients and hubs belong to one loop); weak, so a finished loop takes its own along.
_Key = tuple[str, str, str]
_async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, AsyncBentoCloudClient]] = (
    weakref.WeakKeyDictionary())
_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[_Key, WatchHub]] = weakref.WeakKeyDictionary()


class _Settings:
    """Knobs the front ends may change (the magics map their config traits here)."""

    timeout: float = DEFAULT_TIMEOUT
    poll_interval: float = SLOW_INTERVAL
    retry: RetryPolicy | None = None
    transport: Any = None
    async_transport: Any = None


settings = _Settings()


def _key(ctx: Context) -> tuple[str, str, str]:
    digest = hashlib.sha256(ctx.api_token.reveal().encode()).hexdigest()[:16]
    return (ctx.name, ctx.endpoint, digest)


def _options(ctx: Context) -> dict[str, Any]:
    return {"context_name": ctx.name, "timeout": settings.timeout, "insecure": ctx.allows_insecure_http,
            "retry": settings.retry}


def client_for(context: str | None = None) -> tuple[BentoCloudClient, ResolvedContext]:
    """The shared blocking client for the context that ``context`` resolves to.

    Raises:
        ContextNotFoundError, ConfigError: resolution failed.
        InvalidInputError: the context's endpoint is unusable.
    """
    resolved = resolve_context(context)
    key = _key(resolved.context)
    with _lock:
        client = _clients.get(key)
        if client is None:
            client = BentoCloudClient(resolved.context.endpoint, resolved.context.api_token,
                                      transport=settings.transport, **_options(resolved.context))
            _clients[key] = client
    return client, resolved


def async_client_for(resolved: ResolvedContext) -> AsyncBentoCloudClient:
    """The shared async client of this context on the running event loop."""
    per_loop = _async_clients.setdefault(asyncio.get_running_loop(), {})
    key = _key(resolved.context)
    client = per_loop.get(key)
    if client is None:
        client = AsyncBentoCloudClient(resolved.context.endpoint, resolved.context.api_token,
                                       transport=settings.async_transport, **_options(resolved.context))
        per_loop[key] = client
    return client


def hub_for(resolved: ResolvedContext) -> WatchHub:
    """The watcher hub of this context on the running event loop (one polling task per context)."""
    per_loop = _hubs.setdefault(asyncio.get_running_loop(), {})
    key = _key(resolved.context)
    hub = per_loop.get(key)
    if hub is None:
        hub = WatchHub(async_client_for(resolved), interval=settings.poll_interval)
        per_loop[key] = hub
    hub.interval = max(settings.poll_interval, hub.fast_interval)
    return hub


def hubs() -> list[WatchHub]:
    return [hub for per_loop in list(_hubs.values()) for hub in per_loop.values()]


def close_all() -> None:
    """Stop every watcher and close every connection (extension unload, kernel shutdown)."""
    for hub in hubs():
        hub.close_nowait()
    _hubs.clear()
    with _lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
    for loop, per_loop in list(_async_clients.items()):
        if not loop.is_closed() and loop.is_running():
            for async_client in per_loop.values():
                loop.create_task(async_client.aclose())
    _async_clients.clear()
