"""The port the insights report runs its SQL through: Athena's dialect in, an Arrow table out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import pyarrow as pa


class SqlEngine(Protocol):
    def run(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        """``sql`` (Athena's dialect) over ``tables``, by name; the result."""
        ...
