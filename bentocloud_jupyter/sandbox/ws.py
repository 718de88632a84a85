"""Websocket routes: pod lists and log tails, as bentoml's client reads them
(``src/bentoml/_internal/cloud/deployment.py``).

Every socket is accepted, then authenticated with the ``X-YATAI-API-TOKEN`` upgrade header; a bad
token gets ``{"type": "error", "message": ..., "payload": null}`` and close code 4401. Messages:

* ``/ws/v1/clusters/{cluster}/pods?namespace=&selector=yatai.ai/bento-repository=R,yatai.ai/bento=V``
  and ``/ws/v2/deployments/{name}/pods?cluster=``: ``{"type": "success", "message": "", "payload":
  [pod, ...]}`` at once, then again whenever the list changes, until the client closes;
* ``/ws/v1/clusters/{cluster}/tail?namespace=&pod_name=&timestamps=false``: waits for the client's
  ``{"type": "data", "payload": {"id", "container_name", "follow", "tail_lines"}}``, then sends
  ``{"type": "success", "message": null, "payload": {"items": [base64 chunk, ...], "type": "append"}}``
  (one chunk per line, ``\\n`` included), ``{"type": "heartbeat", "message": null, "payload": null}``
  every :data:`HEARTBEAT` seconds (divided by speed), ignores client heartbeats, and ends with
  ``{"type": "success", "message": "EOF", "payload": null}``: for a builder pod when the build phase
  ends (lines are paced evenly over it), for an api-server pod when it goes away (or at once
  without ``follow``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

from bentocloud_jupyter.sandbox import pods
from bentocloud_jupyter.sandbox.api import Context
from bentocloud_jupyter.sandbox.records import DeploymentRecord, SandboxError, iso
from bentocloud_jupyter.sandbox.state import Store

HEARTBEAT = 5.0  # seconds at speed 1
TICK = 0.02  # polling interval of the streams (wall clock)
FIRST_MESSAGE_TIMEOUT = 30.0


def _ctx(ws: WebSocket) -> Context:
    context: Context = ws.app.state.sandbox
    return context


def _msg(kind: str, message: str | None, payload: Any) -> dict[str, Any]:
    return {"type": kind, "message": message, "payload": payload}


class Peer:
    """Reads client frames in the background: client heartbeats are counted, others queued."""

    def __init__(self, ws: WebSocket) -> None:
        self.ws = ws
        self.closed = asyncio.Event()
        self.inbox: asyncio.Queue[Any] = asyncio.Queue()
        self.heartbeats = 0
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        try:
            while True:
                frame = await self.ws.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                text = frame.get("text") or (frame.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    data = json.loads(text)
                except ValueError:
                    data = None
                if isinstance(data, dict) and data.get("type") == "heartbeat":
                    self.heartbeats += 1
                else:
                    await self.inbox.put(data)
        except Exception:
            return
        finally:
            self.closed.set()

    async def send(self, data: dict[str, Any]) -> bool:
        if self.closed.is_set():
            return False
        try:
            await self.ws.send_text(json.dumps(data))
        except Exception:
            self.closed.set()
            return False
        return True

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self.closed.wait(), seconds)

    async def finish(self, code: int = 1000) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(Exception):
                await self.ws.close(code=code)
        self.task.cancel()
        with contextlib.suppress(BaseException):
            await self.task


async def _open(ws: WebSocket) -> Peer | None:
    """Accept, then authenticate; None (after an error message and close 4401) when refused."""
    await ws.accept()
    peer = Peer(ws)
    c = _ctx(ws)
    try:
        c.store.authenticate(ws.headers.get("x-yatai-api-token"), c.get_faults().expire_tokens)
    except SandboxError as exc:
        await peer.send(_msg("error", exc.message, None))
        await peer.finish(4401)
        return None
    return peer


async def _watch(peer: Peer, compute: Callable[[], list[dict[str, Any]]]) -> None:
    last: list[dict[str, Any]] | None = None
    while not peer.closed.is_set():
        current = compute()
        if current != last and not await peer.send(_msg("success", "", current)):
            return
        last = current
        await peer.wait(TICK * 5)


async def cluster_pods(ws: WebSocket) -> None:
    peer = await _open(ws)
    if peer is None:
        return
    store = _ctx(ws).store
    cluster = ws.path_params["cluster"]
    selector = dict(part.partition("=")[::2] for part in (ws.query_params.get("selector") or "").split(",") if part)
    repo, version = selector.get("yatai.ai/bento-repository"), selector.get("yatai.ai/bento")
    if cluster not in store.clusters or not repo or not version:
        problem = (f"cluster {cluster!r}: record not found" if cluster not in store.clusters else
                   "selector must name yatai.ai/bento-repository=<repo>,yatai.ai/bento=<version>")
        await peer.send(_msg("error", problem, None))
        await peer.finish(1008)
        return
    await _watch(peer, lambda: pods.bento_pods(store, cluster, repo, version))
    await peer.finish()


async def deployment_pods(ws: WebSocket) -> None:
    peer = await _open(ws)
    if peer is None:
        return
    store = _ctx(ws).store
    name, cluster = ws.path_params["name"], ws.query_params.get("cluster") or None
    try:
        dep = store.get_deployment(name, cluster)
    except SandboxError as exc:
        await peer.send(_msg("error", exc.message, None))
        await peer.finish(1008)
        return
    await _watch(peer, lambda: pods.deployment_pods(store, dep) if name in store.deployments else [])
    await peer.finish()


def _chunk(line: str, timestamps: bool, at: float | None) -> str:
    text = f"{iso(at)} {line}\n" if timestamps and at is not None else f"{line}\n"
    return base64.b64encode(text.encode()).decode()


def _timeline(store: Store, dep: DeploymentRecord) -> tuple[list[tuple[float, str]], float]:
    """Build log lines with the store-clock time each one appears, and the time the build ends."""
    lines = pods.build_log(store, dep)
    window = pods.build_window(store, dep)
    start, end = (window[0], window[1]) if window else (store.clock(), store.clock())
    step = (end - start) / len(lines)
    return [(start + step * i, line) for i, line in enumerate(lines)], end


async def tail(ws: WebSocket) -> None:
    peer = await _open(ws)
    if peer is None:
        return
    try:
        await _tail(ws, peer)
    finally:
        await peer.finish()


@dataclass
class TailRequest:
    """One accepted tail: the pod it reads and what the client asked for."""

    store: Store
    dep: DeploymentRecord
    cluster: str
    pod_name: str
    is_builder: bool
    timestamps: bool
    follow: bool
    tail_lines: Any


async def _tail(ws: WebSocket, peer: Peer) -> None:
    request = await _tail_request(ws, peer)
    if request is not None:
        await _stream(peer, request)


async def _tail_request(ws: WebSocket, peer: Peer) -> TailRequest | None:
    """Find the pod and read the client's first message; None (after an error message) when either is wrong."""
    store = _ctx(ws).store
    cluster, pod_name = ws.path_params["cluster"], ws.query_params.get("pod_name") or ""
    timestamps = ws.query_params.get("timestamps") == "true"
    found = pods.find_pod(store, cluster, pod_name)
    if found is None:
        await peer.send(_msg("error", f"pod {pod_name!r} not found in cluster {cluster!r}", None))
        return None
    dep, pod = found
    is_builder = pod["labels"].get("yatai.ai/is-bento-image-builder") == "true"
    request = await _first_message(peer)
    if request is None:
        return None
    container = request.get("container_name") or (pods.BUILDER if is_builder else pods.MAIN)
    expected = pods.BUILDER if is_builder else pods.MAIN
    if container != expected:
        await peer.send(_msg("error", f"container {container!r} is not valid for pod {pod_name!r}: "
                                      f"choose one of [{expected}]", None))
        return None
    return TailRequest(store, dep, cluster, pod_name, is_builder, timestamps, bool(request.get("follow", True)),
                       request.get("tail_lines"))


async def _stream(peer: Peer, t: TailRequest) -> None:
    """Send the lines as they become due, heartbeats in between, then EOF (see the module docstring)."""
    sent, first = 0, True
    heartbeat_every = max(TICK, HEARTBEAT / t.store.speed)
    next_beat = asyncio.get_running_loop().time() + heartbeat_every
    timeline, end = _timeline(t.store, t.dep) if t.is_builder else ([], 0.0)
    while not peer.closed.is_set():
        now = t.store.clock()
        if t.is_builder:
            due = [(at, line) for at, line in timeline if at <= now]
        else:
            due = [(now, line) for line in pods.serving_log(t.store, t.dep, t.pod_name)]
        fresh = due[sent:]
        if first and isinstance(t.tail_lines, int) and not isinstance(t.tail_lines, bool) and t.tail_lines >= 0:
            fresh = fresh[len(fresh) - t.tail_lines:] if t.tail_lines else []
        sent, first = len(due), False
        if fresh and not await peer.send(_msg("success", None, {
                "items": [_chunk(line, t.timestamps, at) for at, line in fresh], "type": "append"})):
            return
        gone = pods.find_pod(t.store, t.cluster, t.pod_name) is None
        if not t.follow or gone or (t.is_builder and now >= end and sent == len(timeline)):
            await peer.send(_msg("success", "EOF", None))
            return
        loop_now = asyncio.get_running_loop().time()
        if loop_now >= next_beat:
            if not await peer.send(_msg("heartbeat", None, None)):
                return
            next_beat = loop_now + heartbeat_every
        await peer.wait(TICK)


async def _first_message(peer: Peer) -> dict[str, Any] | None:
    """The client's ``{"type": "data", "payload": {...}}``; None (after an error) otherwise."""
    getter = asyncio.ensure_future(peer.inbox.get())
    closed = asyncio.ensure_future(peer.closed.wait())
    done, _ = await asyncio.wait({getter, closed}, timeout=FIRST_MESSAGE_TIMEOUT,
                                 return_when=asyncio.FIRST_COMPLETED)
    for fut in (getter, closed):
        fut.cancel()
    if getter not in done:
        if not peer.closed.is_set():
            await peer.send(_msg("error", "expected a {\"type\": \"data\"} message first", None))
        return None
    data = getter.result()
    if not isinstance(data, dict) or data.get("type") != "data" or not isinstance(data.get("payload"), dict):
        await peer.send(_msg("error", "expected {\"type\": \"data\", \"payload\": {\"id\", \"container_name\", "
                                      "\"follow\", \"tail_lines\"}} as the first message", None))
        return None
    payload: dict[str, Any] = data["payload"]
    return payload


def ws_routes() -> list[WebSocketRoute]:
    return [WebSocketRoute("/ws/v1/clusters/{cluster}/pods", cluster_pods),
            WebSocketRoute("/ws/v2/deployments/{name}/pods", deployment_pods),
            WebSocketRoute("/ws/v1/clusters/{cluster}/tail", tail)]
