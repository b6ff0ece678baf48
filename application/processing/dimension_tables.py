"""One dimension table of one raw file, gathered batch by batch: each key once, its last row.

A key's last row may come in any batch, so nothing is written until the file ends. A file of
one batch stays in memory. From the second batch on, with scratch space, rows are spooled to
``PARTITIONS`` scratch files by a hash of their key, so a key's rows all fall in one partition;
the end then reads back one partition at a time. Memory at the end is one partition's rows,
however big the file (``dim_vehicle`` and ``dim_customer`` can have nearly a key per row).

Rows come out partition by partition, each in the order its keys last appear in the file.
Both paths give that order, so the outputs do not depend on how the file was batched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import BinaryIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from application.ports import ScratchSpace
from domain.star_schema import last_per_key

PARTITIONS = 16


def partitions_of(keys: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Each key's partition. pandas' ``hash_array`` (SipHash, fixed key) is the same in every
    process and version, so a file's outputs are the same wherever it is processed."""
    values = keys.to_numpy(zero_copy_only=False)
    return (pd.util.hash_array(values.astype(object)) % PARTITIONS).astype(np.intp)


def _key_values(rows: pa.Table, key: tuple[str, ...]) -> pa.ChunkedArray | pa.Array:
    """One value per row for a key of one or more columns (joined by a separator no id holds)."""
    if len(key) == 1:
        return rows.column(key[0])
    return pc.binary_join_element_wise(*(rows.column(c) for c in key), "\x1f")


def _by_partition(rows: pa.Table, key: tuple[str, ...]) -> tuple[pa.Table, np.ndarray]:
    """``rows`` grouped by partition (stable: their order kept within one), and where each
    partition starts (``PARTITIONS + 1`` offsets)."""
    parts = partitions_of(_key_values(rows, key))
    ordered = rows.take(np.argsort(parts, kind="stable"))
    offsets = np.concatenate([[0], np.cumsum(np.bincount(parts, minlength=PARTITIONS))])
    return ordered, offsets


class DimensionTable:
    """The rows of one dimension table (without context columns) for one raw file."""

    def __init__(self, key: tuple[str, ...], schema: pa.Schema, stack: ExitStack, scratch: ScratchSpace | None) -> None:
        self._key, self._schema, self._stack, self._scratch = key, schema, stack, scratch
        self._kept: list[pa.Table] = []
        self._spools: dict[int, tuple[BinaryIO, pa.ipc.RecordBatchStreamWriter]] = {}
        self._spooling = False

    def add(self, rows: pa.Table) -> None:
        """One batch's rows, each key once (its last row in the batch)."""
        if self._spooling:
            self._spool(rows)
        elif self._kept and self._scratch is not None:
            self._spooling = True
            for table in (*self._kept, rows):
                self._spool(table)
            self._kept.clear()
        else:
            self._kept.append(rows)

    def _spool(self, rows: pa.Table) -> None:
        ordered, offsets = _by_partition(rows, self._key)
        for part in range(PARTITIONS):
            start, end = int(offsets[part]), int(offsets[part + 1])
            if end > start:
                self._writer(part).write_table(ordered.slice(start, end - start))

    def _writer(self, part: int) -> pa.ipc.RecordBatchStreamWriter:
        if part not in self._spools:
            assert self._scratch is not None
            spool = self._stack.enter_context(self._scratch.temporary_file())
            writer = pa.ipc.new_stream(spool, self._schema)
            self._stack.callback(writer.close)  # closing twice is harmless
            self._spools[part] = (spool, writer)
        return self._spools[part][1]

    def final_rows(self) -> Iterator[pa.Table]:
        """The table's rows, each key once (its last row), a partition at a time when spooled."""
        if not self._spooling:
            rows = pa.concat_tables(self._kept) if self._kept else self._schema.empty_table()
            self._kept.clear()
            ordered, _ = _by_partition(last_per_key(rows, self._key), self._key)
            yield ordered
            return
        for part in range(PARTITIONS):
            if part not in self._spools:
                continue
            spool, writer = self._spools.pop(part)
            writer.close()
            spool.seek(0)
            with pa.ipc.open_stream(spool) as reader:
                rows = reader.read_all()
            yield last_per_key(rows, self._key)
            del rows
