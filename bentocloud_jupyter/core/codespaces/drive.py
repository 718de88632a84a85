"""The two drivers of :class:`~.engine.Engine` steps: blocking (a script, the first sync) and asyncio (live
sync on the kernel's loop). They only do what a step says; every decision is in the engine.

Errors a step meets go back into the engine (it retries some); one it lets through ends the pass as
``Phase.FAILED`` with the error's one line in ``state.error``: never a traceback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from bentocloud_jupyter.core.calls.invoke import http_options, probe_exchange, spec_exchange
from bentocloud_jupyter.core.codespaces.engine import (
    Describe,
    Effect,
    Logs,
    Pods,
    Probe,
    Scan,
    Schema,
    Send,
    Sleep,
    Steps,
)
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.credentials.config import ResolvedContext
from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.logs.pods import PodPlace
from bentocloud_jupyter.core.logs.protocol import WsEndpoint, deployment_pods_sync, read_logs
from bentocloud_jupyter.core.rest.client import AsyncBentoCloudClient, BentoCloudClient

__all__ = ["LOG_TAIL", "AsyncIO", "BlockingIO", "next_effect", "run_async", "run_blocking"]

LOG_TAIL = 50
_WAITS = (Probe, Sleep, Schema, Pods, Logs)


def next_effect(state: CodespaceState, steps: Steps, value: Any, error: BaseException | None) -> Effect | None:
    """Hand the pass what the last effect gave (or raised); its next effect, or None once it ended (a failure
    of ours is recorded in the state). Both drivers step the pass this one way."""
    try:
        return steps.throw(error) if error is not None else steps.send(value)
    except StopIteration:
        return None
    except BentoCloudError as exc:
        _fail(state, exc)
        return None


def _fail(state: CodespaceState, exc: BentoCloudError) -> None:
    state.phase, state.error = Phase.FAILED, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    state.changed()


def _pods(ws: WsEndpoint, effect: Pods) -> Any:
    return deployment_pods_sync(ws, PodPlace.of(effect.deployment))


def _logs(ws: WsEndpoint, effect: Logs) -> Any:
    pod = effect.pod
    return read_logs(ws, PodPlace.of(effect.deployment), pod.name, namespace=pod.namespace, tail_lines=LOG_TAIL,
                     timeout=5.0, idle=0.5)


def _api_names(view: Any) -> list[str]:
    return [api.name for api in view.apis]


@dataclass
class BlockingIO:
    """What the blocking driver talks to: the REST client, the context (probe headers, websockets) and the
    rebuild the dependency update runs."""

    client: BentoCloudClient
    resolved: ResolvedContext
    rebuild: Callable[[], None]
    state_name: str = ""
    state_cluster: str | None = None

    def do(self, effect: Effect) -> Any:
        ctx, ws = self.resolved.context, WsEndpoint.for_context(self.resolved)
        if isinstance(effect, Send):
            return self.client.send(effect.call)
        if isinstance(effect, Scan):
            return effect.read()
        if isinstance(effect, Sleep):
            time.sleep(effect.seconds)
            return None
        if isinstance(effect, Describe):
            return self.client.get_deployment(self.state_name, self.state_cluster)
        if isinstance(effect, Probe | Schema):
            return _probe_blocking(effect, ctx)
        if isinstance(effect, Pods):
            return _pods(ws, effect)
        if isinstance(effect, Logs):
            return _logs(ws, effect)
        self.rebuild()
        return None


def _probe_blocking(effect: Probe | Schema, ctx: Any) -> Any:
    """readyz's status code (None when nothing answered) or the API names (None when unknown)."""
    try:
        exchange: Any = probe_exchange(effect.deployment, ctx) if isinstance(effect, Probe) else \
            spec_exchange(effect.deployment, ctx)
        with httpx.Client(**http_options()) as http:
            result = exchange.read(http.send(exchange.request(http)), 0.0)
    except (httpx.HTTPError, BentoCloudError):
        return None
    return result if isinstance(effect, Probe) else _api_names(result)


def run_blocking(state: CodespaceState, steps: Steps, io: BlockingIO) -> None:
    """Drive one pass to its end in this thread."""
    io.state_name, io.state_cluster = state.name, state.cluster
    value: Any = None
    error: BaseException | None = None
    while (effect := next_effect(state, steps, value, error)) is not None:
        value, error = None, None
        try:
            value = io.do(effect)
        except BentoCloudError as exc:
            error = exc


@dataclass
class AsyncIO:
    """The asyncio twin of :class:`BlockingIO`: websockets and the rebuild run in a worker thread."""

    client: AsyncBentoCloudClient
    resolved: ResolvedContext
    rebuild: Callable[[], None]
    state_name: str = ""
    state_cluster: str | None = None
    http: httpx.AsyncClient | None = None  # one connection for a pass's probes (a new client costs a TLS setup)

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.aclose()
            self.http = None

    async def do(self, effect: Effect) -> Any:
        ctx, ws = self.resolved.context, WsEndpoint.for_context(self.resolved)
        if isinstance(effect, Send):
            return await self.client.send(effect.call)
        if isinstance(effect, Scan):
            return await asyncio.to_thread(effect.read)
        if isinstance(effect, Sleep):
            await asyncio.sleep(effect.seconds)
            return None
        if isinstance(effect, Describe):
            return await self.client.get_deployment(self.state_name, self.state_cluster)
        if isinstance(effect, Probe | Schema):
            if self.http is None:
                self.http = httpx.AsyncClient(**http_options())
            return await _probe_async(effect, ctx, self.http)
        if isinstance(effect, Pods):
            return await asyncio.to_thread(_pods, ws, effect)
        if isinstance(effect, Logs):
            return await asyncio.to_thread(_logs, ws, effect)
        await asyncio.to_thread(self.rebuild)
        return None


async def _probe_async(effect: Probe | Schema, ctx: Any, http: httpx.AsyncClient) -> Any:
    try:
        exchange: Any = probe_exchange(effect.deployment, ctx) if isinstance(effect, Probe) else \
            spec_exchange(effect.deployment, ctx)
        result = exchange.read(await http.send(exchange.request(http)), 0.0)
    except (httpx.HTTPError, BentoCloudError):
        return None
    return result if isinstance(effect, Probe) else _api_names(result)


async def run_async(state: CodespaceState, steps: Steps, io: AsyncIO,
                    interrupt: Callable[[], bool] | None = None) -> None:
    """Drive one pass on the running loop (never blocks it); when ``interrupt()`` holds at a wait (a probe,
    a sleep, the pods or the log), the pass ends there: newer changes start the next one."""
    io.state_name, io.state_cluster = state.name, state.cluster
    try:
        await _drive_async(state, steps, io, interrupt)
    finally:
        await io.aclose()


async def _drive_async(state: CodespaceState, steps: Steps, io: AsyncIO, interrupt: Callable[[], bool] | None) -> None:
    value: Any = None
    error: BaseException | None = None
    while (effect := next_effect(state, steps, value, error)) is not None:
        value, error = None, None
        over = state.phase in (Phase.DETACHED, Phase.TERMINATED)
        if over or (interrupt is not None and interrupt() and isinstance(effect, _WAITS)):
            steps.close()
            return
        try:
            value = await io.do(effect)
        except BentoCloudError as exc:
            error = exc
