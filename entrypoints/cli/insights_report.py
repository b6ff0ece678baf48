"""The insights report: one self-contained HTML file (charts as inline SVG: no script, style
sheet or font from anywhere) and a CSV file of each table behind a chart."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from application.analytics.insights import TABLES, Insights
from domain.insight_queries import REPEAT_DAYS, REPEAT_KM
from entrypoints.cli.spreadsheet_cells import safe_for_spreadsheets

TOP = 15  # bars per chart; the CSV holds every row
SHARES = {"rejection_rates"}  # charts whose values are shares of 1, shown as percentages
SHOWN_ROWS = 50  # table rows per section; the CSV holds every row


def _frequent(frame: pd.DataFrame) -> pd.Series:
    labels = frame["model"].astype(str) + " " + frame["year"].astype(str) + " · " + frame["service_name"].astype(str)
    return pd.Series(frame["services"].to_numpy(), index=labels)


def _parts(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("part_name")["quantity"].sum().sort_values(ascending=False)


def _cost(frame: pd.DataFrame) -> pd.Series:
    labels = frame["dealer_name"].astype(str) + " (" + frame["city"].astype(str) + ")"
    return pd.Series(frame["mean_cost"].to_numpy(), index=labels).sort_values(ascending=False)


def _repeats(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("service_name").size().sort_values(ascending=False)


def _odometer(frame: pd.DataFrame) -> pd.Series:
    labels = frame["model"].astype(str) + " · " + frame["service_name"].astype(str)
    return pd.Series(frame["mean_odometer_km"].to_numpy(), index=labels).sort_values(ascending=False)


def _rejections(frame: pd.DataFrame) -> pd.Series:
    labels = frame["dealer_id"].fillna("(no dealer id)").astype(str) + " · " + frame["rule"].astype(str)
    return pd.Series(frame["rate"].to_numpy(), index=labels)


CHARTS: dict[str, Callable[[pd.DataFrame], pd.Series]] = {
    "frequent_services": _frequent,
    "part_usage_by_month": _parts,
    "cost_by_dealer": _cost,
    "repeat_repairs": _repeats,
    "odometer_at_repair": _odometer,
    "rejection_rates": _rejections,
}


def bar_chart(name: str, values: pd.Series, unit: str) -> str:
    """Horizontal bars as inline SVG, the largest first; an empty series says so instead."""
    values = values.head(TOP)
    if values.empty:
        return f'<p class="empty" data-chart="{name}">No data in this period.</p>'
    width, bar, gap, label_width = 760, 18, 6, 300
    height = len(values) * (bar + gap) + 30
    top = float(values.max()) or 1.0
    rows = []
    for i, (label, value) in enumerate(values.items()):
        y = i * (bar + gap)
        length = max(1.0, (float(value) / top) * (width - label_width - 90))
        shown = f"{value:.1%}" if name in SHARES else f"{value:,.0f}"
        rows.append(
            f'<text x="{label_width - 6}" y="{y + 13}" text-anchor="end">{html.escape(str(label))[:60]}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar}" fill="#2b6cb0"/>'
            f'<text x="{label_width + length + 4:.1f}" y="{y + 13}">{shown}</text>'
        )
    return (
        f'<svg data-chart="{name}" role="img" aria-label="{html.escape(unit)}" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-size="12" '
        f'font-family="sans-serif">{"".join(rows)}'
        f'<text x="{label_width}" y="{height - 8}" fill="#555">{html.escape(unit)}</text></svg>'
    )


def _table_html(frame: pd.DataFrame) -> str:
    shown = frame.head(SHOWN_ROWS)
    more = f"<p>{len(frame) - SHOWN_ROWS:,} more rows in the CSV.</p>" if len(frame) > SHOWN_ROWS else ""
    return shown.to_html(index=False, na_rep="", border=0, classes="data") + more


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 2em; }
table.data th, table.data td { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
.empty { color: #777; }
"""


def write_report(found: Insights, out: Path) -> Path:
    """Write ``insights.html`` and a CSV per table into ``out``; returns the HTML's path."""
    out.mkdir(parents=True, exist_ok=True)
    if found.since or found.until:
        period = f"serviced {found.since or 'any day'} to {found.until or 'any day'}"
    else:
        period = "every service date"
    sections = []
    for name, (title, unit) in TABLES.items():
        frame = found.tables[name]
        # CRLF, as RFC 4180 has it: a cell holding a carriage return is then quoted too.
        safe_for_spreadsheets(frame).to_csv(out / f"{name}.csv", index=False, lineterminator="\r\n")
        sections.append(
            f'<section id="{name}"><h2>{html.escape(title)}</h2>{bar_chart(name, CHARTS[name](frame), unit)}'
            f'<p><a href="{name}.csv">{name}.csv</a> ({len(frame):,} rows)</p>{_table_html(frame)}</section>'
        )
    made = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>servicepipe insights</title>'
        f"<style>{_STYLE}</style></head><body><h1>Service insights</h1>"
        f"<p>{found.records:,} service records (latest versions), {html.escape(period)}; made {made}.</p>"
        f"{''.join(sections)}</body></html>"
    )
    path = out / "insights.html"
    path.write_text(page, encoding="utf-8")
    return path


def summary_lines(found: Insights) -> list[str]:
    """A few lines for the terminal."""
    lines = [f"{found.records:,} service records analysed"]
    services = found.tables["frequent_services"]
    if not services.empty:
        first = services.iloc[0]
        vehicle = f"{first['model']} {first['year']}"
        lines.append(f"most frequent service: {first['service_name']} on {vehicle} ({first['services']:,})")
    repeats = found.tables["repeat_repairs"]
    window = f"{REPEAT_DAYS} days and {REPEAT_KM:,} km"
    lines.append(f"repeat repairs within {window}: {len(repeats):,}")
    rates = found.tables["rejection_rates"]
    if not rates.empty:
        worst = rates.iloc[0]
        lines.append(f"highest rejection rate: {worst['dealer_id']} for {worst['rule']} ({worst['rate']:.1%})")
    return lines
