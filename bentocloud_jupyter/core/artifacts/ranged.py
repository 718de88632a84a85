"""Ranged, parallel downloads of presigned storage URLs, with one stream when the host ignores ``Range``.

One TCP connection over a real link carries tens of MB/s; S3 (and the sandbox) answer ``Range`` with
206, so a pull opens several connections, each fetching its own slices into its place in one staging
file. The first request asks for the first slice: a 206 tells the total size (``Content-Range``) and the
other slices start at once; a 200 means no ranges, and that very response is streamed whole. Every slice
must arrive with exactly the bytes asked for and the file must end at the announced size, else the pull
fails (nothing is extracted). Slices that break are fetched again alone, a few times.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import httpx

from bentocloud_jupyter.core.artifacts.progress import Progress
from bentocloud_jupyter.core.errors import ProtocolError, ServerError, TransportError
from bentocloud_jupyter.core.rest.client import BentoCloudClient
from bentocloud_jupyter.core.rest.http import USER_AGENT, Call, storage_error, transport_error

__all__ = ["RANGE_SIZE", "STREAMS", "ranged_download"]

RANGE_SIZE = 16 * 1024 * 1024
STREAMS = 8
SLICE_ATTEMPTS = 3
SLICE_BACKOFF = 0.2  # seconds before the second attempt of a slice, growing with each
CHUNK = 1024 * 1024
CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


@dataclass
class RangedFetch:
    """One download: the storage pool, the target file, progress and the cancel flag workers watch."""

    client: BentoCloudClient
    url: str
    target: Path
    label: str
    progress: Progress
    range_size: int = RANGE_SIZE
    total: int = 0  # announced by the first answer; every slice must agree
    cancelled: threading.Event = field(default_factory=threading.Event)
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(timeout=self.client.timeout, follow_redirects=False, trust_env=False,
                                 headers={"User-Agent": USER_AGENT})
        self.call: Call[None] = Call("GET", httpx.URL(self.url).path, lambda _: None, what="the download")

    def open(self, start: int, end: int) -> httpx.Response:
        """Send a ranged GET; the caller closes the response. Raises the mapped errors."""
        try:
            request = self.http.build_request("GET", self.url, headers={"Range": f"bytes={start}-{end}"})
            response = self.http.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.call, self.client.endpoint, self.client.timeout) from None
        if response.status_code not in (200, 206):
            response.read()
            response.close()
            raise storage_error(self.call, response, self.client.endpoint)
        return response

    def copy(self, response: httpx.Response, handle: BinaryIO, limit: int | None) -> int:
        """Body to ``handle`` (at its position); more than ``limit`` bytes is a protocol error."""
        written = 0
        try:
            for chunk in response.iter_bytes(CHUNK):
                if self.cancelled.is_set():
                    raise InterruptedError("interrupted by the user")
                written += len(chunk)
                if limit is not None and written > limit:
                    raise ProtocolError("The storage service sent more bytes than the range asked for; "
                                        "the download was refused, try again.")
                handle.write(chunk)
                self.progress.advance(self.label, len(chunk))
        except httpx.HTTPError as exc:
            raise transport_error(exc, self.call, self.client.endpoint, self.client.timeout) from None
        finally:
            response.close()
        return written

    def slice(self, start: int, end: int, opened: httpx.Response | None = None) -> None:
        """Fetch bytes ``start..end`` into place, retrying a broken slice alone."""
        for attempt in range(1, SLICE_ATTEMPTS + 1):
            written = 0
            try:
                response = opened or self.open(start, end)
                opened = None
                if check_range(response, start, end) != self.total:
                    response.close()
                    raise ProtocolError("The storage service announced another size for a slice of the download; "
                                        "refusing it.")
                with self.target.open("r+b") as handle:
                    handle.seek(start)
                    written = self.copy(response, handle, end - start + 1)
                if written != end - start + 1:
                    raise TransportError(f"The download stopped after {written} of {end - start + 1} bytes of "
                                         "a slice; try again.")
                return
            except (TransportError, ServerError):
                self.progress.advance(self.label, -written)
                if attempt == SLICE_ATTEMPTS or self.cancelled.is_set():
                    raise
                time.sleep(SLICE_BACKOFF * attempt)


    def parallel(self, first: httpx.Response, streams: int) -> None:
        """Fetch every slice on up to ``streams`` threads, the first from the already open ``first``."""
        total = self.total
        starts = iter(range(self.range_size, total, self.range_size))  # lazy: a huge total costs no memory
        lock = threading.Lock()

        def worker(opened: httpx.Response | None = None) -> None:
            if opened is not None:
                self.slice(0, min(self.range_size, total) - 1, opened)
            while not self.cancelled.is_set():
                with lock:
                    start = next(starts, None)
                if start is None:
                    return
                self.slice(start, min(start + self.range_size, total) - 1)

        count = min(streams, -(-total // self.range_size))
        jobs: list[Callable[[], None]] = [functools.partial(worker, first)]
        jobs += [worker] * (count - 1)
        run_jobs(jobs, count, self.cancelled, self.progress)


def check_range(response: httpx.Response, start: int, end: int) -> int:
    """The total size of a 206 that answers exactly ``start..end`` (ProtocolError otherwise)."""
    match = CONTENT_RANGE.fullmatch(response.headers.get("content-range", "").strip())
    if response.status_code != 206 or match is None:
        raise ProtocolError("The storage service answered a ranged download without a usable Content-Range; "
                            "refusing it.")
    first, last, total = (int(g) for g in match.groups())
    if first != start or last != min(end, total - 1) or last >= total:
        raise ProtocolError("The storage service sent another byte range than the one asked for; refusing it.")
    return total


def ranged_download(client: BentoCloudClient, url: str, target: Path, label: str, progress: Progress, *,
                    streams: int | None = None, range_size: int | None = None) -> int:
    """Download ``url`` into ``target`` (ranged and parallel when possible); returns the verified size.

    Raises:
        APIError, TransportError: refused or broken. ProtocolError: ranges that do not add up.
    """
    fetch = RangedFetch(client, url, target, label, progress, max(1, range_size or RANGE_SIZE))
    streams = streams or STREAMS
    try:
        target.write_bytes(b"")
        first = fetch.open(0, fetch.range_size - 1)
        if first.status_code == 200:  # no ranges here: this response is the one stream
            progress.start(label, announced(first.headers.get("content-length")))
            with target.open("r+b") as handle:
                return fetch.copy(first, handle, None)
        total = fetch.total = check_range(first, 0, fetch.range_size - 1)
        progress.start(label, total)
        fetch.parallel(first, streams)
        if target.stat().st_size != total:
            raise ProtocolError(f"The download has {target.stat().st_size} bytes, not the {total} announced; "
                                "try again.")
        return total
    finally:
        fetch.http.close()


def run_jobs(jobs: list[Callable[[], None]], streams: int, cancelled: threading.Event, progress: Progress) -> None:
    """Run ``jobs`` on ``streams`` threads; the first failure (or Ctrl-C here) stops the rest and is raised."""
    pool = ThreadPoolExecutor(max_workers=max(1, streams))
    futures: list[Future[None]] = [pool.submit(job) for job in jobs]
    try:
        while True:
            done, pending = wait(futures, timeout=0.25, return_when=FIRST_EXCEPTION)
            progress.refresh()
            failed = [f for f in done if f.exception() is not None]
            if failed or not pending:
                break
    except BaseException:
        cancelled.set()
        raise
    finally:
        if any(f.done() and f.exception() is not None for f in futures):
            cancelled.set()
        pool.shutdown(wait=True, cancel_futures=True)
        progress.refresh(force=True)
    errors = [exc for f in futures if not f.cancelled() and (exc := f.exception()) is not None]
    errors.sort(key=lambda exc: isinstance(exc, InterruptedError))  # the cause first, not the stops it caused
    if errors:
        raise errors[0]


def announced(value: str | None) -> int:
    """A Content-Length for progress only (0 when missing or nonsense)."""
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0

