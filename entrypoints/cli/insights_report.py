"""The insights report: one self-contained HTML file (charts as inline SVG: no script, style
sheet or font from anywhere) and a CSV file of each table behind a chart."""

from __future__ import annotations

import html
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from application.analytics.insights import TABLES, Insights
from domain.insight_queries import REPEAT_DAYS, REPEAT_KM
from entrypoints.cli.report_cells import readable
from entrypoints.cli.report_charts import bar_chart, month_lines
from entrypoints.cli.spreadsheet_cells import safe_for_spreadsheets

SHOWN_ROWS = 20  # table rows per section; the CSV holds every row
PER_MODEL = 3  # the most common services of each model


def _frequent(frame: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Which services each model gets most (model years together): the chart ranks model and
    service pairs, the table lists each model's top ``PER_MODEL``."""
    by_model = frame.groupby(["model", "service_name"])["services"].sum().reset_index()
    ranked = by_model.sort_values(["services", "model", "service_name"], ascending=[False, True, True])
    chart = pd.Series(ranked["services"].to_numpy(), index=ranked["model"] + " · " + ranked["service_name"])
    order = ["model", "services", "service_name"]
    top = by_model.sort_values(order, ascending=[True, False, True]).groupby("model").head(PER_MODEL)
    return chart, top


def _cost(frame: pd.DataFrame) -> pd.Series:
    labels = frame["dealer_name"].astype(str) + " (" + frame["city"].astype(str) + ")"
    return pd.Series(frame["mean_cost"].to_numpy(), index=labels).sort_values(ascending=False)


def _repeats(frame: pd.DataFrame) -> pd.Series:
    return frame.groupby("service_name").size().sort_values(ascending=False)


def _odometer(frame: pd.DataFrame) -> pd.Series:
    labels = frame["model"].astype(str) + " · " + frame["service_name"].astype(str)
    return pd.Series(frame["mean_odometer_km"].to_numpy(), index=labels).sort_values(ascending=False)


def _rejections(frame: pd.DataFrame) -> pd.Series:
    dealer = frame["dealer_name"].where(frame["dealer_name"] != "", frame["dealer_id"]).fillna("(no dealer id)")
    return pd.Series(frame["rate"].to_numpy(), index=dealer.astype(str) + " · " + frame["rule"].astype(str))


def with_dealer_names(rates: pd.DataFrame, costs: pd.DataFrame) -> pd.DataFrame:
    """The rejection rates with each dealer's name beside its id (from the cost table, which
    names every dealer with a valid row; a dealer with none has no name to show)."""
    names = dict(zip(costs["dealer_id"], costs["dealer_name"].fillna(""), strict=True))
    named = rates.assign(dealer_name=[names.get(d, "") if isinstance(d, str) else "" for d in rates["dealer_id"]])
    columns = list(rates.columns)
    return named[[columns[0], "dealer_name", *columns[1:]]]


def _section(name: str, frame: pd.DataFrame, unit: str) -> tuple[str, pd.DataFrame]:
    """A table's chart, and the rows shown under it."""
    if name == "frequent_services":
        ranked, shown = _frequent(frame)
        return bar_chart(name, ranked, unit), shown
    if name == "part_usage_by_month":
        trend = frame.rename(columns={"part_name": "label", "quantity": "value"})
        return month_lines(name, trend[["month", "label", "value"]], unit), frame
    chart = {"cost_by_dealer": _cost, "repeat_repairs": _repeats, "odometer_at_repair": _odometer}.get(name)
    if chart is not None:
        return bar_chart(name, chart(frame), unit), frame
    return bar_chart(name, _rejections(frame), unit, shares=True), frame


def _table_html(frame: pd.DataFrame, rows: int = SHOWN_ROWS) -> str:
    shown = readable(frame.head(rows))
    more = f"<p>{len(frame) - rows:,} more rows in the CSV.</p>" if len(frame) > rows else ""
    return shown.to_html(index=False, border=0, classes="data") + more


_STYLE = """
body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 0.5em 0 2em; }
table.data th, table.data td { padding: 2px 10px; border-bottom: 1px solid #ddd; text-align: left; }
table.data td { white-space: nowrap; } /* an id or a date never breaks across lines */
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
    tables = dict(found.tables)
    tables["rejection_rates"] = with_dealer_names(tables["rejection_rates"], tables["cost_by_dealer"])
    for name, (title, unit) in TABLES.items():
        frame = tables[name]
        # CRLF, as RFC 4180 has it: a cell holding a carriage return is then quoted too.
        safe_for_spreadsheets(frame).to_csv(out / f"{name}.csv", index=False, lineterminator="\r\n")
        chart, shown = _section(name, frame, unit)
        sections.append(
            f'<section id="{name}"><h2>{html.escape(title)}</h2>{chart}'
            f'<p><a href="{name}.csv">{name}.csv</a> ({len(frame):,} rows)</p>'
            f"{_table_html(shown, len(shown) if shown is not frame else SHOWN_ROWS)}</section>"
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
        ranked, _ = _frequent(services)
        model, service = str(ranked.index[0]).split(" · ", 1)
        lines.append(f"most frequent service: {service} on {model} ({int(ranked.iloc[0]):,})")
    repeats = found.tables["repeat_repairs"]
    window = f"{REPEAT_DAYS} days and {REPEAT_KM:,} km"
    lines.append(f"repeat repairs within {window}: {len(repeats):,}")
    rates = found.tables["rejection_rates"]
    if not rates.empty:
        worst = rates.iloc[0]
        named = with_dealer_names(rates.head(1), found.tables["cost_by_dealer"]).iloc[0]
        dealer = f"{named['dealer_name']} ({worst['dealer_id']})" if named["dealer_name"] else worst["dealer_id"]
        lines.append(f"highest rejection rate: {dealer} for {worst['rule']} ({worst['rate']:.1%})")
    return lines
