"""HTML and plain-text building blocks for rich display, with no Jupyter imports.

Every value that may come from a server goes through :func:`esc`; links are made only for http(s)
URLs (:func:`link`), so a deployment URL like ``javascript:...`` renders as inert text. Widgets reuse
these same fragments.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

__all__ = ["STATUS_COLOURS", "badge", "esc", "format_duration", "format_time", "html_table", "link", "text_table"]

STATUS_COLOURS = {
    "running": "#1a7f37", "scaled-to-zero": "#1a7f37",
    "deploying": "#0969da", "image-building": "#0969da", "image-build-succeeded": "#0969da",
    "unknown": "#6e7781", "non-deployed": "#6e7781",
    "terminating": "#9a6700", "terminated": "#6e7781",
    "failed": "#cf222e", "image-build-failed": "#cf222e", "unhealthy": "#cf222e",
}


def esc(value: Any) -> str:
    """HTML-escape anything (None becomes an empty string)."""
    return html.escape("" if value is None else str(value), quote=True)


def is_web_url(url: Any) -> bool:
    try:
        parts = urlsplit(str(url or ""))
    except ValueError:  # e.g. "http://[::1" from a hostile server: shown as text, never a link
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def link(url: Any, text: Any = None) -> str:
    """An ``<a>`` for http(s) URLs only; anything else is shown as escaped text."""
    label = esc(text if text is not None else url)
    if not is_web_url(url):
        return label
    return (f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer" '
            f'style="color:#0969da;text-decoration:underline">{label}</a>')


def badge(status: Any) -> str:
    """A coloured status pill; unknown statuses are grey."""
    colour = STATUS_COLOURS.get(str(status), "#6e7781")
    return (f'<span class="bcj-badge" style="background:{colour};color:#fff;border-radius:8px;'
            f'padding:1px 8px;font-size:0.85em;white-space:nowrap">{esc(status)}</span>')


def html_table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, raw_columns: Iterable[int] = ()) -> str:
    """A compact table; cells are escaped unless their column index is in ``raw_columns`` (pre-built HTML)."""
    trusted = set(raw_columns)
    head = "".join(f'<th style="text-align:left">{esc(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td style="text-align:left">{cell if i in trusted else esc(cell)}</td>'
                         for i, cell in enumerate(row)) + "</tr>"
        for row in rows)
    return f'<table class="bcj-table"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def text_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A plain-text table aligned in columns, for terminals and text/plain."""
    grid = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in grid) for i in range(len(headers))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in grid]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_time(value: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM:SS`` in UTC, as bentoml prints deployment times; "" for nothing or a time past UTC's range.

    Never raises: a server's year 1 or 9999 with an offset does not fit in UTC (``OverflowError``).
    """
    if not isinstance(value, datetime):
        return ""
    try:
        utc = value.astimezone(timezone.utc)
    except (OverflowError, ValueError):
        return ""
    return (f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d} "  # strftime writes year 1 as "1" on glibc
            f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}")


def format_duration(seconds: float) -> str:
    """``42s``, ``3m05s``, ``1h02m``; "" for NaN or infinity (never raises)."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds):
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
