"""The doctor's few GETs, through the REST choke point (:mod:`~.rest.http`) but with the answer's headers kept.

Why not the shared client: the doctor needs what the client never returns (the ``Date`` header, how long
one attempt took) and must not retry (a retry would hide the latency and the failure it is looking for).
Requests are built, mapped and parsed by the same functions as every other call, so failures read the same.
The body is streamed: past :data:`MAX_BODY` bytes, or past the timeout in all (httpx's own timeout is per
read, so a server dribbling a byte at a time would hold the doctor for ever), the GET gives up; the
attempt runs in a worker thread so that headers dribbled a byte at a time are cut off too.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field
from types import TracebackType
from typing import TypeVar

import httpx

from bentocloud_jupyter.core.credentials.config import Context
from bentocloud_jupyter.core.errors import ProtocolError
from bentocloud_jupyter.core.rest.http import (
    USER_AGENT,
    Call,
    normalize_endpoint,
    parse_body,
    response_error,
    transport_error,
)
from bentocloud_jupyter.core.rest.session import settings
from bentocloud_jupyter.core.tokens import sendable_token

__all__ = ["GRACE", "MAX_BODY", "Answer", "Probe", "Stamp"]

T = TypeVar("T")
MAX_BODY = 4 * 2**20
"""Bytes of one answer at most: the doctor's three GETs answer kilobytes; more is no BentoCloud."""
GRACE = 0.5
"""Seconds past the timeout before a GET is given up (the worker's own deadline usually ends it first)."""


@dataclass(frozen=True)
class Stamp:
    """One answer's ``Date`` header (verbatim, maybe absent) and our clock halfway through the exchange."""

    date: str | None
    local: float
    latency: float


@dataclass(frozen=True)
class Answer:
    """What one GET brought back, read in full (within the bounds) by the worker thread."""

    response: httpx.Response
    stamp: Stamp


@dataclass
class Probe:
    """One connection for one doctor run; each :meth:`get` is one attempt, timed, its ``Date`` kept."""

    context: Context
    timeout: float
    stamps: list[Stamp] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.endpoint = normalize_endpoint(self.context.endpoint, allow_insecure=self.context.allows_insecure_http)
        self._token = sendable_token(self.context.api_token)
        self.http = self._client()

    def _client(self) -> httpx.Client:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity",
                   "X-YATAI-API-TOKEN": self._token.reveal()}
        return httpx.Client(base_url=self.endpoint, headers=headers, timeout=self.timeout,
                            transport=settings.transport, follow_redirects=False, trust_env=False)

    def get(self, call: Call[T]) -> tuple[T, float]:
        """The value of one GET and the seconds it took; any failure raises the project's one-line error.

        The attempt runs in a worker thread and is given up after the timeout in all: httpx's timeout is
        per read, so a server sending its headers a byte at a time would otherwise hold the doctor for ever.
        """
        outcome: queue.Queue[Answer | BaseException] = queue.Queue(maxsize=1)
        http = self.http
        worker = threading.Thread(target=self._attempt, args=(http, call, outcome), daemon=True,
                                  name="bentocloud-doctor-get")
        worker.start()
        try:
            got = outcome.get(timeout=self.timeout + GRACE)
        except queue.Empty:
            self.http = self._client()  # the abandoned worker closes its client when the server lets go
            raise transport_error(httpx.ReadTimeout("no whole answer within the timeout"), call, self.endpoint,
                                  self.timeout) from None
        if isinstance(got, BaseException):
            raise got
        self.stamps.append(got.stamp)
        if got.response.status_code != 200:
            raise response_error(call, got.response, self.endpoint, self.context.name)
        return parse_body(call, got.response, self.endpoint), got.stamp.latency

    def _attempt(self, http: httpx.Client, call: Call[T], outcome: queue.Queue[Answer | BaseException]) -> None:
        try:
            outcome.put(self._fetch(http, call))
        except BaseException as exc:  # handed to the caller, who raises it
            outcome.put(exc)
        finally:
            if http is not self.http:
                http.close()

    def _fetch(self, http: httpx.Client, call: Call[T]) -> Answer:
        wall, started = time.time(), time.monotonic()
        request = http.build_request(call.method, call.path, params=call.params)
        try:
            response = http.send(request, stream=True)
            try:
                latency = time.monotonic() - started  # to the headers: the body's size is no latency
                body = self._body(response, started, call)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        answer = httpx.Response(response.status_code, headers=headers, content=body, request=request)
        return Answer(answer, Stamp(response.headers.get("date"), wall + latency / 2, latency))

    def _body(self, response: httpx.Response, started: float, call: Call[T]) -> bytes:
        """At most :data:`MAX_BODY` bytes within the timeout counted from the request, else one error."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY:
                raise ProtocolError(f"BentoCloud at {self.endpoint} sent an answer to {call.label} larger than "
                                    f"{MAX_BODY // 2**20} MiB; is this a BentoCloud endpoint?", endpoint=self.endpoint)
            if time.monotonic() - started > self.timeout:
                raise httpx.ReadTimeout("the answer took longer than the timeout in all", request=response.request)
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Probe:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Probe({self.endpoint!r}, context={self.context.name!r})"
