"""An erasure's rows rewritten in the Iceberg tables (``adapters.iceberg_row_erasure``): only
the files holding them are rewritten, each in one pass, a file whose every row goes is only
dropped, a column a file predates reads as null, a file with delete files goes through
pyiceberg's own delete; and, for any rows and request, the same table as the in-memory catalog."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.local.in_memory import InMemoryTableCatalog
from domain.analytics_tables import SCHEMAS
from tests.integration.iceberg_catalogs import local_tables
from tests.integration.test_iceberg_tables import DAY, FACT, facts

OTHER_DAY = DAY + timedelta(days=1)
WHERE = {"dealer_id": ["DLR-1"], "customer_id": ["C-7"]}
COLUMNS = ["service_record_id", "dealer_id", "customer_id", "ingest_date"]


def _rows(ids: list[str], customers: list[str | None], day=DAY, dealers: list[str] | None = None) -> pa.Table:
    rows = facts(ids, day)
    rows = rows.set_column(rows.schema.get_field_index("customer_id"), "customer_id", pa.array(customers, pa.string()))
    if dealers is not None:
        index = rows.schema.get_field_index("dealer_id")
        rows = rows.set_column(index, rows.schema.field(index), pa.array(dealers, pa.string()))
    return rows


def _sorted(table: pa.Table | None) -> list[dict]:
    assert table is not None
    rows = table.select(COLUMNS).to_pylist()
    return sorted(rows, key=lambda row: (str(row["ingest_date"]), row["service_record_id"]))


def test_only_the_file_holding_the_rows_is_rewritten_and_the_other_dates_file_stays(tables) -> None:
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, _rows(["SR-1", "SR-2"], ["C-7", "C-8"]).to_batches(), "v1")
    tables.replace_date(FACT, SCHEMAS[FACT], OTHER_DAY, _rows(["SR-3"], ["C-8"], OTHER_DAY).to_batches(), "v1")
    untouched = {path for path in tables.files(FACT) if f"={OTHER_DAY.isoformat()}/" in path}
    before = set(tables.files(FACT))

    assert tables.erase_rows(FACT, WHERE, ("customer_id",)) == 1

    after = set(tables.files(FACT))
    assert len(untouched) == 1 and untouched <= after
    assert len(after - before) == 1 and len(before - after) == 1  # the day's one file, swapped
    held = {row["service_record_id"]: row["customer_id"] for row in _sorted(tables.read(FACT))}
    assert held == {"SR-1": None, "SR-2": "C-8", "SR-3": "C-8"}


def test_a_file_whose_every_row_goes_is_dropped_and_none_written_for_it(tables) -> None:
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, _rows(["SR-1", "SR-2"], ["C-7", "C-7"]).to_batches(), "v1")
    tables.replace_date(FACT, SCHEMAS[FACT], OTHER_DAY, _rows(["SR-3"], ["C-8"], OTHER_DAY).to_batches(), "v1")
    before = set(tables.files(FACT))

    assert tables.erase_rows(FACT, WHERE, None) == 2

    assert set(tables.files(FACT)) < before and len(tables.files(FACT)) == 1
    assert [row["service_record_id"] for row in _sorted(tables.read(FACT))] == ["SR-3"]


def test_a_column_the_file_predates_reads_as_null_in_its_rewrite(tmp_path) -> None:
    """The date's file was written before the table gained a column: the rewrite holds it,
    null, and every other column as the file held it."""
    tables = local_tables(tmp_path)
    older = SCHEMAS[FACT].remove(SCHEMAS[FACT].get_field_index("service_advisor_name"))
    rows = _rows(["SR-1", "SR-2"], ["C-7", "C-8"]).drop_columns(["service_advisor_name"])
    tables.replace_date(FACT, older, DAY, rows.to_batches(), "v1")
    tables.replace_date(FACT, SCHEMAS[FACT], OTHER_DAY, _rows(["SR-3"], ["C-7"], OTHER_DAY).to_batches(), "v1")

    assert tables.erase_rows(FACT, WHERE, ("customer_id",)) == 2

    read = tables.read(FACT)
    assert read is not None
    held = {r["service_record_id"]: (r["customer_id"], r["service_advisor_name"]) for r in read.to_pylist()}
    assert held == {"SR-1": (None, None), "SR-2": ("C-8", None), "SR-3": (None, None)}


def test_a_file_with_delete_files_is_erased_through_pyiceberg_which_applies_them(tmp_path, monkeypatch) -> None:
    """Athena's DELETE writes delete files, which a rewrite of the data file alone would undo:
    such a table's rows are erased by pyiceberg's copy-on-write delete."""
    from pyiceberg.table import DataScan

    from adapters import iceberg_tables

    tables = local_tables(tmp_path)
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, _rows(["SR-1", "SR-2"], ["C-7", "C-8"]).to_batches(), "v1")
    real, planned = DataScan.plan_files, []

    def as_if_deleted(scan):  # type: ignore[no-untyped-def]
        tasks = list(real(scan))
        if not planned:  # the rewrite's look at the plan: a delete file
            for task in tasks:
                task.delete_files = {object()}
        planned.append(tasks)
        return tasks

    through = []
    pyiceberg_delete = iceberg_tables._erase_through_pyiceberg
    monkeypatch.setattr(DataScan, "plan_files", as_if_deleted)
    monkeypatch.setattr(
        iceberg_tables, "_erase_through_pyiceberg", lambda *args: through.append(args[0]) or pyiceberg_delete(*args)
    )

    assert tables.erase_rows(FACT, WHERE, ("customer_id",)) == 1
    assert through == [FACT]
    held = {row["service_record_id"]: row["customer_id"] for row in _sorted(tables.read(FACT))}
    assert held == {"SR-1": None, "SR-2": "C-8"}


CUSTOMERS = st.sampled_from(["C-1", "C-2", "C-3", None])
ROW = st.tuples(st.sampled_from([DAY, OTHER_DAY]), st.sampled_from(["DLR-1", "DLR-2"]), CUSTOMERS)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(ROW, min_size=1, max_size=14),
    customers=st.lists(st.sampled_from(["C-1", "C-2", "C-3"]), min_size=1, max_size=2, unique=True),
    keep=st.booleans(),
)
def test_any_erasure_leaves_the_table_the_in_memory_catalog_leaves(rows, customers, keep) -> None:
    """The class, not an example: rows over two dates' files of several row groups (3 rows
    each), any dealer and customer (or none); the request's rows kept blanked or removed."""
    fake = InMemoryTableCatalog()
    with tempfile.TemporaryDirectory() as folder:
        tables = local_tables(Path(folder), row_group_rows=3)
        for day in (DAY, OTHER_DAY):
            theirs = [(f"SR-{n}", row) for n, row in enumerate(rows) if row[0] == day]
            if not theirs:
                continue
            batch = _rows([i for i, _ in theirs], [r[2] for _, r in theirs], day, [r[1] for _, r in theirs])
            for catalog in (tables, fake):
                catalog.replace_date(FACT, SCHEMAS[FACT], day, batch.to_batches(), "v1")
        where = {"dealer_id": ["DLR-1"], "customer_id": customers}
        blank = ("customer_id",) if keep else None

        assert tables.erase_rows(FACT, where, blank) == fake.erase_rows(FACT, where, blank)
        assert _sorted(tables.read(FACT)) == _sorted(fake.read(FACT))


@pytest.mark.parametrize("blank", [("customer_id",), None], ids=["kept-blanked", "removed"])
def test_a_table_without_the_rows_commits_nothing(tmp_path, blank) -> None:
    tables = local_tables(tmp_path)
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, _rows(["SR-1"], ["C-8"]).to_batches(), "v1")
    snapshot = tables.snapshot(FACT)

    assert tables.erase_rows(FACT, WHERE, blank) == 0
    assert tables.snapshot(FACT) == snapshot
    assert tables.erase_rows("no_such_table", WHERE, blank) == 0
