"""Following logs live and showing them: a bounded buffer, the follower task, and the log views.

Split from :mod:`.logs` (the websocket protocol), which this builds on. A follower keeps at most
``MAX_LINES`` lines of at most ``MAX_LINE`` characters, so memory stays bounded however long it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from bentocloud_jupyter.core.display import esc
from bentocloud_jupyter.core.errors import (
    BentoCloudError,
    InvalidInputError,
)
from bentocloud_jupyter.core.logs.protocol import (
    DEFAULT_TAIL,
    MAX_LINES,
    LogSource,
    Pod,
    PodPlace,
    WsEndpoint,
    clip_line,
    deployment_pods,
    deployment_pods_sync,
    image_builder_pod,
    image_builder_pod_sync,
    needs_builder,
    pick_sources,
    read_logs,
    tail_logs,
)
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import redact

__all__ = ["LogBuffer", "LogFollower", "LogSection", "LogsView", "SourceLookup", "following", "log_html",
           "recent_logs", "stop_following"]


# ---------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class LogSection:
    title: str
    lines: tuple[str, ...]
    dropped: int = 0


_BOX = ("max-height:22em;overflow:auto;display:flex;flex-direction:column-reverse;"  # opens scrolled to the end
        "border:1px solid #d0d7de;border-radius:4px;padding:2px 6px;margin:2px 0")
_PRE = "flex:none;overflow:visible;white-space:pre-wrap;margin:0;font-size:0.85em;line-height:1.35"


def log_html(lines: str) -> str:
    """Escaped log text in a bounded box that shows its newest lines first (scroll up for older ones)."""
    return f'<div style="{_BOX}"><pre style="{_PRE}">{esc(lines)}</pre></div>' if lines else ""


@dataclass(frozen=True)
class LogsView:
    """Log lines of a deployment's pods, per container: an escaped ``<pre>`` each, or plain text."""

    name: str
    sections: tuple[LogSection, ...] = ()
    note: str = ""
    error: str = ""

    def __repr__(self) -> str:
        parts = [f"Logs of {self.name!r}" + (f": {self.note}" if self.note else "")]
        for section in self.sections:
            skipped = [f"[... {section.dropped} earlier lines dropped]"] if section.dropped else []
            parts += [f"==> {section.title} <==", *skipped, *section.lines]
        return "\n".join(parts + ([f"error: {self.error}"] if self.error else []))

    def _repr_html_(self) -> str:
        head = f"<div><b>Logs of {esc(self.name)}</b> <small>{esc(self.note)}</small></div>"
        body = "".join(
            f"<div><small>{esc(s.title)}" + (f" ({s.dropped} earlier lines dropped)" if s.dropped else "")
            + "</small></div>" + log_html("\n".join(s.lines)) for s in self.sections)
        error = f'<div style="color:#cf222e">{esc(self.error)}</div>' if self.error else ""
        return f'<div class="bcj-logs">{head}{body}{error}</div>'


class SourceLookup:
    """Which pod lookups a log view needs, and the log sources they give: plain code, no I/O.

    Why: the blocking :func:`recent_logs` and the async :class:`LogFollower` must pick the same
    containers; each only performs the lookup :meth:`next_lookup` names and feeds the answer back.
    """

    def __init__(self, deployment: Deployment) -> None:
        self.deployment = deployment
        self.pods: list[Pod] | None = None
        self.builder: Pod | None = None
        self.builder_asked = False

    def next_lookup(self) -> Literal["pods", "builder"] | None:
        """``"pods"`` (the deployment's), then ``"builder"`` when the image builder matters; None when done."""
        if self.pods is None:
            return "pods"
        if not self.builder_asked and needs_builder(self.deployment, self.pods):
            return "builder"
        return None

    def receive_pods(self, pods: list[Pod]) -> None:
        self.pods = pods

    def receive_builder(self, pod: Pod | None) -> None:
        self.builder, self.builder_asked = pod, True

    @property
    def sources(self) -> list[LogSource]:
        return pick_sources(self.deployment, self.pods or [], self.builder)


def recent_logs(client: Any, ws: WsEndpoint, name: str, cluster: str | None = None,
                tail: int = DEFAULT_TAIL) -> LogsView:
    """The last ``tail`` lines of each relevant container of ``name`` (blocking).

    Raises:
        NotFoundError: no such deployment (or no bento yet). Websocket errors as :func:`tail_logs`.
    """
    deployment = client.get_deployment(name, cluster)
    place = PodPlace.of(deployment)
    lookup = SourceLookup(deployment)
    while (step := lookup.next_lookup()) is not None:
        if step == "pods":
            lookup.receive_pods(deployment_pods_sync(ws, place))
        else:
            lookup.receive_builder(image_builder_pod_sync(ws, place))
    sources = lookup.sources
    sections = tuple(LogSection(s.label, tuple(read_logs(ws, place, s.pod.name, namespace=s.pod.namespace,
                                                         container=s.container, tail_lines=tail)))
                     for s in sources)
    note = f"status {deployment.status}" + ("" if sources else "; no pods to read logs from yet")
    return LogsView(name, sections, note)


class LogBuffer:
    """The last ``max_lines`` lines (each at most :data:`MAX_LINE` characters) and how many came in all."""

    def __init__(self, max_lines: int = MAX_LINES) -> None:
        self.lines: deque[str] = deque(maxlen=max_lines)
        self.total = 0

    def append(self, line: str) -> None:
        self.lines.append(clip_line(line))
        self.total += 1

    @property
    def dropped(self) -> int:
        return self.total - len(self.lines)

    def text(self) -> str:
        return "\n".join(self.lines)


_following: dict[int, LogFollower] = {}


def following() -> list[str]:
    """Names whose logs are being followed (registered followers only)."""
    return sorted({f.name for f in _following.values()})


def stop_following(name: str | None = None, all: bool = False) -> list[str]:
    """Stop the followers of ``name`` (or every one with ``all`` or no name); returns the names stopped."""
    stopped = [f for f in list(_following.values()) if all or name is None or f.name == name]
    for follower in stopped:
        _following.pop(id(follower), None)
        follower.stop()
    return sorted({f.name for f in stopped})


class LogFollower:
    """Follow a deployment's logs (``build_only``: its image builder's) as an asyncio task on the running loop.

    Lines go into a bounded :class:`LogBuffer`; listeners get the follower after changes, at most every
    ``flush_interval`` seconds, and once more when it ends. Failures end it with one line in ``error``.
    """

    def __init__(self, name: str, *, context: str | None = None, cluster: str | None = None,
                 tail: int = DEFAULT_TAIL, build_only: bool = False, deployment: Deployment | None = None,
                 max_lines: int = MAX_LINES, register: bool = True, flush_interval: float = 0.1,
                 builder_wait: float = 600.0) -> None:
        self.name, self.context, self.cluster, self.tail = name, context, cluster, tail
        self.build_only, self.deployment, self.register = build_only, deployment, register
        self.flush_interval, self.builder_wait = flush_interval, builder_wait
        self.buffer = LogBuffer(max_lines)
        self.listeners: list[Callable[[LogFollower], Any]] = []
        self.sources: list[LogSource] = []
        self.note = "connecting…"
        self.error = ""
        self.task: asyncio.Task[None] | None = None
        self._flush_at: asyncio.TimerHandle | None = None
        self._last_flush = 0.0
        self._finished = False

    def __repr__(self) -> str:
        return repr(self.view())

    def _repr_html_(self) -> str:
        return self.view()._repr_html_()

    @property
    def done(self) -> bool:
        """True once the stream is over (already so for the listeners' last call)."""
        return self._finished

    def view(self) -> LogsView:
        title = ", ".join(s.label for s in self.sources) or "(no pod yet)"
        return LogsView(self.name, (LogSection(title, tuple(self.buffer.lines), self.buffer.dropped),),
                        self.note, self.error)

    def start(self) -> LogFollower:
        """Start on the running loop (idempotent).

        Raises:
            InvalidInputError: no running event loop (follow from a notebook, or use ``follow=False``).
        """
        if self.task is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                raise InvalidInputError("Following logs needs a running event loop (a Jupyter kernel); "
                                        "read them once with follow=False instead.") from None
            self.task = loop.create_task(self._run(), name=f"bentocloud-logs-{self.name}")
            self.task.add_done_callback(lambda _: self._end())  # also when cancelled before it ran
            if self.register:
                _following[id(self)] = self
        return self

    def stop(self) -> None:
        """Stop following (the task is cancelled; listeners hear about it once more)."""
        if self.task is not None and not self._finished:
            self.note = "stopped"
            self.task.cancel()

    async def _run(self) -> None:
        try:
            await self._follow()
            self.note = "ended" if self.sources else self.note
        except asyncio.CancelledError:
            self.note = "stopped"
        except Exception as error:  # one line for the user, never a traceback
            self.error = " ".join((str(error) if isinstance(error, BentoCloudError)
                                   else f"Unexpected {type(error).__name__}: {redact(str(error))}").split())
            self.note = "failed"
        finally:
            self._end()

    def _end(self) -> None:
        if not self._finished:
            _following.pop(id(self), None)
            self._finished = True
            self._flush()

    async def _follow(self) -> None:
        from bentocloud_jupyter.core.credentials.config import resolve_context
        from bentocloud_jupyter.core.rest import session

        resolved = resolve_context(self.context)
        ws = WsEndpoint.for_context(resolved)
        deployment = self.deployment
        if deployment is None or not deployment.raw:
            deployment = await session.async_client_for(resolved).get_deployment(self.name, self.cluster)
        place = PodPlace.of(deployment)
        self.sources = await (self._builder_source(ws, place) if self.build_only
                              else self._all_sources(ws, place, deployment))
        if not self.sources:
            self.note = "no pods to read logs from yet"
            return
        self.note = "following"
        self._changed()
        pumps = [asyncio.ensure_future(self._pump(ws, place, s, len(self.sources) > 1)) for s in self.sources]
        try:
            await asyncio.gather(*pumps)
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    async def _all_sources(self, ws: WsEndpoint, place: PodPlace, deployment: Deployment) -> list[LogSource]:
        lookup = SourceLookup(deployment)
        while (step := lookup.next_lookup()) is not None:
            if step == "pods":
                lookup.receive_pods(await deployment_pods(ws, place))
            else:
                lookup.receive_builder(await image_builder_pod(ws, place))
        return lookup.sources

    async def _builder_source(self, ws: WsEndpoint, place: PodPlace) -> list[LogSource]:
        """Wait (up to ``builder_wait`` s) for the image builder pod to exist and leave Pending."""
        deadline = time.monotonic() + self.builder_wait
        self.note = "waiting for the image builder"
        while True:
            pod = await image_builder_pod(ws, place)
            if pod is not None and pod.phase != "Pending":
                return [LogSource(pod, "builder")]
            if time.monotonic() >= deadline:
                return []
            await asyncio.sleep(1.0)

    async def _pump(self, ws: WsEndpoint, place: PodPlace, source: LogSource, prefix: bool) -> None:
        lines = tail_logs(ws, place, source.pod.name, namespace=source.pod.namespace, container=source.container,
                          tail_lines=self.tail)
        async with contextlib.aclosing(lines):
            async for line in lines:
                self.buffer.append(f"[{source.pod.name}] {line}" if prefix else line)
                self._changed()

    def _changed(self) -> None:
        """Tell listeners soon, at most every ``flush_interval`` seconds (a fast log must not flood the front end)."""
        if self._flush_at is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._last_flush + self.flush_interval - loop.time())
            self._flush_at = loop.call_later(delay, self._flush)

    def _flush(self) -> None:
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        with contextlib.suppress(RuntimeError):
            self._last_flush = asyncio.get_running_loop().time()
        for listener in list(self.listeners):
            with contextlib.suppress(Exception):  # a broken display must never stop the stream
                listener(self)
