"""The organisation-secret and API-token endpoints, as :class:`~.http.Call` builders (bound by both clients).

Paths and queries follow ``bentoml`` 1.4.40 (``RestApiClientV1``): secrets are ``/api/v1/org_secrets``,
narrowed to a cluster with ``?cluster=`` (create, get, update, delete); tokens ``/api/v1/api_tokens``
by uid. A secret's values exist only in the request body built here, from :class:`~..tokens.Token`
values revealed at the last moment; no answer is expected to carry them and none is kept.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bentocloud_jupyter.core.rest.http import Call
from bentocloud_jupyter.core.rest.models import Page
from bentocloud_jupyter.core.rest.org_models import ApiTokenDetails, NewApiToken, SecretDetails
from bentocloud_jupyter.core.tokens import Token

__all__ = ["api_token_body", "create_api_token", "create_secret", "delete_api_token", "delete_secret", "get_api_token",
           "get_secret", "list_api_tokens", "list_secrets", "secret_content", "update_secret"]

SecretItems = Iterable[tuple[str, "str | Token", "str | None"]]
"""``(key, value, sub_path)`` triples."""


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _cluster(cluster: str | None) -> dict[str, str] | None:
    return {"cluster": cluster} if cluster else None


def _page(parse_item: Any) -> Any:
    from bentocloud_jupyter.core.rest.endpoints import page_of

    return page_of(parse_item)


def _nothing(body: Any) -> None:
    return None


def list_secrets(search: str | None = None, start: int = 0, count: int = 100,
                 cluster: str | None = None) -> Call[Page[SecretDetails]]:
    """One page of organisation secrets (names and keys; values are never sent back)."""
    params = {"start": str(start), "count": str(count), "search": search or "", "q": "", "all": "true",
              **(_cluster(cluster) or {})}
    return Call("GET", "/api/v1/org_secrets", _page(SecretDetails.from_api), params=params, what="secrets")


def get_secret(name: str, cluster: str | None = None) -> Call[SecretDetails]:
    """One secret; with ``cluster`` only if it lives there (404 otherwise)."""
    return Call("GET", f"/api/v1/org_secrets/{_seg(name)}", SecretDetails.from_api, params=_cluster(cluster),
                what=f"secret {name!r}")


def secret_content(type: str, items: SecretItems, stage: str | None, path: str | None) -> dict[str, Any]:
    """``content`` of a create/update body (``SecretContentSchema``), values revealed only here."""
    rows = [{"key": key, "value": value.reveal() if isinstance(value, Token) else value, "sub_path": sub_path}
            for key, value, sub_path in items]
    return {"type": type, "path": path, "stage": stage, "items": rows}


def create_secret(name: str, body: Mapping[str, Any], cluster: str | None = None) -> Call[SecretDetails]:
    """Create a secret (a name is unique in the organisation): ``body`` holds ``content`` (from
    :func:`secret_content`) and ``description``."""
    return Call("POST", "/api/v1/org_secrets", SecretDetails.from_api, params=_cluster(cluster),
                json={**dict(body), "name": name}, what=f"secret {name!r}")


def update_secret(name: str, body: Mapping[str, Any], cluster: str | None = None) -> Call[SecretDetails]:
    """Replace a secret's content as a whole (what ``bentoml secret apply`` sends): ``content``, ``description``."""
    return Call("PATCH", f"/api/v1/org_secrets/{_seg(name)}", SecretDetails.from_api, params=_cluster(cluster),
                json=dict(body), what=f"secret {name!r}")


def delete_secret(name: str, cluster: str | None = None) -> Call[None]:
    """Delete a secret (the answer's body is not read: BentoCloud may send none)."""
    return Call("DELETE", f"/api/v1/org_secrets/{_seg(name)}", _nothing, params=_cluster(cluster),
                what=f"secret {name!r}")


def list_api_tokens(search: str | None = None, start: int = 0, count: int = 100) -> Call[Page[ApiTokenDetails]]:
    """One page of the organisation's API tokens (metadata only)."""
    params = {"start": str(start), "count": str(count), **({"search": search} if search else {})}
    return Call("GET", "/api/v1/api_tokens", _page(ApiTokenDetails.from_api), params=params, what="API tokens")


def api_token_body(name: str, description: str | None = None, scopes: Iterable[str] | None = None,
                   expired_at: datetime | None = None) -> dict[str, Any]:
    """The body of :func:`create_api_token` (``CreateApiTokenSchema``); ``expired_at`` must carry a time zone."""
    if expired_at is not None and expired_at.tzinfo is None:
        raise ValueError("expired_at needs a time zone")
    return {"name": name, "description": description, "scopes": list(scopes) if scopes is not None else None,
            "expired_at": expired_at.isoformat() if expired_at is not None else None}


def create_api_token(body: Mapping[str, Any]) -> Call[NewApiToken]:
    """Create a token from :func:`api_token_body`; the answer is the only one that carries the token."""
    return Call("POST", "/api/v1/api_tokens", NewApiToken.from_api, json=dict(body),
                what=f"API token {body.get('name')!r}")


def get_api_token(name: str) -> Call[ApiTokenDetails]:
    """One token's metadata; ``name`` is its uid (the path segment bentoml's ``api-token get`` takes)."""
    return Call("GET", f"/api/v1/api_tokens/{_seg(name)}", ApiTokenDetails.from_api, what=f"API token {name!r}")


def delete_api_token(name: str) -> Call[None]:
    """Revoke a token; ``name`` is its uid (the answer's body is not read)."""
    return Call("DELETE", f"/api/v1/api_tokens/{_seg(name)}", _nothing, what=f"API token {name!r}")
