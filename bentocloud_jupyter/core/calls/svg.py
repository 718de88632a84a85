"""Two tiny inline SVG charts (a histogram, points over time) so a bench report needs no plotting library.

Why hand-written: matplotlib is heavy and optional; these are a few rectangles and circles, every label escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from bentocloud_jupyter.core.display import esc

__all__ = ["histogram", "over_time"]

W, H, PAD = 360, 140, 28
BAR = "#4c72b0"
BAD = "#cf222e"


def _frame(title: str, body: str, x_label: str, y_label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
            f'role="img" aria-label="{esc(title)}" style="font:10px sans-serif">'
            f'<text x="{W / 2}" y="11" text-anchor="middle">{esc(title)}</text>'
            f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - 6}" y2="{H - PAD}" stroke="#888"/>'
            f'<line x1="{PAD}" y1="16" x2="{PAD}" y2="{H - PAD}" stroke="#888"/>{body}'
            f'<text x="{W / 2}" y="{H - 8}" text-anchor="middle">{esc(x_label)}</text>'
            f'<text x="10" y="{H / 2}" transform="rotate(-90 10 {H / 2})" text-anchor="middle">{esc(y_label)}</text>'
            "</svg>")


def histogram(values: Sequence[float], bins: int = 20, title: str = "latency histogram") -> str:
    """Counts of ``values`` (ms) in ``bins`` equal bins from 0 to the max, as bars."""
    if not values:
        return _frame(title, "", "no data", "calls")
    top = max(values) or 1.0
    counts = [0] * bins
    for v in values:
        counts[min(int(v / top * bins), bins - 1)] += 1
    most = max(counts) or 1
    width = (W - PAD - 8) / bins
    bars = "".join(
        f'<rect x="{PAD + 1 + i * width:.1f}" y="{H - PAD - c / most * (H - PAD - 18):.1f}" width="{width - 1:.1f}" '
        f'height="{c / most * (H - PAD - 18):.1f}" fill="{BAR}"><title>{c} calls</title></rect>'
        for i, c in enumerate(counts) if c)
    ticks = f'<text x="{W - 6}" y="{H - PAD + 10}" text-anchor="end">{top:.0f} ms</text>'
    ticks += f'<text x="{PAD - 2}" y="20" text-anchor="end">{most}</text>'
    return _frame(title, bars + ticks, "latency (ms)", "calls")


def over_time(points: Sequence[tuple[float, float, bool]], title: str = "latency over time") -> str:
    """``(seconds since start, latency ms, ok)`` as dots; failures in red."""
    if not points:
        return _frame(title, "", "no data", "ms")
    end = max(t for t, _, _ in points) or 1.0
    top = max(ms for _, ms, _ in points) or 1.0
    step = max(1, len(points) // 2000)  # at most ~2000 dots
    dots = "".join(
        f'<circle cx="{PAD + 2 + t / end * (W - PAD - 10):.1f}" cy="{H - PAD - ms / top * (H - PAD - 18):.1f}" '
        f'r="1.5" fill="{BAR if ok else BAD}"/>' for t, ms, ok in points[::step])
    ticks = (f'<text x="{W - 6}" y="{H - PAD + 10}" text-anchor="end">{end:.1f} s</text>'
             f'<text x="{PAD - 2}" y="20" text-anchor="end">{top:.0f}</text>')
    return _frame(title, dots + ticks, "time since start (s)", "ms")
