"""API token routes (``/api/v1/api_tokens``), shaped as bentoml's ``ApiTokenSchema`` expects.

* ``POST`` ``{name, description, scopes, expired_at}``: the only answer that carries ``token``; unknown
  scopes, a bad or past ``expired_at`` are 400. A naive ``expired_at`` is local time (bentoml's CLI
  sends ``--expires 30d`` that way), an ISO value with a zone is exact;
* ``GET`` (``?search=&start=&count=``, default page 100, newest first), ``GET/DELETE /{uid}``: no token value;
* an expired token answers 401 on every route; ``last_used_at`` moves on each authenticated call.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from bentocloud_jupyter.sandbox import catalog, scopes, shapes
from bentocloud_jupyter.sandbox.api import arg, authed, body_json
from bentocloud_jupyter.sandbox.records import SandboxError, TokenRecord, not_found, parse_local_time
from bentocloud_jupyter.sandbox.state import Store


def expiry(store: Store, value: object) -> float | None:
    """``expired_at`` of a create body -> epoch seconds (400 when unreadable or already past)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise SandboxError(400, "expired_at must be a timestamp string such as '2030-01-01 00:00:00'")
    try:
        when = parse_local_time(value)
    except ValueError:
        raise SandboxError(400, f"expired_at {value!r} is not a valid timestamp") from None
    if when is not None and when <= store.clock():
        raise SandboxError(400, f"expired_at {value!r} is in the past: give a future time")
    return when


def by_uid(store: Store, uid: str) -> TokenRecord:
    with store.lock:
        for rec in store.tokens.values():
            if rec.uid == uid:
                return rec
    raise not_found(f"api token {uid!r}")


async def list_tokens(request: Request, store: Store) -> Any:
    with store.lock:
        items = sorted(store.tokens.values(), key=lambda t: t.created_at, reverse=True)
    search = arg(request, "search")
    items = [t for t in items if not search or search.lower() in t.name.lower()]
    chunk, start, count = catalog.page(items, arg(request, "start"), arg(request, "count"), default=100)
    return shapes.list_envelope([shapes.api_token(store, t) for t in chunk], start, count, len(items))


async def create_token(request: Request, store: Store) -> Any:
    body = await body_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("name"), str) or not body["name"].strip():
        raise SandboxError(400, "token name is required")
    description = body.get("description")
    if description is not None and not isinstance(description, str):
        raise SandboxError(400, "description must be a string")
    wanted = scopes.check_requested(body.get("scopes"))
    rec = store.issue_token(body["name"], description or "", wanted, expiry(store, body.get("expired_at")))
    return shapes.api_token(store, rec, reveal=True)


async def get_token(request: Request, store: Store) -> Any:
    return shapes.api_token(store, by_uid(store, request.path_params["uid"]))


async def delete_token(request: Request, store: Store) -> Any:
    rec = by_uid(store, request.path_params["uid"])
    with store.lock:
        store.tokens.pop(rec.token, None)
    return shapes.api_token(store, rec)


def token_routes() -> list[Route]:
    base = "/api/v1/api_tokens"
    return [Route(base, authed(list_tokens), methods=["GET"]),
            Route(base, authed(create_token), methods=["POST"]),
            Route(base + "/{uid}", authed(get_token), methods=["GET"]),
            Route(base + "/{uid}", authed(delete_token), methods=["DELETE"])]
