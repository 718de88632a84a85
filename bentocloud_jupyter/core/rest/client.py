"""HTTP clients for the BentoCloud REST API: :class:`BentoCloudClient` and :class:`AsyncBentoCloudClient`.

Both bind the same endpoint builders (:mod:`.endpoints`) and send them through the same choke point
(:mod:`.http`), so each endpoint is written once and every failure maps to the same errors. Each
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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar
from urllib.parse import urlsplit

import httpx

from bentocloud_jupyter._version import __version__
from bentocloud_jupyter.core.credentials.config import Context, ResolvedContext, resolve_context
from bentocloud_jupyter.core.errors import BentoCloudError
from bentocloud_jupyter.core.rest import endpoints
from bentocloud_jupyter.core.rest.http import (
    Call,
    RetryPolicy,
    normalize_endpoint,
    parse_body,
    response_error,
    retry_delay,
    transport_error,
)
from bentocloud_jupyter.core.rest.models import Deployment
from bentocloud_jupyter.core.tokens import Token

__all__ = ["DEFAULT_TIMEOUT", "AsyncBentoCloudClient", "BentoCloudClient"]

DEFAULT_TIMEOUT = 60.0
P = ParamSpec("P")
T = TypeVar("T")
M = TypeVar("M", bound=Callable[..., Any])


def _path_only(url: str) -> str:
    """What messages may show of a URL: its path (a presigned URL's query is a credential)."""
    return urlsplit(url).path or url


class _ClientBase:
    """Settings shared by both clients; no I/O here."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *, context_name: str | None = None,
                 timeout: float = DEFAULT_TIMEOUT, retry: RetryPolicy | None = None,
                 insecure: bool = False) -> None:
        self.endpoint = normalize_endpoint(endpoint, allow_insecure=insecure)
        self.token = Token(token) if token is not None else None
        self.context_name = context_name
        self.timeout = timeout
        self.retry = retry or RetryPolicy()

    @classmethod
    def for_context(cls, name: str | None = None, **kwargs: Any) -> Any:
        """A client for the credentials that :func:`~.config.resolve_context` picks for ``name``."""
        return cls.from_context(resolve_context(name), **kwargs)

    @classmethod
    def from_context(cls, context: Context | ResolvedContext, **kwargs: Any) -> Any:
        ctx = context.context if isinstance(context, ResolvedContext) else context
        return cls(ctx.endpoint, ctx.api_token, context_name=ctx.name, **kwargs)

    def __repr__(self) -> str:
        context = f", context={self.context_name!r}" if self.context_name else ""
        return f"{type(self).__name__}({self.endpoint!r}{context})"

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": f"bentocloud-jupyter/{__version__} python-httpx/{httpx.__version__}",
                   "Accept": "application/json"}
        if self.token is not None:
            headers["X-YATAI-API-TOKEN"] = self.token.reveal()
        return headers

    def _request(self, http: httpx.Client | httpx.AsyncClient, call: Call[Any]) -> httpx.Request:
        request = http.build_request(call.method, call.path, params=call.params, json=call.json)
        if not call.authenticated:  # the login code flow sends no token, as bentoml does
            request.headers.pop("X-YATAI-API-TOKEN", None)
        return request

    def _outcome(self, call: Call[T], response: httpx.Response) -> T:
        if response.status_code == 200:
            return parse_body(call, response, self.endpoint)
        raise response_error(call, response, self.endpoint, self.context_name)

    def _http_kwargs(self, transport: Any) -> dict[str, Any]:
        return dict(base_url=self.endpoint, headers=self._headers(), timeout=self.timeout, transport=transport,
                    follow_redirects=False, trust_env=False)


class _Retrier:
    """The retry bookkeeping of one call: attempts made, time spent, and whether to try again."""

    def __init__(self, client: _ClientBase, call: Call[Any]) -> None:
        self.client, self.call = client, call
        self.started, self.waited, self.attempt = time.monotonic(), 0.0, 0

    def wait_after(self, exc: BaseException) -> float:
        """Seconds to wait before the next attempt; re-raises (as our error) when there is none."""
        self.attempt += 1
        error = transport_error(exc, self.call, self.client.endpoint, self.client.timeout) \
            if isinstance(exc, httpx.HTTPError) else exc
        assert isinstance(error, BentoCloudError)
        spent = max(time.monotonic() - self.started, self.waited)
        delay = retry_delay(self.client.retry, self.call, self.attempt, spent, error)
        if delay is None:
            raise error from None
        self.waited += delay
        return delay


def _bind_sync(op: Callable[P, Call[T]]) -> Callable[Concatenate[BentoCloudClient, P], T]:
    def method(self: BentoCloudClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return self.send(op(*args, **kwargs))
    return _describe(method, op)


def _bind_async(op: Callable[P, Call[T]]) -> Callable[Concatenate[AsyncBentoCloudClient, P], Awaitable[T]]:
    async def method(self: AsyncBentoCloudClient, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await self.send(op(*args, **kwargs))
    return _describe(method, op)


def _describe(method: M, op: Callable[..., Any]) -> M:
    """Give the bound method the endpoint's name, docstring and signature (for help() and completion)."""
    target: Any = method
    target.__name__ = target.__qualname__ = op.__name__
    target.__doc__ = op.__doc__
    signature = inspect.signature(op)
    self_param = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)
    target.__signature__ = signature.replace(parameters=[self_param, *signature.parameters.values()])
    return method


class BentoCloudClient(_ClientBase):
    """Blocking client; one keep-alive connection pool per instance."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *,
                 transport: httpx.BaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(endpoint, token, **kwargs)
        self._http = httpx.Client(**self._http_kwargs(transport))
        self._storage_http: httpx.Client | None = None

    def send(self, call: Call[T]) -> T:
        """Send one call with retries where safe; the single path from request to value or error."""
        retrier = _Retrier(self, call)
        while True:
            try:
                return self._outcome(call, self._http.send(self._request(self._http, call)))
            except (httpx.HTTPError, BentoCloudError) as exc:
                time.sleep(retrier.wait_after(exc))

    def iter_deployments(self, cluster: str | None = None, all: bool | None = None, search: str | None = None,
                         q: str | None = None, page_size: int = 100) -> Iterator[Deployment]:
        """Every matching deployment, fetched page by page as you iterate."""
        start = 0
        while True:
            page = self.list_deployments_page(cluster, all, search, q, start, page_size)
            yield from page.items
            start += len(page.items)
            if not page.items or start >= page.total:
                return

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
        response = self._send_raw(self._storage(), call, content=chunks, size=size, url=url)
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
                    raise response_error(call, response, self.endpoint, self.context_name)
                yield response
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None

    def _storage(self) -> httpx.Client:
        if self._storage_http is None:  # a separate pool: storage hosts never see our token
            self._storage_http = httpx.Client(timeout=self.timeout, follow_redirects=False, trust_env=False,
                                              headers={"User-Agent": self._headers()["User-Agent"]})
        return self._storage_http

    def _send_raw(self, http: httpx.Client, call: Call[None], *, content: Iterable[bytes], size: int,
                  url: str | None = None) -> httpx.Response:
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        try:
            request = http.build_request(call.method, url or call.path, content=content, headers=headers)
            response = http.send(request)
        except httpx.HTTPError as exc:
            raise transport_error(exc, call, self.endpoint, self.timeout) from None
        if response.status_code != 200:
            raise response_error(call, response, self.endpoint, self.context_name)
        return response

    def close(self) -> None:
        self._http.close()
        if self._storage_http is not None:
            self._storage_http.close()

    def __enter__(self) -> BentoCloudClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    current_user = _bind_sync(endpoints.current_user)
    current_organization = _bind_sync(endpoints.current_organization)
    login_code = _bind_sync(endpoints.login_code)
    login_token = _bind_sync(endpoints.login_token)
    create_deployment = _bind_sync(endpoints.create_deployment)
    update_deployment = _bind_sync(endpoints.update_deployment)
    void_update_deployment = _bind_sync(endpoints.void_update_deployment)
    get_deployment = _bind_sync(endpoints.get_deployment)
    list_deployments_page = _bind_sync(endpoints.list_deployments_page)
    terminate_deployment = _bind_sync(endpoints.terminate_deployment)
    delete_deployment = _bind_sync(endpoints.delete_deployment)
    list_instance_types = _bind_sync(endpoints.list_instance_types)
    list_clusters = _bind_sync(endpoints.list_clusters)
    get_cluster = _bind_sync(endpoints.get_cluster)
    list_bentos = _bind_sync(endpoints.list_bentos)
    get_bento = _bind_sync(endpoints.get_bento)
    list_models = _bind_sync(endpoints.list_models)
    get_model = _bind_sync(endpoints.get_model)
    list_secrets = _bind_sync(endpoints.list_secrets)
    get_secret = _bind_sync(endpoints.get_secret)
    list_api_tokens = _bind_sync(endpoints.list_api_tokens)
    get_repository = _bind_sync(endpoints.get_repository)
    create_repository = _bind_sync(endpoints.create_repository)
    get_item = _bind_sync(endpoints.get_item)
    create_item = _bind_sync(endpoints.create_item)
    update_bento = _bind_sync(endpoints.update_bento)
    item_action = _bind_sync(endpoints.item_action)


class AsyncBentoCloudClient(_ClientBase):
    """Asyncio client for the kernel's event loop (watchers); one connection pool per instance."""

    def __init__(self, endpoint: str, token: str | Token | None = None, *,
                 transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> None:
        super().__init__(endpoint, token, **kwargs)
        self._http = httpx.AsyncClient(**self._http_kwargs(transport))

    async def send(self, call: Call[T]) -> T:
        """Send one call with retries where safe; the async twin of :meth:`BentoCloudClient.send`."""
        import asyncio  # only async callers pay for importing asyncio

        retrier = _Retrier(self, call)
        while True:
            try:
                return self._outcome(call, await self._http.send(self._request(self._http, call)))
            except (httpx.HTTPError, BentoCloudError) as exc:
                await asyncio.sleep(retrier.wait_after(exc))

    async def iter_deployments(self, cluster: str | None = None, all: bool | None = None,
                               search: str | None = None, q: str | None = None,
                               page_size: int = 100) -> AsyncIterator[Deployment]:
        """Every matching deployment, fetched page by page as you iterate."""
        start = 0
        while True:
            page = await self.list_deployments_page(cluster, all, search, q, start, page_size)
            for item in page.items:
                yield item
            start += len(page.items)
            if not page.items or start >= page.total:
                return

    async def list_deployments(self, cluster: str | None = None, all: bool | None = None,
                               search: str | None = None, q: str | None = None) -> list[Deployment]:
        return [d async for d in self.iter_deployments(cluster, all, search, q)]

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncBentoCloudClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    current_user = _bind_async(endpoints.current_user)
    current_organization = _bind_async(endpoints.current_organization)
    login_code = _bind_async(endpoints.login_code)
    login_token = _bind_async(endpoints.login_token)
    create_deployment = _bind_async(endpoints.create_deployment)
    update_deployment = _bind_async(endpoints.update_deployment)
    void_update_deployment = _bind_async(endpoints.void_update_deployment)
    get_deployment = _bind_async(endpoints.get_deployment)
    list_deployments_page = _bind_async(endpoints.list_deployments_page)
    terminate_deployment = _bind_async(endpoints.terminate_deployment)
    delete_deployment = _bind_async(endpoints.delete_deployment)
    list_instance_types = _bind_async(endpoints.list_instance_types)
    list_clusters = _bind_async(endpoints.list_clusters)
    get_cluster = _bind_async(endpoints.get_cluster)
    list_bentos = _bind_async(endpoints.list_bentos)
    get_bento = _bind_async(endpoints.get_bento)
    list_models = _bind_async(endpoints.list_models)
    get_model = _bind_async(endpoints.get_model)
    list_secrets = _bind_async(endpoints.list_secrets)
    get_secret = _bind_async(endpoints.get_secret)
    list_api_tokens = _bind_async(endpoints.list_api_tokens)
