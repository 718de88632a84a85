"""Helpers for driving widgets headlessly: run a coroutine on a fresh loop, walk every trait of a widget tree."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Awaitable, Callable, Iterator
from html import unescape
from typing import Any, TypeVar

import ipywidgets as widgets

from bentocloud_jupyter.core import api
from bentocloud_jupyter.core.rest import session
from bentocloud_jupyter.core.rest.models import Deployment

T = TypeVar("T")


def run(main: Callable[[], Awaitable[T]], timeout: float = 20.0) -> T:
    """Run ``main()`` on a new event loop (as a kernel would), then stop every hub and async client on it."""

    async def wrapper() -> T:
        try:
            return await asyncio.wait_for(main(), timeout)
        finally:
            for hub in session.hubs():
                await hub.close()
            session.close_all()
            await asyncio.sleep(0.05)  # let the scheduled aclose() of the async clients finish

    return asyncio.run(wrapper())


async def until(predicate: Callable[[], bool], timeout: float = 5.0, step: float = 0.02) -> None:
    """Wait on the running loop until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(step)


def widget_tree(root: widgets.Widget) -> Iterator[widgets.Widget]:
    """Every widget reachable through traits (children, layout, style...), each once."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        widget = stack.pop()
        if id(widget) in seen:
            continue
        seen.add(id(widget))
        yield widget
        for name in widget.trait_names():
            value = getattr(widget, name, None)
            items = value if isinstance(value, (list, tuple)) else [value]
            stack += [item for item in items if isinstance(item, widgets.Widget)]


def assert_secret_absent(root: widgets.Widget, secret: str) -> None:
    """No trait of any widget in the tree, nor its synced state, contains ``secret``."""
    assert len(secret) >= 6
    for widget in widget_tree(root):
        for name in widget.trait_names():
            assert secret not in repr(getattr(widget, name, None)), f"{type(widget).__name__}.{name}"
        assert secret not in json.dumps(widget.get_state(), default=str)
    assert secret not in repr(root)


def href(html_text: str) -> str:
    match = re.search(r'href="([^"]+)"', html_text)
    assert match is not None, html_text
    return unescape(match.group(1))


def deploy(bento: str, name: str, **options: Any) -> Deployment:
    view = api.deploy(bento, name=name, **options)
    return view.deployment  # type: ignore[union-attr]


def wait_status(name: str, statuses: set[str], timeout: float = 10.0) -> Deployment:
    """Poll the blocking client (20 ms) until the deployment reaches one of ``statuses``."""
    client, _ = session.client_for()
    deadline = time.monotonic() + timeout
    while True:
        deployment = client.get_deployment(name)
        if deployment.status in statuses:
            return deployment
        assert time.monotonic() < deadline, f"{name} stuck in {deployment.status}"
        time.sleep(0.02)


def plain(html_text: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities decoded)."""
    return unescape(re.sub(r"<[^>]+>", "", html_text))
