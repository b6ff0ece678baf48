"""The report's SQL on one machine: DuckDB, in process, over Arrow tables.

The queries are written once, in Athena's dialect (``domain/insight_queries.py``); sqlglot
translates them to DuckDB's (``date_format`` to ``strftime``, ``to_unixtime`` to ``epoch``,
``approx_percentile`` to ``approx_quantile``, ``min_by`` to ``arg_min``). DuckDB reads the
Arrow tables in place, without copying them. Both backends use it: on AWS the tables are read
from the cleaned bucket first, as on a local folder.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

import duckdb
import pyarrow as pa
import sqlglot


@lru_cache(maxsize=32)
def in_duckdb(sql: str) -> str:
    """``sql`` in Athena's dialect, as DuckDB's."""
    (translated,) = sqlglot.transpile(sql, read="athena", write="duckdb")
    return translated


class DuckDbEngine:
    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        with duckdb.connect(":memory:") as connection:
            for name, table in tables.items():
                connection.register(name, table)
            return connection.sql(in_duckdb(sql)).to_arrow_table()
