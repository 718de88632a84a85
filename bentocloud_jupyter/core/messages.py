"""One-line outcomes and verbatim text: the lightest results (no YAML, no client), safe to import at load."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bentocloud_jupyter.core.display import esc

__all__ = ["Message", "TextOutput", "safe_repr"]


def safe_repr(render: Any) -> Any:
    """Decorator: a repr must never raise (a broken repr hides the result and shows a traceback)."""
    def wrapper(self: Any) -> str:
        try:
            return str(render(self))
        except Exception as exc:  # pragma: no cover - defensive
            return f"<{type(self).__name__}: cannot display ({type(exc).__name__})>"
    wrapper.__name__ = render.__name__
    wrapper.__doc__ = render.__doc__
    return wrapper


@dataclass(frozen=True)
class Message:
    """A one-line outcome (e.g. "Context 'x' removed")."""

    text: str
    level: str = "info"

    @safe_repr
    def __repr__(self) -> str:
        return self.text

    @safe_repr
    def _repr_html_(self) -> str:
        colour = {"warning": "#9a6700", "error": "#cf222e"}.get(self.level, "inherit")
        return f'<div style="color:{colour}">{esc(self.text)}</div>'


@dataclass(frozen=True)
class TextOutput:
    """Machine-readable output (``-o json`` / ``-o yaml``): plain text, shown verbatim."""

    text: str
    format: str = "json"

    @safe_repr
    def __repr__(self) -> str:
        return self.text

    @safe_repr
    def _repr_html_(self) -> str:
        return f"<pre>{esc(self.text)}</pre>"

    def _repr_json_(self) -> Any:
        return json.loads(self.text) if self.format == "json" else None
