"""The doctor's few GETs, through the REST choke point (:mod:`~.rest.http`) but with the answer's headers kept.

Why not the shared client: the doctor needs what the client never returns (the ``Date`` header, how long
one attempt took) and must not retry (a retry would hide the latency and the failure it is looking for).
Requests are built, mapped and parsed by the same functions as every other call, so failures read the same.
The body is streamed: past :data:`MAX_BODY` bytes, or past the timeout in all (httpx's own timeout is per
read, so a server dribbling a byte at a time would hold the doctor for ever), the GET gives up.
"""

from __future__ import annotations

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

__all__ = ["MAX_BODY", "Probe", "Stamp"]

T = TypeVar("T")
MAX_BODY = 4 * 2**20
"""Bytes of one answer at most: the doctor's three GETs answer kilobytes; more is no BentoCloud."""


@dataclass(frozen=True)
class Stamp:
    """One answer's ``Date`` header (verbatim, maybe absent) and our clock halfway through the exchange."""

    date: str | None
    local: float
    latency: float


@dataclass
class Probe:
    """One connection for one doctor run; each :meth:`get` is one attempt, timed, its ``Date`` kept."""

    context: Context
    timeout: float
    stamps: list[Stamp] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.endpoint = normalize_endpoint(self.context.endpoint, allow_insecure=self.context.allows_insecure_http)
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity",
                   "X-YATAI-API-TOKEN": sendable_token(self.context.api_token).reveal()}
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=self.timeout,
                                 transport=settings.transport, follow_redirects=False, trust_env=False)

    def get(self, call: Call[T]) -> tuple[T, float]:
        """The value of one GET and the seconds it took; any failure raises the project's one-line error."""
        wall, started = time.time(), time.monotonic()
        request = self.http.build_request(call.method, call.path, params=call.params)
        try:
            response = self.http.send(request, stream=True)
            try:
                latency = time.monotonic() - started  # to the headers: the body's size is no latency
                self.stamps.append(Stamp(response.headers.get("date"), wall + latency / 2, latency))
                body = self._body(response, started, call)
            finally:
                response.close()
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None
        headers = [(k, v) for k, v in response.headers.multi_items()
                   if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")]
        answer = httpx.Response(response.status_code, headers=headers, content=body, request=request)
        if answer.status_code != 200:
            raise response_error(call, answer, self.endpoint, self.context.name)
        return parse_body(call, answer, self.endpoint), latency

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
