"""One sync of a codespace as plain code: a generator that yields what to do (send a call, probe readyz, sleep,
read the pods and their log, rebuild) and receives the answers, so that the blocking and the asyncio drivers
(:mod:`.drive`) only move bytes, as :mod:`~bentocloud_jupyter.core.deployments.watch_engine` does for watches.

The engine mutates the :class:`~.state.CodespaceState` and announces each change to its listeners.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.codespaces.listing import RemoteFile
from bentocloud_jupyter.core.codespaces.plan import (
    MAX_BATCH,
    READY_MARKER,
    Problem,
    Source,
    SyncPlan,
    b64_size,
    generated_files,
    iter_batches,
    md5,
    plan_sync,
)
from bentocloud_jupyter.core.codespaces.project import project_files, read_config
from bentocloud_jupyter.core.codespaces.state import CodespaceState, Phase
from bentocloud_jupyter.core.errors import BentoCloudError, InvalidInputError, ServerError, TransportError
from bentocloud_jupyter.core.logs.pods import Pod
from bentocloud_jupyter.core.rest import endpoints
from bentocloud_jupyter.core.rest.http import Call
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import redact

__all__ = ["ABORTED", "API_SERVER_LABEL", "FIRST_PROBE", "PROBE_EVERY", "SETTLE", "Backoff", "Describe", "Effect",
           "Engine", "Logs", "Pods", "Probe", "Rebuild", "Scan", "Schema", "Send", "Sleep", "Steps", "merge_tail"]

ABORTED = frozenset({"failed", "terminated", "terminating", "unhealthy"})
"""Statuses at which ``bentoml code`` gives a codespace up."""
API_SERVER_LABEL = "yatai.ai/bento-function-component-type"
SETTLE = 1.0
"""Seconds after a sync before a 200 from readyz counts as the reloaded service (when no 503 was seen)."""
PROBE_EVERY = 0.25
"""The slowest readyz poll while waiting for a reload (reached after about a second)."""
FIRST_PROBE = 0.02
"""The first poll's gap after a sync: a fast reload's 503 lasts tens of milliseconds, and a wait that misses it
costs ``SETTLE`` (the gaps then grow by half each time up to ``PROBE_EVERY``: ~10 probes in the first second)."""
RACY_NS = 2_000_000_000
"""A file modified this recently is hashed again even when its size and mtime match the cache."""


@dataclass(frozen=True)
class Send:
    call: Call[Any]


@dataclass(frozen=True)
class Describe:
    """Fetch the deployment (its status and URL)."""


@dataclass(frozen=True)
class Probe:
    """``GET {url}/readyz``; the answer is its status code, or None when nothing answered."""

    deployment: Deployment


@dataclass(frozen=True)
class Schema:
    """The service's API names (``docs.json``)."""

    deployment: Deployment


@dataclass(frozen=True)
class Pods:
    deployment: Deployment


@dataclass(frozen=True)
class Logs:
    deployment: Deployment
    pod: Pod


@dataclass(frozen=True)
class Scan:
    """Walk and hash the project (file I/O: the asyncio driver runs it in a worker thread)."""

    read: Callable[[], Any]


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Rebuild:
    """A new bare bento and an update of the codespace to it (the setup scripts changed)."""


Effect = Send | Describe | Probe | Schema | Pods | Logs | Scan | Sleep | Rebuild
Steps = Generator[Effect, Any, None]


@dataclass(frozen=True)
class Backoff:
    """Retries of a failed sync step (network, 5xx): ``base * 2**n`` seconds, capped, ``attempts`` in all."""

    attempts: int = 6
    base: float = 0.5
    cap: float = 8.0

    def delay(self, attempt: int) -> float:
        return float(min(self.cap, self.base * 2 ** (attempt - 1)))


KEEP_BELOW = 1 << 20
"""A file up to this size keeps its bytes from the hashing (read once); a bigger one is hashed in chunks and
read again only when it is sent (a project of big data files never sits in memory whole)."""


def hashed(path: Path, size: int) -> Source:
    """The file's md5, and its bytes when small."""
    if size <= KEEP_BELOW:
        content = path.read_bytes()
        return Source(path, md5(content), content, size)
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(KEEP_BELOW), b""):
            digest.update(chunk)
    return Source(path, digest.hexdigest(), size=size)


MAX_APIS, MAX_NAME = 500, 200
"""The most API names kept from a service's schema, and characters of one (a hostile schema stays small)."""


def bounded(names: Iterable[Any]) -> tuple[str, ...]:
    """The schema's API names as the panel can show them: text, at most ``MAX_APIS``, each cut to ``MAX_NAME``."""
    kept: list[str] = []
    for name in names:
        if len(kept) >= MAX_APIS:
            break
        kept.append(str(name)[:MAX_NAME])
    return tuple(kept)


def merge_tail(kept: Iterable[str], fresh: list[str]) -> list[str]:
    """The lines of ``fresh`` not already at the end of ``kept`` (a log tail read again overlaps the last)."""
    old = list(kept)
    for size in range(min(len(old), len(fresh)), 0, -1):
        if old[-size:] == fresh[:size]:
            return fresh[size:]
    return fresh


class Engine:
    """The sync steps of one codespace; :meth:`sync` is one pass, started again for each change."""

    def __init__(self, state: CodespaceState, *, backoff: Backoff | None = None, limit: int | None = None,
                 ready_timeout: float = 120.0, probe_every: float | None = None, settle: float | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.state, self.backoff = state, backoff or Backoff()
        self.limit = MAX_BATCH if limit is None else limit  # per request, in base64 characters
        self.ready_timeout, self.clock = ready_timeout, clock
        self.probe_every = PROBE_EVERY if probe_every is None else probe_every
        self.settle = SETTLE if settle is None else settle
        self.first = True
        self.confirmed = False  # readyz has answered 200 after a sync of ours
        self.unconfirmed: float | None = None  # a sync whose reload a newer change interrupted: still awaited
        self.digests: dict[str, tuple[int, int, str]] = {}  # path -> (size, mtime_ns, md5)
        self.deployment: Deployment | None = None  # from the last wait (its URL is probed first in the next)

    def _announce(self, **changes: Any) -> None:
        if self.state.phase in (Phase.DETACHED, Phase.TERMINATED):
            changes.pop("phase", None)  # a pass still finishing never undoes a detach
        for key, value in changes.items():  # much of it is the server's text: a token it echoes never shows
            if type(value) is str:  # not the Phase (a str enum)
                value = redact(value)
            elif isinstance(value, tuple):
                value = tuple(redact(v) if isinstance(v, str) else v for v in value)
            setattr(self.state, key, value)
        self.state.changed()

    def _send(self, call: Call[Any]) -> Generator[Effect, Any, Any]:
        """One call, retried with backoff on a network error or a 5xx (said in ``state.note``)."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return (yield Send(call))
            except (TransportError, ServerError) as exc:
                if attempt >= self.backoff.attempts:
                    raise
                delay = self.backoff.delay(attempt)
                self._announce(note=f"sync failed ({str(exc).splitlines()[0][:160]}); retrying in {delay:g} s")
                yield Sleep(delay)

    def read_local(self) -> tuple[dict[str, Source], dict[str, bytes], list[str]]:
        """The project's files (by md5; a file unchanged in size and mtime is not read again), the generated
        dependency files, and files unreadable just now (not deleted remotely for that)."""
        root = self.state.project
        if not root.is_dir():  # moved or deleted: an empty project must not delete every remote file
            raise InvalidInputError(f"the project folder {str(root)!r} is gone; nothing was synced or deleted "
                                    "(put it back, or detach and run code again from its new place)")
        config = read_config(root)
        local: dict[str, Source] = {}
        cache: dict[str, tuple[int, int, str]] = {}
        found = project_files(root, config)
        held = list(found.unreadable)
        for rel, path in found.files.items():
            try:
                stat = path.stat()
                known = self.digests.get(rel)
                settled = time.time_ns() - stat.st_mtime_ns > RACY_NS  # coarse clocks: a fresh mtime proves little
                if b64_size(stat.st_size) > self.limit:  # refused whatever it holds: never read
                    local[rel] = Source(path, "", size=stat.st_size)
                    continue
                if known is not None and settled and known[:2] == (stat.st_size, stat.st_mtime_ns):
                    local[rel] = Source(path, known[2], size=stat.st_size)
                else:
                    local[rel] = hashed(path, stat.st_size)
                cache[rel] = (stat.st_size, stat.st_mtime_ns, local[rel].digest)
            except OSError:  # being written or removed right now: the next change syncs it
                held.append(rel)
        self.digests = cache
        return local, generated_files(root, config), held

    def plan(self, listing: list[RemoteFile]) -> SyncPlan:
        """Walk, hash, diff and syntax-check (file I/O and CPU: the asyncio driver runs it in a worker thread)."""
        local, generated, held = self.read_local()
        return plan_sync(local, generated, listing, held, limit=self.limit)

    def sync(self, noticed: float | None = None) -> Steps:
        """One pass: list, diff, upload in batches, delete, the marker (first pass), then wait for ready."""
        state, name, cluster = self.state, self.state.name, self.state.cluster
        noticed = self.clock() if noticed is None else noticed
        self._announce(phase=Phase.SYNCING)
        listing: list[RemoteFile] = yield from self._send(endpoints.list_files(name, cluster))
        plan: SyncPlan = yield Scan(lambda: self.plan(listing))
        note = (yield from self._rebuild()) if plan.needs_update else ""
        too_big: list[Problem] = []
        encoder = iter_batches(plan.uploads, self.limit, too_big)
        count = 0
        while (batch := (yield Scan(lambda: next(encoder, None)))) is not None:  # base64 off the loop, one at a time
            yield from self._send(endpoints.upload_files(name, batch.files, cluster))
            count += len(batch.files)
        if plan.deletes:
            yield from self._send(endpoints.delete_files(name, plan.deletes, cluster))
        if self.first:
            yield from self._send(endpoints.upload_files(name, [{"path": READY_MARKER, "b64_encoded_content": ""}],
                                                         cluster))
        self._report([*plan.problems, *too_big])
        count += len(plan.deletes)
        self._announce(files_synced=state.files_synced + count, note=note)
        self.first, waiting = False, self.unconfirmed
        if count or waiting is not None or not self.confirmed:
            self.unconfirmed = min(noticed, waiting) if waiting is not None else noticed
            yield from self._await_ready(self.unconfirmed)
            self.unconfirmed = None
        elif state.phase is Phase.SYNCING:
            self._announce(phase=Phase.READY)

    def _rebuild(self) -> Generator[Effect, Any, str]:
        """The update ``bentoml code`` does when the setup scripts change; a failure is a note, the files
        still sync (the new scripts wait for the next successful update)."""
        self._announce(note="the setup scripts changed: building a new bento and updating the codespace")
        try:
            yield Rebuild()
        except BentoCloudError as exc:
            return f"could not update the codespace's bento ({str(exc).splitlines()[0][:200]})"
        return ""

    def _report(self, problems: list[Problem]) -> None:
        """The first problem is the one the panel shows (error, file, line); none clears it."""
        first = problems[0] if problems else None
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        self._announce(error=first.message + more if first else None, error_file=first.path if first else None,
                       error_line=first.line if first else None)

    def _await_ready(self, noticed: float) -> Steps:
        """readyz until 200 after the reload (a 503 seen, or ``settle`` seconds passed), then pods and logs."""
        self._announce(phase=Phase.RELOADING)
        started, reloading = self.clock(), False
        if self.deployment is not None:  # known from an earlier wait: probe before asking (a short 503 is missed)
            status = yield Probe(self.deployment)
            reloading = status is not None and status != 200
        deployment: Deployment = yield Describe()
        self.deployment = deployment
        if deployment.status in ABORTED:
            self._announce(phase=Phase.FAILED, error=f"codespace {deployment.name!r} is {deployment.status}; "
                                                     "terminate it and start a new one")
            return
        url = deployment.url
        self._announce(endpoint=url if url and url.startswith(("http://", "https://")) else None)
        gap = min(FIRST_PROBE, self.probe_every)
        while True:
            status = yield Probe(deployment)
            if status == 200 and (reloading or self.clock() - started >= self.settle):
                break
            reloading |= status is not None and status != 200
            if self.clock() - started > self.ready_timeout:
                self._announce(note=f"no ready answer after {self.ready_timeout:g} s (the log may say why); "
                                    "still syncing changes")
                yield from self._observe(deployment)
                return
            yield Sleep(gap)
            gap = min(self.probe_every, gap * 1.5)
        names = yield Schema(deployment)
        self.confirmed = True
        self._announce(phase=Phase.READY, last_sync_seconds=self.clock() - noticed,
                       api_names=bounded(names) if names is not None else self.state.api_names)
        yield from self._observe(deployment)

    def _observe(self, deployment: Deployment) -> Steps:
        """The api-server pod's status and its log tail into ``state.logs`` (best effort: a note if not)."""
        try:
            pods: list[Pod] = yield Pods(deployment)
            server = next((p for p in pods if p.labels.get(API_SERVER_LABEL) == "api-server"), None) or \
                next((p for p in pods if not p.is_image_builder), None)
            if server is None:
                return
            self._announce(pod_status=str(server.phase)[:MAX_NAME])
            lines: list[str] = yield Logs(deployment, server)
            self.state.logs.extend(merge_tail(self.state.logs, [redact(str(line)) for line in lines]))
            self.state.changed()
        except BentoCloudError as exc:
            self._announce(note=f"pods and logs not available ({str(exc).splitlines()[0][:160]})")
