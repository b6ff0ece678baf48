"""Rows erased from an Iceberg table by rewriting, in one pass, each data file that holds them.

pyiceberg's delete reads a file through its scan and writes what stays; a row that stays with
a column blanked must then be appended as a file of its own: a date's one large file read twice
and written once, plus the read that found the rows. Here each candidate file's key columns are
read first (a file holding none of the rows is left as it is); a file holding some is streamed a
row group at a time, the rows removed or their columns blanked where they stand, and written
once beside it, in the table's schema; one overwrite commit swaps each old file for its new one.

A file with delete files (what Athena's DELETE writes) is not handled here (``rewrites`` says
so): pyiceberg's own delete applies them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, NamedTuple

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.manifest import DataFile
    from pyiceberg.table import Table


class Rewrite(NamedTuple):
    """One data file holding matching rows: its entry, the file replacing it (None when no row
    stays), and how many rows matched."""

    old: DataFile
    new: DataFile | None
    rows: int


def rewrites(
    iceberg: Table,
    matching: BooleanExpression,
    where: Mapping[str, Sequence[str]],
    blank: Sequence[str] | None,
    row_group_rows: int,
) -> list[Rewrite] | None:
    """The files of the current snapshot holding rows ``where`` holds, each written again
    without them (``blank`` None) or with ``blank``'s columns null in them; None if any
    candidate file has delete files. Nothing is committed: the caller swaps the files."""
    from pyiceberg.io.pyarrow import PyArrowFileIO, parquet_file_to_data_file

    tasks = list(iceberg.scan(row_filter=matching).plan_files())
    if any(task.delete_files for task in tasks):
        return None
    done = []
    for task in tasks:
        uri = task.file.file_path
        scheme, netloc, path = PyArrowFileIO.parse_location(uri)
        filesystem = iceberg.io.fs_by_scheme(scheme, netloc)  # type: ignore[attr-defined]
        with filesystem.open_input_file(path) as source:
            parquet = pq.ParquetFile(source)
            keys = parquet.read(columns=list(where))
            count = int(pc.sum(_mask(keys, where)).as_py() or 0)
            if not count:
                continue
            if blank is None and count == keys.num_rows:  # no row stays: the file only goes
                done.append(Rewrite(task.file, None, count))
                continue
            new_uri = f"{uri.rsplit('/', 1)[0]}/{uuid.uuid4().hex}.parquet"
            schema = _written_schema(iceberg, parquet.schema_arrow)
            _write_without(iceberg, parquet, new_uri, schema, where, blank, row_group_rows)
        new = parquet_file_to_data_file(iceberg.io, iceberg.metadata, new_uri)
        done.append(Rewrite(task.file, new, count))
    return done


def _write_without(
    iceberg: Table,
    parquet: pq.ParquetFile,
    uri: str,
    schema: pa.Schema,
    where: Mapping[str, Sequence[str]],
    blank: Sequence[str] | None,
    row_group_rows: int,
) -> None:
    """``parquet``'s rows, erased, written to ``uri`` in ``schema``."""
    with (
        iceberg.io.new_output(uri).create(overwrite=True) as stream,
        pq.ParquetWriter(stream, schema, compression="zstd") as writer,
    ):
        for group in range(parquet.num_row_groups):
            rows = _in_schema(parquet.read_row_group(group), schema)
            mask = _mask(rows, where)
            if blank is None:
                rows = rows.filter(pc.invert(mask))
            else:
                for column in blank:
                    index = schema.get_field_index(column)
                    nulls = pa.nulls(rows.num_rows, schema.field(column).type)
                    rows = rows.set_column(index, schema.field(column), pc.if_else(mask, nulls, rows.column(index)))
            writer.write_table(rows, row_group_size=row_group_rows)


def _mask(rows: pa.Table, where: Mapping[str, Sequence[str]]) -> pa.ChunkedArray:
    """Where every column of ``where`` holds one of its values (a null matches nothing)."""
    masks = [
        pc.fill_null(pc.is_in(rows.column(column), pa.array(list(values), rows.schema.field(column).type)), False)
        for column, values in where.items()
    ]
    mask = masks[0]
    for more in masks[1:]:
        mask = pc.and_(mask, more)
    return mask


def _written_schema(iceberg: Table, read: pa.Schema) -> pa.Schema:
    """The table's columns, each of the type the file holds it in (a column the file predates
    in pyiceberg's type for it), without field ids: read through the name mapping, as every
    file this adapter writes is."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    table = schema_to_pyarrow(iceberg.schema(), include_field_ids=False)
    return pa.schema(
        [read.field(field.name).remove_metadata() if field.name in read.names else field for field in table]
    )


def _in_schema(rows: pa.Table, schema: pa.Schema) -> pa.Table:
    """``rows`` in ``schema``: a column the file predates is null, as a reader would see it."""
    columns = [
        rows.column(field.name) if field.name in rows.column_names else pa.nulls(rows.num_rows, field.type)
        for field in schema
    ]
    return pa.Table.from_arrays(columns, schema=schema)
