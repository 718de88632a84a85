"""Every BentoCloud REST endpoint we use, each written once as a :class:`~.http.Call` builder.

The sync and async clients bind these functions as their methods, so paths, query parameters and
parsing live here only (secrets and API tokens in :mod:`.org_endpoints`, re-exported here). Query
values follow ``bentoml``: v2 calls always carry ``cluster`` (empty when not given); the server treats
empty values as absent.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote

from bentocloud_jupyter.core.codespaces.listing import RemoteFile, parse_listing
from bentocloud_jupyter.core.errors import NotFoundError, ProtocolError
from bentocloud_jupyter.core.rest.http import Call
from bentocloud_jupyter.core.rest.models import (
    Bento,
    Cluster,
    Deployment,
    InstanceType,
    Model,
    Organization,
    Page,
    User,
)
from bentocloud_jupyter.core.rest.org_endpoints import (  # secrets and API tokens: their own module
    create_api_token,
    create_secret,
    delete_api_token,
    delete_secret,
    get_api_token,
    get_secret,
    list_api_tokens,
    list_secrets,
    update_secret,
)

T = TypeVar("T")

MAX_PAGES = 100
"""The most pages one listing follows (10,000 deployments at 100 a page); a server claiming more is refused."""
MAX_COUNT = 10**9
"""Paging numbers above this are clamped (a hostile ``total`` must not turn into endless paging)."""

__all__ = [
    "MAX_COUNT",
    "MAX_PAGES",
    "Pager",
    "create_api_token",
    "create_deployment",
    "create_item",
    "create_repository",
    "create_secret",
    "current_organization",
    "current_user",
    "delete_api_token",
    "delete_deployment",
    "delete_files",
    "delete_secret",
    "get_api_token",
    "get_bento",
    "get_cluster",
    "get_deployment",
    "get_item",
    "get_model",
    "get_repository",
    "get_secret",
    "item_action",
    "item_path",
    "list_api_tokens",
    "list_bentos",
    "list_clusters",
    "list_deployments_page",
    "list_files",
    "list_instance_types",
    "list_models",
    "list_secrets",
    "login_code",
    "login_token",
    "page_of",
    "terminate_deployment",
    "update_bento",
    "update_deployment",
    "update_secret",
    "upload_files",
    "void_update_deployment",
]


def page_of(parse_item: Any) -> Any:
    """The parser of a list answer (``items``, paging numbers clamped) whose items ``parse_item`` reads."""
    return _page(parse_item)


def _seg(value: str) -> str:
    return quote(str(value), safe="")


def _page(parse_item: Any) -> Any:
    def parse(payload: Mapping[str, Any]) -> Page[Any]:
        items = [parse_item(item) for item in payload.get("items") or []]
        total = payload.get("total")
        return Page(items, _count(payload.get("start") or 0), _count(payload.get("count") or len(items)),
                    _count(total) if total is not None else len(items))
    return parse


def _count(value: Any) -> int:
    """A paging number, clamped into ``[0, MAX_COUNT]``; ``1e999``, NaN or text raise (a malformed answer)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("a paging number is not a number")
    return min(max(int(value), 0), MAX_COUNT)


class Pager:
    """Offset paging that always ends, as plain code (the clients and the watcher share it).

    It stops at the server's total, at an empty page and at a page that adds nothing new (a server that
    repeats itself), and refuses to follow more than ``max_pages`` pages (a server whose items never end).
    """

    def __init__(self, max_pages: int = MAX_PAGES) -> None:
        self.start, self.pages, self.done, self.max_pages = 0, 0, False, max_pages
        self._seen: set[Hashable] = set()

    def take(self, page: Page[T], key: Callable[[T], Hashable]) -> list[T]:
        """The items of ``page`` not seen before; sets :attr:`done` when there is nothing more to ask.

        Raises:
            ProtocolError: the server still claims more after ``max_pages`` pages.
        """
        self.pages += 1
        fresh = []
        for item in page.items:
            if (seen := key(item)) not in self._seen:
                self._seen.add(seen)
                fresh.append(item)
        self.start += len(page.items)
        self.done = not fresh or self.start >= page.total
        if not self.done and self.pages >= self.max_pages:
            self.done = True
            raise ProtocolError(f"BentoCloud kept sending more items after {self.pages} pages ({self.start} items; "
                                f"it claims {page.total}); stopped listing. Try again, or report it if it persists.")
        return fresh


def _cluster(cluster: str | None) -> dict[str, str]:
    return {"cluster": cluster or ""}


# --------------------------------------------------------------------------------- auth and organisation


def current_user() -> Call[User]:
    """The user the token belongs to."""
    return Call("GET", "/api/v1/auth/current", User.from_api, what="the current user")


def current_organization() -> Call[Organization]:
    """The organisation the token belongs to."""
    return Call("GET", "/api/v1/current_org", Organization.from_api, what="the current organization")


def login_code() -> Call[str]:
    """Start the browser code flow (unauthenticated): a code to approve at ``{endpoint}/api_tokens?code=``."""
    return Call("GET", "/api/v1/auth/code", lambda body: str(body["code"]), authenticated=False)


def login_token(code: str) -> Call[str]:
    """Poll the browser code flow: the new token once approved; a 4xx answer while still pending."""
    return Call("GET", "/api/v1/auth/token", lambda body: str(body["token"]), params={"code": code},
                what="the approved token", authenticated=False)


# ------------------------------------------------------------------------------------------ deployments


def create_deployment(body: Mapping[str, Any], cluster: str | None = None) -> Call[Deployment]:
    """Create a deployment from a complete v2 body (see :mod:`.options`)."""
    return Call("POST", "/api/v2/deployments", Deployment.from_api, params=_cluster(cluster), json=dict(body),
                what=f"the bento {body.get('bento')!r}")


def update_deployment(name: str, body: Mapping[str, Any], cluster: str | None = None) -> Call[Deployment]:
    """Replace a deployment's configuration; this starts a new revision."""
    return Call("PUT", f"/api/v2/deployments/{_seg(name)}", Deployment.from_api, params=_cluster(cluster),
                json=dict(body), what=f"deployment {name!r}")


def void_update_deployment(name: str, cluster: str | None = None) -> Call[Deployment]:
    """Roll the current configuration out again as a new revision (also restarts a terminated one)."""
    return Call("PUT", f"/api/v2/deployments/{_seg(name)}/void_update", Deployment.from_api,
                params=_cluster(cluster), what=f"deployment {name!r}")


def get_deployment(name: str, cluster: str | None = None) -> Call[Deployment]:
    """One deployment with its latest revision and URLs."""
    return Call("GET", f"/api/v2/deployments/{_seg(name)}", Deployment.from_api, params=_cluster(cluster),
                what=f"deployment {name!r}")


def list_deployments_page(cluster: str | None = None, all: bool | None = None, search: str | None = None,
                          q: str | None = None, start: int = 0, count: int = 100) -> Call[Page[Deployment]]:
    """One page of deployments; ``all`` lists every cluster (the default when no cluster is given)."""
    everywhere = (cluster is None) if all is None else all
    params = {"cluster": cluster or "", "all": "true" if everywhere else "", "search": search or "",
              "q": q or "", "start": str(start), "count": str(count)}
    return Call("GET", "/api/v2/deployments", _page(Deployment.from_api), params=params, what="deployments")


def terminate_deployment(name: str, cluster: str | None = None) -> Call[Deployment]:
    """Stop a deployment's replicas; it can be restarted by an update."""
    return Call("POST", f"/api/v2/deployments/{_seg(name)}/terminate", Deployment.from_api,
                params=_cluster(cluster), what=f"deployment {name!r}")


def delete_deployment(name: str, cluster: str | None = None) -> Call[Deployment]:
    """Delete a deployment for good."""
    return Call("DELETE", f"/api/v2/deployments/{_seg(name)}", Deployment.from_api, params=_cluster(cluster),
                what=f"deployment {name!r}")


# ------------------------------------------------------------------------- a codespace's files (dev: true)


def list_files(name: str, cluster: str | None = None) -> Call[list[RemoteFile]]:
    """The files in a codespace, with sizes and md5s (checked: no path leaves the project)."""
    return Call("GET", f"/api/v2/deployments/{_seg(name)}/files", parse_listing, params=_cluster(cluster),
                what=f"the files of codespace {name!r}")


def upload_files(name: str, files: Sequence[Mapping[str, str]], cluster: str | None = None) -> Call[None]:
    """Write files into a codespace: ``[{"path", "b64_encoded_content"}]`` (one bounded batch)."""
    return Call("POST", f"/api/v2/deployments/{_seg(name)}/files", lambda _: None, params=_cluster(cluster),
                json={"files": [dict(f) for f in files]}, what=f"the files of codespace {name!r}")


def delete_files(name: str, paths: Sequence[str], cluster: str | None = None) -> Call[None]:
    """Delete files from a codespace by project-relative path."""
    return Call("DELETE", f"/api/v2/deployments/{_seg(name)}/files", lambda _: None, params=_cluster(cluster),
                json={"paths": list(paths)}, what=f"the files of codespace {name!r}")


# ---------------------------------------------------------------------------------- clusters, instances


def list_instance_types(cluster: str | None = None) -> Call[list[InstanceType]]:
    """Instance types available in a cluster (the API returns a bare list)."""
    return Call("GET", "/api/v1/instance_types", lambda body: [InstanceType.from_api(i) for i in body],
                params=_cluster(cluster), what="instance types")


def list_clusters() -> Call[list[Cluster]]:
    """Clusters of the organisation."""
    return Call("GET", "/api/v1/clusters", lambda body: _page(Cluster.from_api)(body).items,
                params={"start": "0", "count": "100"}, what="clusters")


def get_cluster(name: str) -> Call[Cluster]:
    return Call("GET", f"/api/v1/clusters/{_seg(name)}", Cluster.from_api, what=f"cluster {name!r}")


# ------------------------------------------------------------------------------------- bentos and models


def list_bentos() -> Call[list[Bento]]:
    """Every bento of the organisation, newest first."""
    return Call("GET", "/api/v1/bentos", lambda body: _newest_first(_page(Bento.from_api)(body).items),
                what="bentos")


def get_bento(name: str, version: str | None = None) -> Call[Bento]:
    """One bento; without a version (or ``latest``) the newest one of that name."""
    return _versioned("bento", name, version, Bento.from_api)


def list_models() -> Call[list[Model]]:
    """Every model of the organisation, newest first."""
    return Call("GET", "/api/v1/models", lambda body: _newest_first(_page(Model.from_api)(body).items),
                what="models")


def get_model(name: str, version: str | None = None) -> Call[Model]:
    """One model; without a version (or ``latest``) the newest one of that name."""
    return _versioned("model", name, version, Model.from_api)


def _versioned(kind: str, name: str, version: str | None, parse: Callable[..., T]) -> Call[T]:
    """``kind`` ``name:version``, or the newest of ``name`` (the list is newest first, as bentoml assumes)."""
    base = f"/api/v1/{kind}_repositories/{_seg(name)}/{kind}s"
    if version and version != "latest":
        return Call("GET", f"{base}/{_seg(version)}", lambda body: parse(body, repository=name),
                    what=f"{kind} {name}:{version}")
    return Call("GET", base, lambda body: _first(body, lambda item: parse(item, repository=name), f"{kind} {name!r}"),
                params={"start": "0", "count": "1"}, what=f"{kind} {name!r}")


def _first(body: Mapping[str, Any], parse: Any, what: str) -> Any:
    items = body.get("items") or []
    if not items:
        raise NotFoundError(f"{what[:1].upper() + what[1:]} has no versions on BentoCloud.", status=404)
    return parse(items[0])


def _newest_first(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda item: item.created_at.timestamp() if item.created_at else 0.0, reverse=True)


# ------------------------------------------------------------------------------------- push and pull
# ``kind`` is "bento" or "model": both families share their paths and actions (as in bentoml's
# ``src/bentoml/_internal/cloud/client.py``).


def _raw(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise TypeError("expected an object")
    return body


def _repos(kind: str) -> str:
    return f"/api/v1/{kind}_repositories"


def get_repository(kind: str, name: str) -> Call[dict[str, Any]]:
    """A bento or model repository (raw JSON)."""
    return Call("GET", f"{_repos(kind)}/{_seg(name)}", _raw, what=f"{kind} repository {name!r}")


def create_repository(kind: str, name: str) -> Call[dict[str, Any]]:
    return Call("POST", _repos(kind), _raw, json={"name": name, "description": ""}, what=f"{kind} repository")


def get_item(kind: str, name: str, version: str) -> Call[dict[str, Any]]:
    """One bento or model version (raw JSON, with its upload fields)."""
    return Call("GET", f"{_repos(kind)}/{_seg(name)}/{kind}s/{_seg(version)}", _raw, what=f"{kind} {name}:{version}")


def create_item(kind: str, name: str, body: Mapping[str, Any]) -> Call[dict[str, Any]]:
    return Call("POST", f"{_repos(kind)}/{_seg(name)}/{kind}s", _raw, json=dict(body), what=f"{kind} {name}")


def update_bento(name: str, version: str, body: Mapping[str, Any]) -> Call[dict[str, Any]]:
    return Call("PATCH", f"{_repos('bento')}/{_seg(name)}/bentos/{_seg(version)}", _raw, json=dict(body),
                what=f"bento {name}:{version}")


def item_action(kind: str, name: str, version: str, action: str,
                body: Mapping[str, Any] | None = None) -> Call[dict[str, Any]]:
    """``PATCH .../<version>/<action>`` (presign, start/finish upload, multipart steps)."""
    return Call("PATCH", f"{_repos(kind)}/{_seg(name)}/{kind}s/{_seg(version)}/{action}", _raw,
                json=dict(body) if body is not None else None, what=f"{kind} {name}:{version}")


def item_path(kind: str, name: str, version: str, action: str) -> str:
    """The path of the raw upload/download endpoints (``upload``, ``download``)."""
    return f"{_repos(kind)}/{_seg(name)}/{kind}s/{_seg(version)}/{action}"
