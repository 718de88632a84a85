"""Multipart pushes: many parts at once, each read from disk as it is sent, retried alone, and resumable.

``bentoml`` sends up to 10 parts of 100 MiB at once; so do we by default, each part streamed from the
archive in 1 MiB chunks (memory stays flat whatever the size). A part that fails on a passing error
(5xx, 429, a broken connection) is sent again alone after a growing pause; any other failure stops the
others. Every acknowledged part is written to the push's :class:`.journal.Journal`, so pushing the same
item again sends only the parts BentoCloud does not have, as long as it still accepts that upload;
otherwise the push starts afresh and says so. BentoCloud is asked to complete the upload only with
every part listed, so it is never marked successful with parts missing.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bentocloud_jupyter.core.artifacts.journal import Journal, fingerprint, journal_path
from bentocloud_jupyter.core.artifacts.progress import Progress
from bentocloud_jupyter.core.artifacts.ranged import run_jobs
from bentocloud_jupyter.core.artifacts.store import LocalStore
from bentocloud_jupyter.core.errors import APIError, InvalidInputError, RateLimitError, ServerError, TransportError
from bentocloud_jupyter.core.rest.client import BentoCloudClient

__all__ = ["PART_ATTEMPTS", "PART_BACKOFF", "PART_THREADS", "Multipart"]

PART_THREADS = 10
PART_ATTEMPTS = 3
PART_BACKOFF = 0.5  # seconds before a part's second attempt, doubled after each failure
PASSING = (ServerError, RateLimitError, TransportError)

Chunks = Callable[[Path, str, int, int], Iterator[bytes]]


@dataclass
class Multipart:
    """One multipart upload of ``archive`` (built from the local ``source`` folder)."""

    client: BentoCloudClient
    store: LocalStore
    progress: Progress
    cancelled: threading.Event
    chunks: Chunks
    item: tuple[str, str, str]  # kind, name, version
    part_size: int
    threads: int = PART_THREADS
    kept: int = 0  # parts a resumed upload did not send again

    def run(self, archive: Path, source: Path, label: str) -> str:
        """Upload and complete; returns a note for the user ("" for a plain fresh upload)."""
        size = archive.stat().st_size
        where = journal_path(self.store, *self.item)
        journal, note = Journal.load(where, self.part_size, fingerprint(source, size)), ""
        if journal is not None:
            try:
                self.send_parts(journal, archive, label)
                note = f"resumed: {self.kept} of {self.count(size)} parts were already there"
            except APIError as exc:
                if isinstance(exc, PASSING) or (exc.status or 0) not in (400, 404):
                    raise
                journal.drop()
                journal, note = None, "started afresh: BentoCloud no longer accepts the earlier upload"
                self.progress.start(label, size)
        if journal is None:
            journal = Journal(where, self.start(), self.part_size, fingerprint(source, size))
            journal.save()
            self.send_parts(journal, archive, label)
        self.complete(journal, size)
        return note

    def count(self, size: int) -> int:
        return max(1, -(-size // self.part_size))

    def start(self) -> str:
        answer = self.action("start_multipart_upload")
        upload_id = str(answer.get("upload_id") or "")
        if not upload_id:
            raise InvalidInputError("BentoCloud did not start the multipart upload (no upload id); try again.")
        return upload_id

    def action(self, name: str, body: Any = None) -> dict[str, Any]:
        kind, repo, version = self.item
        return self.client.item_action(kind, repo, version, name, body)

    def send_parts(self, journal: Journal, archive: Path, label: str) -> None:
        """Send every part the journal lacks (a resumed upload is probed first: is it still open?)."""
        size = archive.stat().st_size
        count = self.count(size)
        done = {n for n in journal.parts if 1 <= n <= count}
        self.kept = len(done)
        missing = [n for n in range(1, count + 1) if n not in done]
        already = sum(min(self.part_size, size - (n - 1) * self.part_size) for n in done)
        if already:
            self.progress.advance(label, already)
        if done:  # a journal: is the upload still open? (a refusal here means start afresh)
            self.presign(journal.upload_id, missing[0] if missing else 1)
        jobs = [functools.partial(self.send, journal, archive, label, n, size) for n in missing]
        run_jobs(list(jobs), self.threads, self.cancelled, self.progress)

    def presign(self, upload_id: str, number: int) -> str:
        answer = self.action("presign_multipart_upload_url", {"upload_id": upload_id, "part_number": number})
        return str(answer.get("presigned_upload_url") or "")

    def send(self, journal: Journal, archive: Path, label: str, number: int, size: int) -> None:
        """One part, retried alone after a passing failure; recorded in the journal once acknowledged."""
        start = (number - 1) * self.part_size
        length = min(self.part_size, size - start)
        delay = PART_BACKOFF
        for attempt in range(1, PART_ATTEMPTS + 1):
            url = self.presign(journal.upload_id, number)
            try:
                etag = self.client.storage_put(url, self.chunks(archive, label, start, length), length)
            except PASSING:
                self.progress.advance(label, -length)  # the retry sends these bytes again
                if attempt == PART_ATTEMPTS or self.cancelled.is_set():
                    raise
                time.sleep(delay)
                delay *= 2
                continue
            journal.record(number, etag)
            return

    def complete(self, journal: Journal, size: int) -> None:
        """Complete with every part listed; the journal goes once BentoCloud accepted or refused it."""
        parts = [{"part_number": n, "etag": journal.parts[n]} for n in range(1, self.count(size) + 1)]
        try:
            self.action("complete_multipart_upload", {"parts": parts, "upload_id": journal.upload_id})
        except APIError as exc:
            if not isinstance(exc, PASSING):
                journal.drop()  # refused (a part lost or the upload gone): the next push starts afresh
            raise
        journal.drop()
