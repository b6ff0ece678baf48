"""BuildInsights: the report's tables from the cleaned star schema and the rejected rows.

Reads ``parquet/<table>/date=D/*.parquet`` from the cleaned store, answers each question with
its SQL (``domain/insight_queries.py``, Athena's dialect) through the SqlEngine port, and reads
``rejected/date=D/*.jsonl`` from the error store, through the same ObjectStore port locally and
on S3. ``since`` and ``until`` bound the service date (local) of each record's latest version
(a correction that moves a visit moves it between periods); a partition ingested before
``since`` cannot hold a later service, so it is not read. Rejection rates count the rows of
the files ingested in the period, valid and rejected alike.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import orjson
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from application.analytics.sql_engine import SqlEngine
from application.ports import ObjectStore
from application.storage_keys import PARQUET_PREFIX, REJECTED_PREFIX
from domain import insights
from domain.insight_queries import COLUMNS_READ, QUERIES, RECORDS, REPEAT_DAYS, REPEAT_KM, TABLES_READ
from domain.record_identity import dealer_id_of
from domain.star_schema import TABLE_SCHEMAS

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
    def __init__(self, cleaned: ObjectStore, errors: ObjectStore, engine: SqlEngine) -> None:
        self._cleaned, self._errors, self._engine = cleaned, errors, engine

    def __call__(self, since: date | None = None, until: date | None = None) -> Insights:
        star = {name: self._table(name, since) for name in TABLES_READ}
        period = pa.table({"since": pa.array([since or date.min]), "until": pa.array([until or date.max])})
        tables = {name: self._answer(sql, star, period) for name, sql in QUERIES.items()}
        # What arrived in the period (every version of every row, by its file's ingestion date)
        # is what rejection rates compare; rejected rows are counted by the same rule.
        fact = star["fact_service_records"].select(["dealer_id", "source_file"]).to_pandas()
        arrived = fact[[_ingested_between(str(f), since, until) for f in fact["source_file"]]]
        tables["rejection_rates"] = insights.rejection_rates(arrived, self._rejected(since, until))
        records = int(self._answer(RECORDS, star, period)["records"].iloc[0])
        return Insights({name: tables[name] for name in TABLES}, records, since, until)

    def _answer(self, sql: str, star: dict[str, pa.Table], period: pa.Table) -> pd.DataFrame:
        return self._engine.run(sql, {**star, "report_period": period}).to_pandas()

    def _table(self, name: str, since: date | None) -> pa.Table:
        columns = list(COLUMNS_READ[name])
        schema = pa.schema([_as_read(TABLE_SCHEMAS[name].field(column)) for column in columns])
        parts = [
            # Read as today's schema: a file from before a column was added has it null.
            pq.read_table(io.BytesIO(self._cleaned.read_bytes(key)), columns=columns, schema=schema)
            for key in self._cleaned.list_keys(f"{PARQUET_PREFIX}{name}/")
            if _partition_wanted(key, since)
        ]
        return pa.concat_tables(parts) if parts else schema.empty_table()

    def _rejected(self, since: date | None, until: date | None) -> pd.DataFrame:
        rows: list[dict[str, object]] = []
        for key in self._errors.list_keys(REJECTED_PREFIX):
            if not _ingested_between(key, since, until):  # rejected rows have no trusted service date
                continue
            for line in self._errors.read_bytes(key).splitlines():
                if not line.strip():
                    continue
                row = orjson.loads(line)
                # As cleaning reads a valid row's: " DLR-X " is dealer DLR-X, not another one.
                dealer_id = dealer_id_of(row.get("record"))
                identity = f"{key}#{row.get('index')}"
                for rule in sorted({str(e.get("rule")) for e in row.get("errors", [])}):
                    rows.append({"dealer_id": dealer_id, "rule": rule, "row": identity})
        return pd.DataFrame(rows, columns=["dealer_id", "rule", "row"])


# Text that repeats from row to row (one file name, a few dealers, codes and names): read as
# dictionaries, a quarter of the memory of plain text for a million records, and DuckDB reads
# them as they are.
_REPEATED_TEXT = {
    "source_file",
    "dealer_id",
    "service_code",
    "service_name",
    "part_code",
    "part_name",
    "model",
    "dealer_name",
    "dealer_location",
}


def _as_read(field: pa.Field) -> pa.Field:
    if field.name in _REPEATED_TEXT and pa.types.is_string(field.type):
        return field.with_type(pa.dictionary(pa.int32(), pa.string()))
    return field


def _ingested_on(key: str) -> date | None:
    """The ingestion date of a ``.../date=YYYY-MM-DD/...`` key, if it has one."""
    marker = key.find("date=")
    try:
        return date.fromisoformat(key[marker + 5 : marker + 15]) if marker >= 0 else None
    except ValueError:
        return None


def _partition_wanted(key: str, since: date | None) -> bool:
    """Whether a star-schema partition may hold services on or after ``since``: nothing is
    serviced after it is ingested, and later partitions may hold late submissions."""
    ingested = _ingested_on(key)
    return since is None or ingested is None or ingested >= since


def _ingested_between(key: str, since: date | None, until: date | None) -> bool:
    ingested = _ingested_on(key)
    if ingested is None:
        return True
    return (since is None or ingested >= since) and (until is None or ingested <= until)
