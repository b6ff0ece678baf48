"""The insights report as people read it: cells, the top services of each model, dealer names
beside ids, part usage as a trend by month."""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from application.analytics.insights import TABLES, Insights
from entrypoints.cli.insights_report import PER_MODEL, _frequent, summary_lines, with_dealer_names, write_report
from entrypoints.cli.report_cells import cell, readable
from entrypoints.cli.report_charts import LINES, MONTH_LABELS, month_lines


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("services", 999, "999"),
        ("services", 1_000, "1,000"),  # the first with a separator
        ("services", np.int64(1_234_567), "1,234,567"),
        ("mean_odometer_km", 1e21, "1,000,000,000,000,000,000,000"),  # never 1e+21
        ("days_apart", 19.0, "19"),
        ("days_apart", 2.5, "2.5"),
        ("km_apart", -1_500, "-1,500"),
        ("rate", 0.25, "25.0%"),
        ("rate", 0.0364, "3.6%"),
        ("mean_cost", 1.5e7, "15,000,000"),
        ("total_cost", Decimal("1234.49"), "1,234"),  # the last rounded down
        ("total_cost", Decimal("1234.50"), "1,235"),  # the first rounded up (not to even)
        ("median_cost", 650_000.5, "650,001"),
        ("dealer_id", "DLR-JKT-001", "DLR-JKT-001"),
        ("dealer_id", None, ""),
        ("mean_cost", float("nan"), ""),
        ("cost_mismatch", True, "True"),
    ],
)
def test_a_cell_reads_as_a_person_writes_it(column, value, shown) -> None:
    assert cell(column, value) == shown


def test_a_table_is_text_column_by_column() -> None:
    frame = pd.DataFrame({"dealer_id": ["A", None], "rate": [0.5, 0.125], "rows": [1200, 8]})
    shown = readable(frame).to_dict("list")
    assert shown == {"dealer_id": ["A", ""], "rate": ["50.0%", "12.5%"], "rows": ["1,200", "8"]}


def services_table() -> pd.DataFrame:
    rows = [
        ("Avanza", 2019, "Ganti oli", 3),
        ("Avanza", 2020, "Ganti oli", 4),  # the same service on another model year: 7 in all
        ("Avanza", 2019, "Servis AC", 5),
        ("Avanza", 2019, "Tune up", 1),
        ("Avanza", 2019, "Spooring", 2),
        ("Brio", 2022, "Ganti aki", 6),
    ]
    return pd.DataFrame(rows, columns=["model", "year", "service_name", "services"])


def test_each_models_most_common_services_count_every_model_year() -> None:
    ranked, top = _frequent(services_table())
    assert list(ranked.items())[:3] == [("Avanza · Ganti oli", 7), ("Brio · Ganti aki", 6), ("Avanza · Servis AC", 5)]
    assert top.to_dict("records") == [
        {"model": "Avanza", "service_name": "Ganti oli", "services": 7},
        {"model": "Avanza", "service_name": "Servis AC", "services": 5},
        {"model": "Avanza", "service_name": "Spooring", "services": 2},  # Tune up, the fourth, left out
        {"model": "Brio", "service_name": "Ganti aki", "services": 6},
    ]
    assert PER_MODEL == 3


def rates_and_costs() -> tuple[pd.DataFrame, pd.DataFrame]:
    rates = pd.DataFrame(
        {
            "dealer_id": ["DLR-1", "DLR-9", None],
            "rule": ["vin_format", "year_range", "vin_format"],
            "rejected": [1, 2, 1],
            "rows": [4, 2, 1],
            "rate": [0.25, 1.0, 1.0],
        }
    )
    costs = pd.DataFrame({"dealer_id": ["DLR-1"], "dealer_name": ["Astra Motor Sunter"]})
    return rates, costs


def test_rejection_rates_name_each_dealer_that_has_a_name() -> None:
    named = with_dealer_names(*rates_and_costs())
    assert list(named.columns[:2]) == ["dealer_id", "dealer_name"]
    assert named["dealer_name"].tolist() == ["Astra Motor Sunter", "", ""]  # DLR-9 sent no valid row


def test_part_usage_is_a_line_per_most_used_part_across_every_month() -> None:
    months = [f"2026-{m:02d}" for m in range(1, 13)] + ["2027-01"]
    rows = [(month, f"Part {p}", p) for month in months for p in range(1, 8)]
    rows = [r for r in rows if not (r[1] == "Part 7" and r[0] == "2026-06")]  # a month without it: 0
    svg = month_lines("part_usage_by_month", pd.DataFrame(rows, columns=["month", "label", "value"]), "quantity")
    lines = re.findall(r'<polyline [^>]*points="([^"]+)"', svg)
    assert len(lines) == LINES and all(len(points.split()) == len(months) for points in lines)
    legend = re.findall(r">(Part \d)</text>", svg)
    assert legend == ["Part 7", "Part 6", "Part 5", "Part 4", "Part 3"]  # the most used, largest first
    assert len(re.findall(r">20\d\d-\d\d</text>", svg)) <= MONTH_LABELS


def test_no_parts_used_says_so() -> None:
    svg = month_lines("part_usage_by_month", pd.DataFrame(columns=["month", "label", "value"]), "quantity")
    assert svg == '<p class="empty" data-chart="part_usage_by_month">No data in this period.</p>'


def test_the_page_shows_names_beside_ids_and_readable_numbers(tmp_path) -> None:
    rates, costs = rates_and_costs()
    costs = costs.assign(city=["Jakarta"], services=[1200], mean_cost=[1_922_578.4], median_cost=[1.2e6])
    costs = costs.assign(total_cost=[Decimal("149961050.00")])
    tables = {name: pd.DataFrame() for name in TABLES}
    tables |= {"frequent_services": services_table(), "cost_by_dealer": costs, "rejection_rates": rates}
    tables["part_usage_by_month"] = pd.DataFrame(
        {"month": ["2026-10"], "part_code": ["PRT-OIL"], "part_name": ["Oli"], "quantity": [12_000]}
    )
    tables["repeat_repairs"] = pd.DataFrame(columns=["service_name"])
    tables["odometer_at_repair"] = pd.DataFrame(columns=["model", "service_name", "mean_odometer_km"])
    found = Insights(tables, 1200, None, None)
    page = write_report(found, tmp_path).read_text()
    assert "<td>1,922,578</td>" in page and "<td>149,961,050</td>" in page and "<td>12,000</td>" in page
    assert "<td>25.0%</td>" in page and "e+" not in page
    assert "<td>DLR-1</td><td>Astra Motor Sunter</td>" in page.replace("\n", "").replace("      ", "")
    assert "Astra Motor Sunter · vin_format" in page and "DLR-9 · year_range" in page
    assert "white-space: nowrap" in page
    assert (tmp_path / "rejection_rates.csv").read_text().splitlines()[0].startswith("dealer_id,dealer_name,rule")
    lines = summary_lines(found)
    assert lines[1] == "most frequent service: Ganti oli on Avanza (7)"
    assert lines[-1] == "highest rejection rate: Astra Motor Sunter (DLR-1) for vin_format (25.0%)"
