"""The yardstick of the insights row: a DuckDB script running the report's SQL (the same texts,
``domain/insight_queries.py``) over the same Parquet files: the published tables' files, read
where they lie. ``python -m bench.duckdb_baseline DATA_DIR`` (a folder published once, so each
table's folder holds exactly its current snapshot's files)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from adapters.duckdb_engine import in_duckdb
from domain.insight_queries import ARRIVED_REJECTED, ARRIVED_VALID, QUERIES, RECORDS, TABLES_READ
from domain.rejected_rows import REJECTED_ROWS


def main(data: Path) -> None:
    connection = duckdb.connect(":memory:")
    for table in (*TABLES_READ, REJECTED_ROWS):
        files = f"{data}/cleaned/iceberg/servicepipe/{table}/data/**/*.parquet"  # the local warehouse's layout
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{files}')")  # noqa: S608
    connection.execute("CREATE VIEW report_period AS SELECT DATE '0001-01-01' AS since, DATE '9999-12-31' AS until")
    for sql in [*QUERIES.values(), RECORDS, ARRIVED_VALID, ARRIVED_REJECTED]:
        connection.sql(in_duckdb(sql)).fetchall()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
