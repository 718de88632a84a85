"""HTTP clients for the BentoCloud REST API: :class:`BentoCloudClient` and :class:`AsyncBentoCloudClient`.

Both inherit one list of endpoint builders (:mod:`.endpoints`) and drive the same sans-IO cores (the
request to build, how to read the answer, when to retry, which page comes next): the blocking and the
async ``send`` only move bytes and sleep, so every failure maps to the same errors. Each
client owns one connection pool, reused across calls (keep-alive); close it, or use it as a context
manager, when done.

>>> with BentoCloudClient.for_context() as client:      # doctest: +SKIP
...     for deployment in client.iter_deployments():
...         print(deployment.name, deployment.status)
"""

from __future__ import annotations

import contextlib
import inspect
import time
import types
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Generic, ParamSpec, TypeVar, overload
from urllib.parse import urlsplit

import httpx

from bentocloud_jupyter.core.credentials.config import Context, ResolvedContext, resolve_context
from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.rest import endpoints
from bentocloud_jupyter.core.rest.durations import MAX_REQUEST_TIMEOUT, check_duration
from bentocloud_jupyter.core.rest.http import (
    USER_AGENT,
    Call,
    RetryPolicy,
    asend_bounded,
    bounded_transport,
    normalize_endpoint,
    parse_body,
    response_error,
    retry_delay,
    send_bounded,
    storage_error,
    transport_error,
)
from bentocloud_jupyter.core.rest.models import Deployment, Page
from bentocloud_jupyter.core.tokens import Token, sendable_token

__all__ = ["DEFAULT_TIMEOUT", "AsyncBentoCloudClient", "BentoCloudClient"]

DEFAULT_TIMEOUT = 60.0
P = ParamSpec("P")
T = TypeVar("T")


def _path_only(url: str) -> str:
    """What messages may show of a URL: its path (a presigned URL's query is a credential)."""
    return urlsplit(url).path or url


# ------------------------------------------------------------------ sans-IO cores (no waiting, no sockets)


class _Exchange(Generic[T]):
    """One call, as plain code: the request to send, how to read its answer, and whether to try again.

    The blocking and the async ``send`` only move bytes and sleep as told; every decision lives here.
    """

    def __init__(self, client: _ClientBase, call: Call[T]) -> None:
        self.client, self.call = client, call
        self.started, self.waited, self.attempt = time.monotonic(), 0.0, 0

    def request(self, http: httpx.Client | httpx.AsyncClient) -> httpx.Request:
        call = self.call
        request = http.build_request(call.method, call.path, params=call.params, json=call.json)
        if not call.authenticated:  # the login code flow sends no token, as bentoml does
            request.headers.pop("X-YATAI-API-TOKEN", None)
        return request

    def read(self, response: httpx.Response) -> T:
        """The value of a 200 answer; any other answer raises its error."""
        if response.status_code == 200:
            return parse_body(self.call, response, self.client.endpoint)
        raise response_error(self.call, response, self.client.endpoint, self.client.context_name)

    def wait_after(self, exc: BaseException) -> float:
        """Seconds to wait before the next attempt; re-raises (as our error) when there is none."""
        self.attempt += 1
        client = self.client
        error = transport_error(exc, self.call, client.endpoint, client.timeout) \
            if isinstance(exc, httpx.HTTPError) else exc
        assert isinstance(error, BentoCloudError)
        spent = max(time.monotonic() - self.started, self.waited)
        delay = retry_delay(client.retry, self.call, self.attempt, spent, error)
        if delay is None:
            raise error from None
        self.waited += delay
        return delay


class _Pages:
    """Paging through deployments, as plain code: the next page to ask for, and when to stop (bounded by
    :class:`~.endpoints.Pager`: a server whose ``total`` never comes is not paged forever)."""

    def __init__(self, cluster: str | None, all: bool | None, search: str | None, q: str | None,
                 page_size: int) -> None:
        self.query, self.page_size, self.pager = (cluster, all, search, q), page_size, endpoints.Pager()

    def next_call(self) -> Call[Page[Deployment]] | None:
        pager = self.pager
        return None if pager.done else endpoints.list_deployments_page(*self.query, pager.start, self.page_size)

    def take(self, page: Page[Deployment]) -> list[Deployment]:
        return self.pager.take(page, lambda d: (d.cluster, d.name))


class _ClientBase:
    """Settings shared by both clients; no I/O here."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *, context_name: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 insecure: bool = False) -> None:
        self.endpoint = normalize_endpoint(endpoint, allow_insecure=insecure)
        self.token = Token(token) if token is not None else None
        self.context_name = context_name
        self.timeout = check_duration(timeout, maximum=MAX_REQUEST_TIMEOUT)
        self.retry = retry or RetryPolicy()

    @classmethod
    def for_context(cls, name: str | None = None, **kwargs: Any) -> Any:
        """A client for the credentials that :func:`~.config.resolve_context` picks for ``name``."""
        return cls.from_context(resolve_context(name), **kwargs)

    @classmethod
    def from_context(cls, context: Context | ResolvedContext, **kwargs: Any) -> Any:
        ctx = context.context if isinstance(context, ResolvedContext) else context
        return cls(ctx.endpoint, ctx.api_token, context_name=ctx.name, **kwargs)

    def reload_credentials(self) -> bool:
        """Re-read this client's context (its token may have been refreshed in the file since); True when the
        token changed and is used from now on. Another endpoint, or a context gone, changes nothing."""
        if self.context_name is None:
            return False
        try:
            ctx = resolve_context(self.context_name).context
            same_endpoint = normalize_endpoint(ctx.endpoint, allow_insecure=True) == self.endpoint
        except BentoCloudError:
            return False
        if not same_endpoint or self.token == ctx.api_token:
            return False
        self.token = ctx.api_token
        self._http_client().headers["X-YATAI-API-TOKEN"] = ctx.api_token.reveal()
        return True

    def _http_client(self) -> httpx.Client | httpx.AsyncClient:
        raise NotImplementedError

    def __repr__(self) -> str:
        context = f", context={self.context_name!r}" if self.context_name else ""
        return f"{type(self).__name__}({self.endpoint!r}{context})"

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token is not None:
            headers["X-YATAI-API-TOKEN"] = sendable_token(self.token).reveal()
        return headers

    def _http_kwargs(self, transport: Any) -> dict[str, Any]:
        return dict(base_url=self.endpoint, headers=self._headers(), timeout=self.timeout, transport=transport,
                    follow_redirects=False, trust_env=False)


# ------------------------------------------------------------------------------------- endpoint methods


class _Endpoint(Generic[P, T]):
    """An endpoint builder as a method of both clients: it returns ``T`` on the blocking client and an
    awaitable of ``T`` on the async one, so each endpoint is bound once (in :class:`_Endpoints`)."""

    def __init__(self, op: Callable[P, Call[T]]) -> None:
        def blocking(client: BentoCloudClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return client.send(op(*args, **kwargs))

        async def awaiting(client: AsyncBentoCloudClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
            return await client.send(op(*args, **kwargs))

        self.blocking, self.awaiting = _describe(blocking, op), _describe(awaiting, op)
        self.__doc__ = op.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> _Endpoint[P, T]: ...
    @overload
    def __get__(self, client: BentoCloudClient, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: AsyncBentoCloudClient, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...

    def __get__(self, client: _ClientBase | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        method = self.awaiting if isinstance(client, AsyncBentoCloudClient) else self.blocking
        return types.MethodType(method, client)


def _describe(method: Callable[..., Any], op: Callable[..., Any]) -> Callable[..., Any]:
    """Give the method the endpoint's name, docstring and signature (for help() and completion)."""
    target: Any = method
    target.__name__ = target.__qualname__ = op.__name__
    target.__doc__ = op.__doc__
    signature = inspect.signature(op)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY)
    target.__signature__ = signature.replace(parameters=[self_param, *signature.parameters.values()])
    return method


class _Endpoints:
    """Every REST endpoint, listed once; the blocking and the async client both inherit the list."""

    current_user = _Endpoint(endpoints.current_user)
    current_organization = _Endpoint(endpoints.current_organization)
    login_code = _Endpoint(endpoints.login_code)
    login_token = _Endpoint(endpoints.login_token)
    create_deployment = _Endpoint(endpoints.create_deployment)
    update_deployment = _Endpoint(endpoints.update_deployment)
    void_update_deployment = _Endpoint(endpoints.void_update_deployment)
    get_deployment = _Endpoint(endpoints.get_deployment)
    list_deployments_page = _Endpoint(endpoints.list_deployments_page)
    terminate_deployment = _Endpoint(endpoints.terminate_deployment)
    delete_deployment = _Endpoint(endpoints.delete_deployment)
    list_files, upload_files = _Endpoint(endpoints.list_files), _Endpoint(endpoints.upload_files)
    delete_files = _Endpoint(endpoints.delete_files)
    list_instance_types = _Endpoint(endpoints.list_instance_types)
    list_clusters = _Endpoint(endpoints.list_clusters)
    get_cluster = _Endpoint(endpoints.get_cluster)
    list_bentos = _Endpoint(endpoints.list_bentos)
    get_bento = _Endpoint(endpoints.get_bento)
    list_models = _Endpoint(endpoints.list_models)
    get_model = _Endpoint(endpoints.get_model)
    list_secrets, get_secret = _Endpoint(endpoints.list_secrets), _Endpoint(endpoints.get_secret)
    create_secret, update_secret = _Endpoint(endpoints.create_secret), _Endpoint(endpoints.update_secret)
    delete_secret = _Endpoint(endpoints.delete_secret)
    list_api_tokens, get_api_token = _Endpoint(endpoints.list_api_tokens), _Endpoint(endpoints.get_api_token)
    create_api_token, delete_api_token = _Endpoint(endpoints.create_api_token), _Endpoint(endpoints.delete_api_token)
    get_repository = _Endpoint(endpoints.get_repository)
    create_repository = _Endpoint(endpoints.create_repository)
    get_item = _Endpoint(endpoints.get_item)
    create_item = _Endpoint(endpoints.create_item)
    update_bento = _Endpoint(endpoints.update_bento)
    item_action = _Endpoint(endpoints.item_action)


# ------------------------------------------------------------------------------------------- the drivers


class BentoCloudClient(_Endpoints, _ClientBase):
    """Blocking client; one keep-alive connection pool per instance."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *,
                 transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(endpoint, token, **kwargs)
        self._http = httpx.Client(**self._http_kwargs(bounded_transport() if transport is None else transport))
        self._storage_http: httpx.Client | None = None

    def _http_client(self) -> httpx.Client:
        return self._http

    def send(self, call: Call[T]) -> T:
        """Send one call with retries where safe; the single path from request to value or error."""
        exchange = _Exchange(self, call)
        while True:
            try:
                request = exchange.request(self._http)
                return exchange.read(send_bounded(self._http, request, self.timeout, label=call.label,
                                                  endpoint=self.endpoint))
            except (httpx.HTTPError, BentoCloudError) as exc:
                time.sleep(exchange.wait_after(exc))

    def iter_deployments(self, cluster: str | None = None, all: bool | None = None, search: str | None = None,
                         q: str | None = None, page_size: int = 100) -> Iterator[Deployment]:
        """Every matching deployment, fetched page by page as you iterate."""
        pages = _Pages(cluster, all, search, q, page_size)
        while (call := pages.next_call()) is not None:
            yield from pages.take(self.send(call))

    def list_deployments(self, cluster: str | None = None, all: bool | None = None, search: str | None = None,
                         q: str | None = None) -> list[Deployment]:
        """Every matching deployment, as a list."""
        return list(self.iter_deployments(cluster, all, search, q))

    # ---------------------------------------------------------------- raw bytes (push / pull transfers)

    def upload(self, path: str, chunks: Iterable[bytes], size: int) -> None:
        """PUT a raw body to an API path (proxy upload, token attached). Never retried: the body is a stream.

        Raises:
            APIError, TransportError: as for any call.
        """
        call: Call[None] = Call("PUT", path, lambda _: None, what="the upload")
        self._send_raw(self._http, call, content=chunks, size=size)

    def storage_put(self, url: str, chunks: Iterable[bytes], size: int) -> str:
        """PUT bytes to a presigned storage URL (no token sent); returns the ``ETag`` header verbatim."""
        call: Call[None] = Call("PUT", _path_only(url), lambda _: None, what="the presigned upload")
        response = self._send_raw(self._storage(), call, content=chunks, size=size, url=url, storage=True)
        return str(response.headers.get("etag", ""))

    @contextlib.contextmanager
    def download(self, path_or_url: str, *, presigned: bool = False) -> Iterator[httpx.Response]:
        """Stream a download: an API path (token attached) or a presigned URL (no token)."""
        http = self._storage() if presigned else self._http
        call: Call[None] = Call("GET", _path_only(path_or_url), lambda _: None, what="the download")
        try:
            with http.stream("GET", path_or_url) as response:
                if response.status_code != 200:
                    response.read()
                    raise self._refused(call, response, storage=presigned)
                yield response
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None

    def _storage(self) -> httpx.Client:
        if self._storage_http is None:  # a separate pool: storage hosts never see our token
            self._storage_http = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False,
                                              headers={"User-Agent": USER_AGENT})
        return self._storage_http

    def _send_raw(self, http: httpx.Client, call: Call[None], *, content: Iterable[bytes], size: int,
                  url: str | None = None, storage: bool = False) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        try:
            request = http.build_request(call.method, url or call.path, content=content, headers=headers)
            response = http.send(request)
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None
        if response.status_code != 200:
            raise self._refused(call, response, storage=storage)
        return response

    def _refused(self, call: Call[None], response: httpx.Response, *, storage: bool) -> BentoCloudError:
        """A storage host's refusal is worded as one (no token went there); BentoCloud's as any answer."""
        if storage:
            return storage_error(call, response, self.endpoint)
        return response_error(call, response, self.endpoint, self.context_name)

    def close(self) -> None:
        self._http.close()
        if self._storage_http is not None:
            self._storage_http.close()

    def __enter__(self) -> BentoCloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncBentoCloudClient(_Endpoints, _ClientBase):
    """Asyncio client for the kernel's event loop (watchers); one connection pool per instance."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(endpoint, token, **kwargs)
        self._http = httpx.AsyncClient(**self._http_kwargs(transport))

    def _http_client(self) -> httpx.AsyncClient:
        return self._http

    async def send(self, call: Call[T]) -> T:
        """Send one call with retries where safe; the async twin of :meth:`BentoCloudClient.send`."""
        import asyncio  # only async callers pay for importing asyncio

        exchange = _Exchange(self, call)
        while True:
            try:
                request = exchange.request(self._http)
                return exchange.read(await asend_bounded(self._http, request, self.timeout, label=call.label,
                                                         endpoint=self.endpoint))
            except (httpx.HTTPError, BentoCloudError) as exc:
                await asyncio.sleep(exchange.wait_after(exc))

    async def iter_deployments(self, cluster: str | None = None, all: bool | None = None,
                               search: str | None = None, q: str | None = None,
                               page_size: int = 100) -> AsyncIterator[Deployment]:
        """Every matching deployment, fetched page by page as you iterate."""
        pages = _Pages(cluster, all, search, q, page_size)
        while (call := pages.next_call()) is not None:
            for item in pages.take(await self.send(call)):
                yield item

    async def list_deployments(self, cluster: str | None = None, all: bool | None = None,
                               search: str | None = None, q: str | None = None) -> list[Deployment]:
        """Every matching deployment, as a list."""
        return [d async for d in self.iter_deployments(cluster, all, search, q)]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncBentoCloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
