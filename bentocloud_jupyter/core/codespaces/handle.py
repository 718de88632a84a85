"""The handle ``code()`` returns: the codespace's :class:`~.state.CodespaceState`, its live sync on the
kernel's loop, and what a user does with it (write a file, detach, terminate).

On a running loop everything after the checks (build, push, create, the first sync, the watch) runs as a
task there and the handle returns at once; without one (a plain script) it syncs once, and :meth:`run`
keeps syncing until Ctrl+C.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.codespaces.drive import AsyncIO, BlockingIO, run_async, run_blocking
from bentocloud_jupyter.core.codespaces.engine import Engine
from bentocloud_jupyter.core.codespaces.listing import check_path
from bentocloud_jupyter.core.codespaces.live import Changes, run_live
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.credentials.config import ResolvedContext
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, WatchTimeout
from bentocloud_jupyter.core.guardrails.confirm import require_typed_name
from bentocloud_jupyter.core.messages import Message
from bentocloud_jupyter.core.rest.durations import check_duration
from bentocloud_jupyter.core.rest.session import async_client_for, client_for

__all__ = ["Codespace", "attached", "detach_all", "leaving_note", "unless_stopped"]

Prepare = Callable[["Codespace"], None]
"""Blocking work before the first sync (build, push, create, wait for the api-server pod)."""

_attached: list[Codespace] = []


def attached() -> Codespace | None:
    """The codespace this kernel syncs now (the last one attached), or None."""
    return _attached[-1] if _attached else None


def all_attached() -> list[Codespace]:
    """Every codespace this kernel syncs now, oldest first."""
    return list(_attached)


def leaving_note(state: CodespaceState) -> str:
    return (f"Codespace {state.name!r} keeps running on BentoCloud; `%bentocloud terminate {state.name}` "
            "stops it.")


def detach_all() -> list[str]:
    """Stop every live sync (extension unload, kernel shutdown); what each codespace does next, in one line."""
    notes = []
    for handle in list(_attached):
        handle.detach()
        notes.append(leaving_note(handle.state))
    return notes


class Codespace:
    """One codespace followed from this kernel (``.state`` is what the panel renders)."""

    def __init__(self, state: CodespaceState, resolved: ResolvedContext, *, engine: Engine | None = None,
                 rebuild: Callable[[], None] | None = None) -> None:
        self.state, self.resolved = state, resolved
        self.engine = engine or Engine(state)
        self.rebuild = rebuild or (lambda: None)
        self.task: asyncio.Task[None] | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._changes: Changes | None = None
        self.live_note = ""

    # ------------------------------------------------------------------------------------ syncing

    def sync(self) -> CodespaceState:
        """One blocking pass (a script, or no loop): upload what changed, wait for the reload."""
        if self.state.phase in (Phase.DETACHED, Phase.TERMINATED):
            return self.state
        client, _ = client_for(self.resolved.context.name)
        run_blocking(self.state, self.engine.sync(), BlockingIO(client, self.resolved, self.rebuild))
        return self.state

    async def async_sync(self, noticed: float | None = None) -> None:
        """One pass on the running loop (passes never overlap: a change during a pass waits for it)."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self.state.phase in (Phase.DETACHED, Phase.TERMINATED):
                return
            io = AsyncIO(async_client_for(self.resolved), self.resolved, self.rebuild)
            changes = self._changes
            try:
                await unless_stopped(run_async(self.state, self.engine.sync(noticed), io, interrupt=(
                    lambda: changes.pending) if changes is not None else None), self._stop)
            except (OSError, ValueError, RuntimeError) as exc:  # the project changing under us: say it, keep watching
                self._failed(InvalidInputError(f"sync stopped: {type(exc).__name__}: {str(exc)[:200]}; the next "
                                               "change tries again"))

    def start(self, prepare: Prepare | None = None, *, live: bool = True) -> Codespace:
        """Prepare and sync on the running loop, then watch; without a loop, prepare and sync once here.
        An earlier handle of the same codespace stops syncing (one watcher per codespace)."""
        for other in [h for h in _attached if (h.state.context, h.state.name) == (self.state.context,
                                                                                self.state.name)]:
            other.detach()
        _attached.append(self)
        try:
            self.loop = asyncio.get_running_loop()
        except RuntimeError:
            self._blocking_start(prepare)
            return self
        self._stop = asyncio.Event()
        self.task = self.loop.create_task(self._main(prepare, live))
        self.task.add_done_callback(_retrieved)
        return self

    def _blocking_start(self, prepare: Prepare | None) -> None:
        try:
            if prepare is not None:
                prepare(self)
        except BentoCloudError as exc:
            self._failed(exc)
            return
        self.sync()
        self.live_note = "No event loop runs here, so live sync is off: call .run() to keep syncing (Ctrl+C stops)."

    async def _main(self, prepare: Prepare | None, live: bool) -> None:
        try:
            if prepare is not None:
                await asyncio.to_thread(prepare, self)
        except BentoCloudError as exc:
            self._failed(exc)
            return
        except (OSError, ValueError, RuntimeError) as exc:  # no traceback in the cell: the panel says it
            self._failed(InvalidInputError(f"creating the codespace failed ({type(exc).__name__}: "
                                           f"{str(exc)[:200]}); fix it and run code again"))
            return
        await self._live(initial=True, live=live)

    async def _live(self, *, initial: bool, live: bool = True) -> None:
        """The first pass, then (``live``) the watcher and syncer until detach."""
        stop = self._stop
        if stop is None:
            return
        if not live:
            if initial:
                await self.async_sync()
            return
        self._changes = Changes()
        if not stop.is_set():
            await run_live(self.state.project, self._changes, stop, self.async_sync, first=initial)

    def _failed(self, exc: BentoCloudError) -> None:
        self.state.phase, self.state.error = Phase.FAILED, str(exc).splitlines()[0]
        self.state.changed()

    def run(self) -> CodespaceState:
        """Keep syncing in this thread until Ctrl+C or :meth:`detach` (for a script with no loop)."""
        async def main() -> None:
            self.loop, self._stop, self._lock = asyncio.get_running_loop(), asyncio.Event(), None
            await self._live(initial=False)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(main())
        if self.state.phase not in (Phase.DETACHED, Phase.TERMINATED):
            self.detach()
        return self.state

    # ------------------------------------------------------------------------------------ actions

    def write(self, path: str, text: str) -> Message:
        """Write ``text`` to ``path`` in the project and sync at once (the ``%%bentocloud write`` cell)."""
        target = write_into(self.state.project, path, text)
        if self.state.phase in (Phase.DETACHED, Phase.TERMINATED):
            return Message(f"Wrote {target}; codespace {self.state.name!r} is {self.state.phase.value}, so "
                           "nothing was synced.", "warning")
        if self.state.phase is Phase.CREATING and self.task is not None and not self.task.done():
            return Message(f"Wrote {target}; it goes up with codespace {self.state.name!r}'s first sync.")
        if self.loop is not None and self.loop.is_running() and _on(self.loop):
            if self._changes is not None:
                self._changes.mark()
            else:
                self.loop.create_task(self.async_sync()).add_done_callback(_retrieved)
            return Message(f"Wrote {target}; syncing it to codespace {self.state.name!r}.")
        self.sync()
        return Message(f"Wrote {target}; synced to codespace {self.state.name!r} ({self.state.phase.value}).")

    def detach(self) -> Message:
        """Stop syncing; the codespace keeps running."""
        if self._stop is not None and self.loop is not None and not self.loop.is_closed():
            if _on(self.loop):
                self._stop.set()
            else:
                self.loop.call_soon_threadsafe(self._stop.set)
        if self.task is not None and not self.task.done() and self.state.phase is Phase.CREATING:
            self.task.cancel()
        if self in _attached:
            _attached.remove(self)
        if self.state.phase is not Phase.TERMINATED:
            self.state.phase = Phase.DETACHED
            self.state.changed()
        return Message(f"Detached. {leaving_note(self.state)}", "warning")

    def terminate(self, confirm: str | None = None) -> Message:
        """Stop syncing and terminate the codespace (a protected context needs ``confirm=name``)."""
        from bentocloud_jupyter.core.api.deployments import terminate

        terminate(self.state.name, cluster=self.state.cluster, context=self.resolved.context.name, confirm=confirm)
        return self._terminated()

    def terminate_async(self, confirm: str | None = None) -> Awaitable[Message]:
        """:meth:`terminate` for the loop (the panel's button): a protected context's question is asked here and
        now (a local check, no request), the request then runs in a worker thread and the state changes back on
        the loop (the panel redraws from the loop's thread only).

        Raises:
            ConfirmationNeeded: protected context and no (or a wrong) ``confirm``: nothing is sent.
        """
        require_typed_name(self.resolved, "deployment", self.state.name, confirm)
        return self._terminate_off_loop(confirm)

    async def _terminate_off_loop(self, confirm: str | None) -> Message:
        from bentocloud_jupyter.core.api.deployments import terminate

        await asyncio.to_thread(terminate, self.state.name, cluster=self.state.cluster,
                                context=self.resolved.context.name, confirm=confirm)
        return self._terminated()

    def _terminated(self) -> Message:
        self.detach()
        self.state.phase = Phase.TERMINATED
        self.state.changed()
        return Message(f"Codespace {self.state.name!r} terminated.")

    async def ready(self, api: str | None = None, timeout: float = 60.0) -> CodespaceState:
        """Wait, without blocking the loop, until the codespace is ready (and serves ``api`` when named: after
        an edit that adds an API, name it to wait for that reload, not the one before).

        Raises:
            WatchTimeout: not ready in time. InvalidInputError: detached or terminated meanwhile, bad timeout.
        """
        limit = check_duration(timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + limit
        while not (self.state.phase is Phase.READY and (api is None or api in self.state.api_names)):
            if self.state.phase in (Phase.DETACHED, Phase.TERMINATED):
                raise InvalidInputError(f"codespace {self.state.name!r} is {self.state.phase.value}; attach again "
                                        "to wait for it")
            if loop.time() >= deadline:
                why = self.state.error or self.state.note or self.state.phase.value
                raise WatchTimeout(f"codespace {self.state.name!r} not ready{f' with {api!r}' if api else ''} "
                                   f"after {limit:g} s ({why})", name=self.state.name,
                                   status=self.state.phase.value)
            await asyncio.sleep(0.05)
        return self.state

    async def aterminate(self) -> None:
        """The TTL's stop: terminate without blocking the loop."""
        await self.terminate_async()

    def __repr__(self) -> str:
        return text_of(self.state, self.live_note)


async def unless_stopped(work: Coroutine[Any, Any, None], stop: asyncio.Event | None) -> None:
    """Await ``work``; once ``stop`` is set (detach, ``%unload_ext``) it is cancelled wherever it waits (a
    backoff sleep, a reload that never comes), so no pass outlives its handle's sync."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait()) if stop is not None else None
    try:
        await asyncio.wait({task} if stopped is None else {task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        if stopped is not None:
            stopped.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if not task.cancelled():
        task.result()  # what the pass raised


def _on(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _retrieved(task: asyncio.Task[Any]) -> None:
    if not task.cancelled():
        task.exception()


def write_into(root: Path, path: str, text: str) -> Path:
    """Write ``text`` to ``path`` under ``root`` (never outside it); the path written.

    Raises:
        InvalidInputError: a path that leaves the project, or one the OS refuses.
    """
    if not isinstance(path, str) or not path.strip() or not isinstance(text, str):
        raise InvalidInputError("write needs a file name inside the project and its text")
    try:
        target = (root / path).resolve()
        inside = target.is_relative_to(root) and target != root
    except (OSError, ValueError, RuntimeError):
        inside = False
    if not inside or path.startswith("~"):
        raise InvalidInputError(f"{path!r} is not a file path inside the project {str(root)!r}; give one inside it"
                                " (relative to the project; '~' is not expanded)")
    try:
        check_path(target.relative_to(root).as_posix())
    except TypeError:
        raise InvalidInputError(f"{path!r} has a backslash or a control character in its name, which a codespace "
                                "cannot sync; give another name") from None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot write {path!r} ({type(exc).__name__}: {str(exc)[:120]})") from None
    return target


def text_of(state: CodespaceState, extra: str = "") -> str:
    """The handle as text: name, phase, counts, endpoint, error and note."""
    lines = [f"Codespace {state.name} ({state.phase.value}) from {state.project}"]
    latency = f", last sync {state.last_sync_seconds:.2f} s" if state.last_sync_seconds is not None else ""
    lines.append(f"  files synced: {state.files_synced}{latency}" + (f", pod {state.pod_status}" if
                                                                       state.pod_status else ""))
    if state.endpoint:
        lines.append(f"  endpoint: {state.endpoint}")
    lines += [f"  {label}: {value}" for label, value in (("error", state.error), ("note", state.note),
                                                         ("", extra)) if value]
    return "\n".join(line.replace("  : ", "  ") for line in lines)
