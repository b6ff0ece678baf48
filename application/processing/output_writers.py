"""The files ProcessRawFile writes for one raw file, written batch by batch.

Fact and line tables stream into Parquet (a row group per batch); dimension tables are
gathered (``DimensionTable``) and written at the end, each key once; cleaned records stream into JSON Lines; rejected
rows into the error store, whose file exists only if a row was rejected. Nothing becomes
visible unless every file is complete: each writer is an atomic ``open_write``, committed
together with the others (concurrently) once all are complete; an exception discards them all.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from application.ports import ObjectStore, ScratchSpace
from application.processing.commit_together import CommitTogether
from application.processing.dimension_tables import DimensionTable
from application.processing.json_lines import write_json_lines
from application.raw_formats import JSON_LINES, PARQUET
from application.storage_keys import OutputKeys
from domain.star_schema import CONTEXT_COLUMNS, DIMENSION_KEYS, TABLE_SCHEMAS, FileContext, with_context

PARQUET_COMPRESSION = "zstd"
STREAMED_TABLES = ("fact_service_records", "dim_services_performed", "dim_parts_used")


class OutputWriters:
    def __init__(
        self,
        stack: ExitStack,
        cleaned: ObjectStore,
        errors: ObjectStore,
        keys: OutputKeys,
        context: FileContext,
        scratch: ScratchSpace | None = None,
    ) -> None:
        self._stack, self._errors, self._keys, self._context = stack, errors, keys, context
        self._cleaned = cleaned
        self._commits = CommitTogether()
        stack.push(self._commits)  # before any writer: every writer closes before the commits
        self._parquet = {name: self._parquet_writer(keys.parquet(name), name) for name in STREAMED_TABLES}
        self._jsonl = self._commits.enter(cleaned.open_write(keys.cleaned_jsonl, content_type=JSON_LINES))
        self._rejected: BinaryIO | None = None
        # Dimension rows wait until the end: in scratch files from the second batch on when
        # there is scratch space, else in memory.
        self._dimensions = {
            name: DimensionTable(key, _without_context(TABLE_SCHEMAS[name]), stack, scratch)
            for name, key in DIMENSION_KEYS.items()
        }
        self.written: list[str] = [keys.parquet(name) for name in TABLE_SCHEMAS] + [keys.cleaned_jsonl]

    def _parquet_writer(self, key: str, table: str) -> pq.ParquetWriter:
        sink = self._commits.enter(self._cleaned.open_write(key, content_type=PARQUET))
        writer = pq.ParquetWriter(sink, TABLE_SCHEMAS[table], compression=PARQUET_COMPRESSION)
        self._stack.callback(writer.close)  # runs before the sink commits (last in, first out)
        return writer

    def write(self, star: dict[str, pa.Table], cleaned_records: pa.Table, rejected_lines: bytes) -> None:
        """Write one batch's outputs; ``rejected_lines`` is JSON Lines text, each line ended."""
        for name, writer in self._parquet.items():
            if star[name].num_rows:
                writer.write_table(star[name])
        for name, dimension in self._dimensions.items():
            # Kept without the context columns (the same in every row) until the end.
            dimension.add(star[name].drop_columns(CONTEXT_COLUMNS))
        write_json_lines(cleaned_records, self._jsonl)
        if rejected_lines:
            if self._rejected is None:
                self._rejected = self._commits.enter(
                    self._errors.open_write(self._keys.rejected, content_type=JSON_LINES)
                )
                self.written.append(self._keys.rejected)
            self._rejected.write(rejected_lines)

    def finish(self) -> None:
        """Write the dimension tables, each key once across all batches (its last row)."""
        for name, dimension in self._dimensions.items():
            writer = self._parquet_writer(self._keys.parquet(name), name)
            for rows in dimension.final_rows():
                writer.write_table(with_context(name, rows, self._context))


def _without_context(schema: pa.Schema) -> pa.Schema:
    return pa.schema([f for f in schema if f.name not in CONTEXT_COLUMNS])
