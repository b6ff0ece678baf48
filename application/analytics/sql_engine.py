"""The port the insights report runs its SQL through: Athena's dialect in, an Arrow table out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, TypeAlias

import pyarrow as pa
import pyarrow.dataset as ds

# A table as the engine reads it: in memory, or Parquet files read as the query streams them.
ArrowSource: TypeAlias = pa.Table | ds.Dataset


class SqlEngine(Protocol):
    def run(self, sql: str, tables: Mapping[str, ArrowSource]) -> pa.Table:
        """``sql`` (Athena's dialect) over ``tables``, by name; the result."""
        ...
