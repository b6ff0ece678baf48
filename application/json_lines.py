"""Arrow tables to JSON Lines, column by column with Arrow compute: no Python loop per row.

Each column becomes an array of JSON texts, structs and lists are assembled from their
children, and the lines are the concatenations. Strings are escaped for quotes and
backslashes in bulk; the rare string with a control character is escaped by orjson.
Timestamps with a zone are written in UTC with a 'Z'; NaN and infinities as null.
"""

from __future__ import annotations

from typing import BinaryIO

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

_CONTROL = "[\\x00-\\x1f]"


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _string(values: pa.Array) -> pa.Array:
    escaped = pc.replace_substring(pc.replace_substring(values, "\\", "\\\\"), '"', '\\"')
    control = pc.fill_null(pc.match_substring_regex(values, _CONTROL), False)
    if pc.any(control).as_py():
        slow = [orjson.dumps(v).decode()[1:-1] for v in values.filter(control).to_pylist()]
        escaped = pc.replace_with_mask(escaped, control, pa.array(slow, escaped.type))
    return _join('"', escaped, '"')


def _encode(values: pa.Array) -> pa.Array:
    """JSON text of every value (null for missing ones)."""
    kind = values.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        text = _string(values)
    elif pa.types.is_integer(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_floating(kind):
        text = pc.if_else(pc.is_finite(values), pc.cast(values, pa.string()), None)
    elif pa.types.is_boolean(kind):
        text = pc.if_else(values, "true", "false")
    elif pa.types.is_timestamp(kind):
        utc = values.cast(pa.timestamp(kind.unit, tz="UTC")) if kind.tz else values
        text = _join('"', pc.strftime(utc, "%Y-%m-%dT%H:%M:%S" + ("Z" if kind.tz else "")), '"')
    elif pa.types.is_date(kind):
        text = _join('"', pc.strftime(values, "%Y-%m-%d"), '"')
    elif pa.types.is_struct(kind):
        text = _object([kind.field(i).name for i in range(kind.num_fields)], values.flatten(), values.is_null())
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        items = _encode(pc.list_flatten(values))
        offsets = pc.subtract(values.offsets, values.offsets[0])
        lists = type(values).from_arrays(offsets, items, mask=values.is_null())
        joined = pc.binary_join(lists, ",")
        text = _join("[", joined, "]")
    else:
        raise TypeError(f"no JSON encoding for {kind}")
    return pc.fill_null(text, "null")


def _object(names: list[str], children: list[pa.Array], missing: pa.Array | None = None) -> pa.Array:
    parts: list[pa.Array | str] = []
    for i, (name, child) in enumerate(zip(names, children, strict=True)):
        parts.append(("{" if i == 0 else ",") + orjson.dumps(name).decode() + ":")
        parts.append(_encode(child))
    text = _join(*parts, "}") if parts else pa.repeat("{}", len(missing or []))
    return text if missing is None else pc.if_else(missing, None, text)


def json_lines(table: pa.Table) -> pa.Array:
    """One JSON object per row, as an array of strings."""
    columns = [table.column(name).combine_chunks() for name in table.column_names]
    return _object(table.column_names, columns)


def write_json_lines(table: pa.Table, sink: BinaryIO, rows_per_slice: int = 50_000) -> None:
    """Write ``table`` to ``sink`` as JSON Lines, a slice of rows at a time."""
    for start in range(0, table.num_rows, rows_per_slice):
        lines = pc.binary_join_element_wise(json_lines(table.slice(start, rows_per_slice)), "\n", "")
        # The lines are contiguous in the array's data buffer: write that span as it is.
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset : lines.offset + len(lines) + 1]
        sink.write(memoryview(lines.buffers()[2])[int(offsets[0]) : int(offsets[-1])])
