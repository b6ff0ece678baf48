"""Reconcile's last check: a date's rows in the published analytics tables.

Once a date is published as its processed files are now, each cleaned row (a raw file's row
index) is in the published fact table once, and each rejected row in the published rejected
rows; a date changed since it was published (or never published) is awaiting its publish, not
a problem.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from application.analytics.publish_tables import date_version, published_as_is
from application.analytics.table_catalog import TableCatalog
from application.ports import ObjectStore
from domain.analytics_tables import FACT_TABLE, INGEST_DATE
from domain.rejected_rows import REJECTED_ROWS

_WHERE = {"cleaned": FACT_TABLE, "rejected": REJECTED_ROWS}


@dataclass
class PublishedCheck:
    rows: int = 0  # the date's fact rows in the published tables
    awaiting: int = 0  # cleaned rows of a date not published as it is
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (raw key, row index, what)


def published_rows(
    catalog: TableCatalog, cleaned: ObjectStore, day: str, rows: dict[str, list[tuple[str, np.ndarray]]]
) -> PublishedCheck:
    """``rows``: per place ("cleaned", "rejected"), each processed file's row indices."""
    check = PublishedCheck()
    if not published_as_is(catalog, day, date_version(cleaned, day)):
        check.awaiting = sum(len(indices) for _, indices in rows["cleaned"])
        return check
    for place, table in _WHERE.items():
        held = _published(catalog, table, date.fromisoformat(day))
        if place == "cleaned":
            check.rows = sum(held.values())
        expected = Counter((raw_key, int(i)) for raw_key, indices in rows[place] for i in indices)
        for raw_key, index in sorted(expected | held):
            found, wanted = held.get((raw_key, index), 0), expected.get((raw_key, index), 0)
            if found != wanted:
                check.problems.append((raw_key, index, _problem(table, found, wanted)))
    return check


def _published(catalog: TableCatalog, table: str, day: date) -> Counter[tuple[str, int]]:
    """(source file, row index) of the date's rows in ``table``, counted (a rejected row
    is one, whatever number of rules it failed)."""
    source = catalog.scan(table, day)
    if source is None:
        return Counter()
    dataset = ds.dataset(source) if isinstance(source, pa.Table) else source
    found = dataset.to_table(
        columns=["source_file", "record_index"],
        filter=pc.field(INGEST_DATE) == pa.scalar(day, pa.date32()),
    )
    pairs = zip(found.column("source_file").to_pylist(), found.column("record_index").to_pylist(), strict=True)
    if table == REJECTED_ROWS:
        return Counter(set(pairs))
    return Counter(pairs)


def _problem(table: str, found: int, wanted: int) -> str:
    if found == 0:
        return f"not in the published {table}, though its date is published"
    if wanted == 0:
        return f"in the published {table}, but not in the date's processed outputs"
    return f"in the published {table} {found} times"
