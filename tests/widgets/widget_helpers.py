"""Helpers for looking into widgets headlessly: walk every trait of a widget tree, read links and text.

Running coroutines and waiting for statuses live in tests/support.py."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape

import ipywidgets as widgets


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


def plain(html_text: str) -> str:
    """The visible text of an HTML fragment (tags dropped, entities decoded)."""
    return unescape(re.sub(r"<[^>]+>", "", html_text))
