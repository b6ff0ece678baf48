"""The report's charts as inline SVG (no script, style sheet or font from anywhere): bars for
a ranking, a line per part across months for a trend."""

from __future__ import annotations

import html

import pandas as pd

TOP = 15  # bars per chart; the CSV holds every row
LINES = 5  # parts in the monthly trend: the most used
MONTH_LABELS = 7  # at most, under the trend's 500 px
_COLOURS = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280")


def bar_chart(name: str, values: pd.Series, unit: str, shares: bool = False) -> str:
    """Horizontal bars, the largest first; an empty series says so instead."""
    values = values.head(TOP)
    if values.empty:
        return _empty(name)
    width, bar, gap, label_width = 760, 18, 6, 300
    height = len(values) * (bar + gap) + 30
    top = float(values.max()) or 1.0
    rows = []
    for i, (label, value) in enumerate(values.items()):
        y = i * (bar + gap)
        length = max(1.0, (float(value) / top) * (width - label_width - 90))
        shown = f"{value:.1%}" if shares else f"{value:,.0f}"
        rows.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{html.escape(str(label))[:60]}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="#2b6cb0"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}">{shown}</text>'
        )
    return _svg(name, unit, width, height, "".join(rows) + _caption(label_width, height, unit))


def month_lines(name: str, frame: pd.DataFrame, unit: str) -> str:
    """A line per ``label`` across ``month`` (``value`` summed), for the ``LINES`` largest in
    all; months without a value are 0. ``frame``: columns month, label, value."""
    if frame.empty:
        return _empty(name)
    table = frame.pivot_table(index="month", columns="label", values="value", aggfunc="sum", fill_value=0)
    table = table[table.sum().sort_values(ascending=False).index[:LINES]].sort_index()
    width, height, left, right, top_margin, bottom = 760, 300, 70, 190, 10, 60
    plot_w, plot_h = width - left - right, height - top_margin - bottom
    peak = float(table.to_numpy().max()) or 1.0
    step = plot_w / max(1, len(table.index) - 1)

    def x(i: int) -> float:
        return left + i * step

    def y(v: float) -> float:
        return top_margin + plot_h * (1 - v / peak)

    parts = [f'<line x1="{left}" y1="{y(0):.1f}" x2="{left + plot_w}" y2="{y(0):.1f}" stroke="#999"/>']
    parts += [
        f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:,.0f}</text>' for v in (0.0, peak / 2, peak)
    ]
    every = -(-len(table.index) // MONTH_LABELS)  # labels that fit side by side
    parts += [
        f'<text x="{x(i):.1f}" y="{y(0) + 16:.1f}" text-anchor="middle">{html.escape(str(m))}</text>'
        for i, m in enumerate(table.index)
        if i % every == 0
    ]
    for n, label in enumerate(table.columns):
        colour = _COLOURS[n % len(_COLOURS)]
        points = " ".join(f"{x(i):.1f},{y(float(v)):.1f}" for i, v in enumerate(table[label]))
        parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>')
        parts.append(
            f'<rect x="{left + plot_w + 12}" y="{top_margin + n * 20}" width="12" height="12" fill="{colour}"/>'
            f'<text x="{left + plot_w + 30}" y="{top_margin + n * 20 + 11}">{html.escape(str(label))[:24]}</text>'
        )
    return _svg(name, unit, width, height, "".join(parts) + _caption(left, height, unit))


def _svg(name: str, unit: str, width: int, height: int, body: str) -> str:
    return (
        f'<svg data-chart="{name}" role="img" aria-label="{html.escape(unit)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
        f'font-family="sans-serif">{body}</svg>'
    )


def _caption(x: int, height: int, unit: str) -> str:
    return f'<text x="{x}" y="{height - 8}" fill="#555">{html.escape(unit)}</text>'


def _empty(name: str) -> str:
    return f'<p class="empty" data-chart="{name}">No data in this period.</p>'
