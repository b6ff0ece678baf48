"""Arrow tables to JSON Lines.

polars writes nested rows natively at Arrow speed; a Python serialiser called row by row
took most of the processing time. Timestamps should arrive already formatted as text.
"""

from __future__ import annotations

from typing import BinaryIO

import polars as pl
import pyarrow as pa


def write_json_lines(table: pa.Table, sink: BinaryIO) -> None:
    """Write ``table`` to ``sink`` as JSON Lines, one object per row."""
    if table.num_rows:
        # One chunk per column first: polars converts chunked nested columns very slowly.
        frame = pl.from_arrow(table.combine_chunks())
        assert isinstance(frame, pl.DataFrame)  # a table converts to a frame, never a series
        frame.write_ndjson(sink)
