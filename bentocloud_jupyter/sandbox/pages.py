"""The sandbox's HTML pages: the browser-login approval page and the deployment dashboard link.

* ``GET /api_tokens?code=...`` and ``POST /api_tokens/approve``: the login code flow's page;
* ``GET /deployments/{name}`` (``/codespaces/{name}`` for dev deployments): the console link bentoml
  prints (``admin_console``, ``?cluster=&namespace=`` when the cluster is not the first): a small page with
  the deployment's status, cluster, bento and endpoint. Unauthenticated, as a browser opens it; every
  value is HTML-escaped; 404 page for an unknown deployment (or one in another cluster).
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs, quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bentocloud_jupyter.sandbox import shapes
from bentocloud_jupyter.sandbox.api import arg, ctx
from bentocloud_jupyter.sandbox.records import SandboxError, iso

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto">
<h1>{title}</h1>{body}</body></html>"""


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(PAGE.format(title=html.escape(title), body=body), status_code=status)


async def login_page(request: Request) -> Response:
    code = arg(request, "code") or ""
    try:
        ctx(request).store.login_code(code)
    except SandboxError as exc:
        return page("Unknown login code", f"<p>{html.escape(exc.message)}</p>", 404)
    safe = html.escape(code, quote=True)
    body = (f"<p>A program asks for an API token of the <b>sandbox</b> organization "
            f"(login code <code>{safe}</code>).</p>"
            f'<form method="post" action="/api_tokens/approve?code={html.escape(quote(code), quote=True)}">'
            f'<input type="hidden" name="code" value="{safe}">'
            f'<button type="submit" id="approve">Approve</button></form>')
    return page("Approve sandbox login", body)


async def login_approve(request: Request) -> Response:
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    code = (form.get("code") or [""])[0] or arg(request, "code")
    try:
        ctx(request).store.approve_login(code)
    except SandboxError as exc:
        return page("Unknown login code", f"<p>{html.escape(exc.message)}</p>", 404)
    return page("Login approved", "<p>Done: you can close this tab and go back to your notebook.</p>")


def _row(label: str, value: str) -> str:
    return f"<tr><th style=\"text-align: left; padding-right: 1em\">{html.escape(label)}</th><td>{value}</td></tr>"


async def dashboard(request: Request) -> Response:
    """What the console link shows: status, cluster, bento, endpoint, timestamps (no envs, no secrets)."""
    store = ctx(request).store
    name = request.path_params["name"]
    try:
        dep = store.get_deployment(name, arg(request, "cluster"))
    except SandboxError as exc:
        return page("Deployment not found", f"<p>{html.escape(exc.message)}</p>", 404)
    with store.lock:
        status, entered = store.status(dep)
        rev = dep.latest
        url = shapes.deployment_url(str(request.base_url), dep.name)
        protected = bool(rev.config.get("access_authorization"))
        rows = [_row("Status", f"<b id=\"status\">{html.escape(status)}</b> (since {html.escape(iso(entered) or '')})"),
                _row("Cluster", html.escape(dep.cluster)),
                _row("Bento", html.escape(f"{rev.bento_repo}:{rev.bento_version}")),
                _row("Endpoint", f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>'),
                _row("Access authorization", "on" if protected else "off"),
                _row("Created", html.escape(iso(dep.created_at) or ""))]
    body = (f"<p>Sandbox dashboard of deployment <code>{html.escape(dep.name)}</code>.</p>"
            f"<table>{''.join(rows)}</table>")
    return page(f"Deployment {dep.name}", body)


def page_routes() -> list[Route]:
    return [Route("/api_tokens", login_page, methods=["GET"]),
            Route("/api_tokens/approve", login_approve, methods=["POST"]),
            Route("/deployments/{name}", dashboard, methods=["GET"]),
            Route("/codespaces/{name}", dashboard, methods=["GET"])]
