"""The published analytics tables: what the publish step commits from the worker's staged
outputs, and the dimensions an analyst joins (one current row per key, and their history).

- Tables by ingestion date (``BY_DATE``): the fact table, its two line tables, and each
  dimension's *changes* (a key's attributes each time they differ from its previous row in the
  date), each row with its ``ingest_date``, the partition a date's publish replaces; and the
  date's rejected rows (``domain/rejected_rows.py``), published first.
- Dimensions rebuilt whole from the changes: ``dim_<name>`` holds one row per key, its latest
  version, so that a naive join never multiplies rows; ``dim_<name>_history`` holds every
  version with ``valid_from`` (inclusive) and ``valid_to`` (exclusive, null for the current).

A version's order is ``(ingested_at, source_file)``, the order the report takes the latest
version of a record in (``domain/insight_queries.py``); rows of one file keep their order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from domain import rejected_rows
from domain.star_schema import DIMENSION_KEYS, TABLE_SCHEMAS

INGEST_DATE = "ingest_date"
_INGEST_DATE_FIELD = pa.field(INGEST_DATE, pa.date32(), nullable=False)
_VALID_FROM = pa.field("valid_from", pa.timestamp("us", tz="UTC"), nullable=False)
_VALID_TO = pa.field("valid_to", pa.timestamp("us", tz="UTC"))

FACT_TABLE = "fact_service_records"
FACT_AND_LINES = ("dim_services_performed", "dim_parts_used", FACT_TABLE)  # lines first
DIMENSIONS = tuple(DIMENSION_KEYS)


def changes_table(dimension: str) -> str:
    return f"{dimension}_changes"


def history_table(dimension: str) -> str:
    return f"{dimension}_history"


# Published per ingestion date, in this order: a fact row is never committed before its lines.
BY_DATE = (*FACT_AND_LINES, *(changes_table(d) for d in DIMENSIONS))
STAGED_AS = {**{t: t for t in FACT_AND_LINES}, **{changes_table(d): d for d in DIMENSIONS}}

SCHEMAS: dict[str, pa.Schema] = {
    **{name: TABLE_SCHEMAS[staged].append(_INGEST_DATE_FIELD) for name, staged in STAGED_AS.items()},
    **{dimension: TABLE_SCHEMAS[dimension] for dimension in DIMENSIONS},
    **{history_table(d): TABLE_SCHEMAS[d].append(_VALID_FROM).append(_VALID_TO) for d in DIMENSIONS},
    rejected_rows.REJECTED_ROWS: rejected_rows.SCHEMA.append(_INGEST_DATE_FIELD),
}


def _attributes(dimension: str) -> list[str]:
    key = DIMENSION_KEYS[dimension]
    return [f.name for f in TABLE_SCHEMAS[dimension] if f.name not in (*key, "source_file", "ingested_at")]


def _version_order(table: pa.Table, key: tuple[str, ...]) -> pa.Array:
    """Row indices by key, then version order; rows of one file keep their order. Sorted on
    these columns alone: a copy of the whole table is made once, of the rows kept."""
    keys = {f"key{i}": table.column(column) for i, column in enumerate(key)}
    narrow = pa.table(
        {
            **keys,
            "ingested_at": table.column("ingested_at"),
            "source_file": table.column("source_file"),
            "row": pa.array(np.arange(table.num_rows)),
        }
    )
    order = [*keys, "ingested_at", "source_file", "row"]
    return pc.sort_indices(narrow, sort_keys=[(c, "ascending") for c in order])


def _changed(table: pa.Table, dimension: str) -> np.ndarray:
    """For rows in version order: True where a key starts or differs from its previous row."""
    rows = table.num_rows
    changed = np.ones(rows, dtype=bool)
    if rows < 2:
        return changed
    same = np.ones(rows - 1, dtype=bool)
    for column in [*DIMENSION_KEYS[dimension], *_attributes(dimension)]:
        values = table.column(column).combine_chunks()
        before, after = values.slice(0, rows - 1), values.slice(1)
        equal = pc.fill_null(pc.equal(before, after), False)
        both_null = pc.and_(pc.is_null(before), pc.is_null(after))
        same &= pc.or_(equal, both_null).to_numpy(zero_copy_only=False)
    changed[1:] = ~same
    return changed


def _runs(table: pa.Table, dimension: str) -> tuple[pa.Array, np.ndarray]:
    """The rows' version order, and where in it each run of equal rows of a key starts."""
    order = _version_order(table, DIMENSION_KEYS[dimension])
    columns = [*DIMENSION_KEYS[dimension], *_attributes(dimension)]
    return order, _changed(table.select(columns).take(order), dimension)


def changes(dimension: str, staged: pa.Table) -> pa.Table:
    """A dimension's staged rows of one date (a row per key per file) reduced to where each
    key's attributes change: the first and the last row of each run of equal rows. The last is
    kept too because another date's rows may fall inside the run in version order (a file
    whose ingestion time is not its key's date): the key's last row is never dropped."""
    for column in DIMENSION_KEYS[dimension]:
        if staged.column(column).null_count:
            staged = staged.filter(pc.is_valid(staged.column(column)))
    order, starts = _runs(staged, dimension)
    ends = np.append(starts[1:], True) if len(starts) else starts
    return staged.take(order.filter(pa.array(starts | ends)))


def history(dimension: str, all_changes: pa.Table) -> pa.Table:
    """Every version of each key, from its changes across dates: ``valid_from`` its first
    ``ingested_at``, ``valid_to`` the next version's (null for the current one)."""
    key = DIMENSION_KEYS[dimension]
    columns = [f.name for f in TABLE_SCHEMAS[dimension]]
    order, starts = _runs(all_changes, dimension)
    versions = all_changes.select(columns).take(order.filter(pa.array(starts)))  # a run's first row starts a version
    starts_at = versions.column("ingested_at")
    last_of_key = np.ones(versions.num_rows, dtype=bool)
    if versions.num_rows:
        last_of_key[:-1] = False
        for column in key:  # a key ends where any of its columns changes
            values = versions.column(column).to_numpy(zero_copy_only=False)
            last_of_key[:-1] |= values[:-1] != values[1:]
    following = np.append(np.arange(1, versions.num_rows), 0) if versions.num_rows else np.array([], dtype=int)
    valid_to = pc.if_else(pa.array(last_of_key), pa.nulls(versions.num_rows, _VALID_TO.type), starts_at.take(following))
    table = versions.append_column(_VALID_FROM, starts_at.cast(_VALID_FROM.type)).append_column(_VALID_TO, valid_to)
    return table.cast(SCHEMAS[history_table(dimension)])


def current(dimension: str, versions: pa.Table) -> pa.Table:
    """One row per key: its current version (``valid_to`` null) in ``history``'s output."""
    latest = versions.filter(pc.is_null(versions.column("valid_to")))
    return latest.select([f.name for f in TABLE_SCHEMAS[dimension]]).cast(SCHEMAS[dimension])
