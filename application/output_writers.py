"""The files ProcessRawFile writes for one raw file, written batch by batch.

Fact and line tables stream into Parquet (a row group per batch); dimension tables are
gathered and written once, each key once; cleaned records stream into JSON Lines; rejected
rows into the error store, whose file exists only if a row was rejected. Nothing becomes
visible unless every file is complete: each writer is an atomic ``open_write`` held in
one ``ExitStack``, and an exception discards them all.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from application.json_lines import write_json_lines
from application.ports import ObjectStore, ScratchSpace
from application.raw_formats import JSON_LINES, PARQUET
from application.storage_keys import OutputKeys
from domain.star_schema import CONTEXT_COLUMNS, DIMENSION_KEYS, TABLE_SCHEMAS, FileContext, last_per_key, with_context

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
        self._scratch = scratch
        self._cleaned = cleaned
        self._parquet = {name: self._parquet_writer(keys.parquet(name), name) for name in STREAMED_TABLES}
        self._jsonl = stack.enter_context(cleaned.open_write(keys.cleaned_jsonl, content_type=JSON_LINES))
        self._rejected: BinaryIO | None = None
        # Dimension rows wait until the end: those of a second and later batch in scratch
        # files when there is scratch space, else in memory.
        self._dimension_rows: dict[str, list[pa.Table]] = {name: [] for name in DIMENSION_KEYS}
        self._dimensions: dict[str, tuple[BinaryIO, pq.ParquetWriter]] = {}
        self.written: list[str] = [keys.parquet(name) for name in TABLE_SCHEMAS] + [keys.cleaned_jsonl]

    def _parquet_writer(self, key: str, table: str) -> pq.ParquetWriter:
        sink = self._stack.enter_context(self._cleaned.open_write(key, content_type=PARQUET))
        writer = pq.ParquetWriter(sink, TABLE_SCHEMAS[table], compression=PARQUET_COMPRESSION)
        self._stack.callback(writer.close)  # runs before the sink commits (last in, first out)
        return writer

    def _spool(self, table: str, scratch: ScratchSpace) -> tuple[BinaryIO, pq.ParquetWriter]:
        spool = self._stack.enter_context(scratch.temporary_file())
        fields = [f for f in TABLE_SCHEMAS[table] if f.name not in CONTEXT_COLUMNS]
        writer = pq.ParquetWriter(spool, pa.schema(fields), compression="none")
        self._stack.callback(writer.close)  # closing twice is harmless
        return spool, writer

    def write(self, star: dict[str, pa.Table], cleaned_records: pa.Table, rejected_lines: bytes) -> None:
        """Write one batch's outputs; ``rejected_lines`` is JSON Lines text, each line ended."""
        for name, writer in self._parquet.items():
            if star[name].num_rows:
                writer.write_table(star[name])
        for name in DIMENSION_KEYS:
            # Kept without the context columns (the same in every row) until the end.
            rows = star[name].drop_columns(CONTEXT_COLUMNS)
            kept = self._dimension_rows[name]
            if name in self._dimensions:
                self._dimensions[name][1].write_table(rows)
            elif kept and self._scratch is not None:
                self._dimensions[name] = self._spool(name, self._scratch)
                for table in (*kept, rows):
                    self._dimensions[name][1].write_table(table)
                kept.clear()
            else:
                kept.append(rows)
        write_json_lines(cleaned_records, self._jsonl)
        if rejected_lines:
            if self._rejected is None:
                self._rejected = self._stack.enter_context(
                    self._errors.open_write(self._keys.rejected, content_type=JSON_LINES)
                )
                self.written.append(self._keys.rejected)
            self._rejected.write(rejected_lines)

    def finish(self) -> None:
        """Write the dimension tables, each key once across all batches (its last row)."""
        for name, key in DIMENSION_KEYS.items():
            if name in self._dimensions:
                spool, writer = self._dimensions[name]
                writer.close()
                spool.seek(0)
                rows = pq.read_table(spool)
            else:
                kept = self._dimension_rows[name]
                rows = (
                    pa.concat_tables(kept) if kept else TABLE_SCHEMAS[name].empty_table().drop_columns(CONTEXT_COLUMNS)
                )
            table = last_per_key(rows, key)
            sink = self._stack.enter_context(self._cleaned.open_write(self._keys.parquet(name), content_type=PARQUET))
            pq.write_table(with_context(name, table, self._context), sink, compression=PARQUET_COMPRESSION)
