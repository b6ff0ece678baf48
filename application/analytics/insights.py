"""BuildInsights: the report's tables from the published analytics tables.

Reads the tables' current snapshot through the TableCatalog port (what `servicepipe publish`
committed: a processed file counts once it is published, whole) and answers each question with
its SQL (``domain/insight_queries.py``, Athena's dialect) through the SqlEngine port, which
streams the tables' files. ``since`` and ``until`` bound the service date (local) of each
record's latest version (a correction that moves a visit moves it between periods); a date
ingested before ``since`` cannot hold a later service, so it is not read. Rejection rates count
the rows of the files ingested in the period, valid and rejected alike, both from the same
published dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
import pyarrow as pa

from application.analytics.sql_engine import ArrowSource, SqlEngine
from application.analytics.table_catalog import TableCatalog
from domain import insights
from domain.analytics_tables import SCHEMAS
from domain.insight_queries import (
    ARRIVED_REJECTED,
    ARRIVED_VALID,
    QUERIES,
    RECORDS,
    REPEAT_DAYS,
    REPEAT_KM,
    TABLES_READ,
)
from domain.rejected_rows import REJECTED_ROWS

# The report's tables, in the order the report shows them: name -> (title, what it says).
TABLES = {
    "frequent_services": ("Most common services for each model", "services performed"),
    "part_usage_by_month": ("Part usage by month: the most used parts", "quantity used per month"),
    "cost_by_dealer": ("Cost per service by dealer and city", "mean cost per service, IDR"),
    "repeat_repairs": (
        f"Repeat repairs: same VIN and service within {REPEAT_DAYS} days and {REPEAT_KM:,} km",
        "repeats",
    ),
    "odometer_at_repair": ("Average odometer at each repair, by model", "mean odometer, km"),
    "rejection_rates": ("Rejection rate by dealer and rule", "share of the dealer's rows rejected"),
}


@dataclass
class Insights:
    tables: dict[str, pd.DataFrame]
    records: int  # service records analysed (latest versions)
    since: date | None
    until: date | None


class BuildInsights:
    def __init__(self, catalog: TableCatalog, engine: SqlEngine) -> None:
        self._catalog, self._engine = catalog, engine

    def __call__(self, since: date | None = None, until: date | None = None) -> Insights:
        star = {name: self._table(name, since) for name in (*TABLES_READ, REJECTED_ROWS)}
        period = pa.table({"since": pa.array([since or date.min]), "until": pa.array([until or date.max])})
        tables = {name: self._answer(sql, star, period) for name, sql in QUERIES.items()}
        arrived = self._answer(ARRIVED_VALID, star, period)
        rejected = self._answer(ARRIVED_REJECTED, star, period).rename(columns={"row_key": "row"})
        tables["rejection_rates"] = insights.rejection_rates(arrived, rejected)
        records = int(self._answer(RECORDS, star, period)["records"].iloc[0])
        return Insights({name: tables[name] for name in TABLES}, records, since, until)

    def _answer(self, sql: str, star: dict[str, ArrowSource], period: pa.Table) -> pd.DataFrame:
        return self._engine.run(sql, {**star, "report_period": period}).to_pandas()

    def _table(self, name: str, since: date | None) -> ArrowSource:
        """The published table (for a table by date, the dates from ``since`` on: nothing is
        serviced after it is ingested); empty, with its columns, until something is published."""
        found = self._catalog.scan(name, since)
        return SCHEMAS[name].empty_table() if found is None else found
