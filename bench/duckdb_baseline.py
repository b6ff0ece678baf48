"""The yardstick of the insights row: a DuckDB script running the report's SQL (the same texts,
``domain/insight_queries.py``) over the same Parquet files, read where they lie.
``python -m bench.duckdb_baseline DATA_DIR``."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from adapters.duckdb_engine import in_duckdb
from domain.insight_queries import QUERIES, RECORDS, TABLES_READ


def main(data: Path) -> None:
    connection = duckdb.connect(":memory:")
    for table in TABLES_READ:
        files = f"{data}/cleaned/parquet/{table}/*/*.parquet"  # the local cleaned store's layout
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM read_parquet('{files}')")  # noqa: S608
    connection.execute("CREATE VIEW report_period AS SELECT DATE '0001-01-01' AS since, DATE '9999-12-31' AS until")
    for sql in [*QUERIES.values(), RECORDS]:
        connection.sql(in_duckdb(sql)).fetchall()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
