"""The analytics tables on Apache Iceberg (pyiceberg), in each catalog they are kept in: a
SQLite catalog on one machine, the Glue Data Catalog on AWS (a moto server: pyarrow's S3 client
writes the files over HTTP, which in-process moto cannot intercept). Commits a reader sees
whole, few files, the catalog's types those of the star schema, and the same tables as the
in-memory catalog for the same staged outputs."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from unittest import mock

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from botocore.client import BaseClient
from pyiceberg.io.pyarrow import PyArrowFileIO, schema_to_pyarrow

from adapters.duckdb_engine import DuckDbEngine
from adapters.iceberg_files import StoredFile, referenced, stored
from adapters.iceberg_tables import IcebergTables
from adapters.local.iceberg_catalog import sqlite_catalog
from adapters.local.in_memory import FixedClock, InMemoryTableCatalog
from application.analytics.insights import BuildInsights
from application.analytics.publish_tables import PublishTables, with_ingest_date
from application.analytics.table_catalog import TableChanged, Tidied
from domain.analytics_tables import INGEST_DATE, SCHEMAS
from tests.factories import NOW, a_record
from tests.integration.iceberg_catalogs import glue_tables
from tests.unit.test_publish_tables import Staging

DAY = date(2026, 11, 25)
FACT = "fact_service_records"


def facts(ids: list[str], day: date = DAY) -> pa.Table:
    """Fact rows of ``ids`` for ``day`` (only the required columns filled)."""
    n = len(ids)
    instant = datetime(2026, 11, 20, 3, 30, tzinfo=timezone.utc)
    staged = pa.table(
        {
            "service_record_id": ids,
            "submission_id": ["sub"] * n,
            "record_index": list(range(n)),
            "dealer_id": ["DLR-1"] * n,
            "vin": ["MHFXX12G3K1234567"] * n,
            "service_datetime_utc": [instant] * n,
            "service_datetime_wib": [instant.replace(tzinfo=None)] * n,
            "service_datetime_local": [instant.replace(tzinfo=None)] * n,
            "local_timezone": ["WIB"] * n,
            "service_date_local": [date(2026, 11, 20)] * n,
            "source_file": ["f"] * n,
            "ingested_at": [datetime(2026, 11, 25, 12, tzinfo=timezone.utc)] * n,
        }
    )
    schema = SCHEMAS[FACT]
    for field in schema:
        if field.name not in staged.column_names and field.name != "ingest_date":
            staged = staged.append_column(field, pa.nulls(n, field.type))
    staged_schema = schema.remove(schema.get_field_index("ingest_date"))
    return with_ingest_date(staged.select(staged_schema.names).cast(staged_schema), schema, day)


def test_replacing_a_date_twice_leaves_it_once_and_other_dates_alone(tables) -> None:
    other = date(2026, 11, 24)
    tables.replace_date(FACT, SCHEMAS[FACT], other, facts(["SR-0"], other).to_batches(), "v1")
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1", "SR-2"]).to_batches(), "v1")
    done = tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1", "SR-3"]).to_batches(), "v2")
    assert (done.files, done.rows) == (1, 2)
    read = tables.read(FACT)
    assert sorted(read.column("service_record_id").to_pylist()) == ["SR-0", "SR-1", "SR-3"]
    assert len(tables.files(FACT)) == 2  # a file per date
    assert tables.published_version(FACT, DAY) == "v2" and tables.published_version(FACT, other) == "v1"
    assert tables.published_version(FACT, date(2026, 11, 23)) is None
    assert tables.published_version("no_such_table", DAY) is None and tables.read("no_such_table") is None


def test_a_date_with_no_rows_left_is_emptied(tables) -> None:
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    done = tables.replace_date(FACT, SCHEMAS[FACT], DAY, iter(()), "v2")
    assert (done.files, done.rows) == (0, 0) and tables.read(FACT).num_rows == 0 and tables.files(FACT) == []


def test_files_roll_at_the_target_size_between_row_groups(tmp_path) -> None:
    catalog = sqlite_catalog(str(tmp_path / "catalog.sqlite"), str(tmp_path / "warehouse"))
    staged = [facts([f"SR-{i}-{j}" for j in range(100)]).to_batches()[0] for i in range(5)]
    one_file = IcebergTables(catalog, namespace="big", row_group_rows=200)
    done = one_file.replace_date(FACT, SCHEMAS[FACT], DAY, staged, "v1")
    assert (done.rows, done.files) == (500, 1)
    (path,) = one_file.files(FACT)
    assert pq.ParquetFile(path.removeprefix("file://")).metadata.num_row_groups == 3  # 200, 200, 100
    rolled = IcebergTables(catalog, namespace="small", target_file_bytes=1, row_group_rows=200)
    done = rolled.replace_date(FACT, SCHEMAS[FACT], DAY, staged, "v1")
    assert (done.rows, done.files) == (500, 3) and len(rolled.files(FACT)) == 3
    assert rolled.read(FACT).num_rows == 500


def test_the_catalog_holds_the_star_schemas_types_and_required_columns(tables) -> None:
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    catalog = tables._catalog  # the adapter's own catalog, as Athena would read it
    schema = catalog.load_table((tables._namespace, FACT)).schema()
    as_arrow = schema_to_pyarrow(schema)
    for field in SCHEMAS[FACT]:
        found = as_arrow.field(field.name)
        assert found.nullable == field.nullable, field.name
        wanted = pa.large_string() if found.type == pa.large_string() and field.type == pa.string() else field.type
        assert found.type == wanted, field.name
    assert [f.name for f in schema.fields] == SCHEMAS[FACT].names
    assert str(schema.find_field("total_cost").field_type) == "decimal(18, 2)"
    assert str(schema.find_field("service_datetime_utc").field_type) == "timestamptz"
    assert str(schema.find_field("service_datetime_wib").field_type) == "timestamp"


def test_the_same_staged_outputs_publish_the_same_tables_and_report_on_iceberg_and_in_memory(tables) -> None:
    """The two adapters of one port, one scenario: a renamed dealer, a late file, a replay."""
    staging = Staging()
    staging.process("2026-11-24", "a", a_record("SR-1"), a_record("SR-2"))
    staging.process("2026-11-25", "b", a_record("SR-3", {"dealer.dealer_name": "Astra Baru"}))
    memory = InMemoryTableCatalog()
    for catalog in (memory, tables):
        PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))()
    staging.process("2026-11-25", "late", a_record("SR-4"), at="18:00:00")
    for catalog in (memory, tables):
        assert PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))().dates == ["2026-11-25"]
    for name in SCHEMAS:
        expected, found = memory.read(name), tables.read(name)
        assert found is not None and expected is not None, name
        order = [(column, "ascending") for column in found.column_names]
        found = found.cast(SCHEMAS[name])
        assert found.sort_by(order).equals(expected.sort_by(order)), name
    dealer = tables.read("dim_dealer")
    assert dealer.select(["dealer_id", "dealer_name"]).to_pylist() == [
        {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Motor Sunter"}  # SR-4's, the latest
    ]
    assert pc.sum(pc.equal(tables.read("dim_dealer_history").column("dealer_id"), "DLR-JKT-001")).as_py() == 3
    # What the report reads through each (the snapshot's files, streamed): the same report.
    bad = a_record("SR-5", {"vehicle.vin": "SHORT"})
    staging.process("2026-11-26", "c", a_record("SR-1", {"service_details.total_cost": 10}), bad)
    for catalog in (memory, tables):
        assert PublishTables(staging.cleaned, staging.errors, catalog, FixedClock(NOW))().dates == ["2026-11-26"]
    for period in ({}, {"since": date(2026, 11, 25)}):
        expected_report = BuildInsights(memory, DuckDbEngine())(**period)
        found_report = BuildInsights(tables, DuckDbEngine())(**period)
        assert found_report.records == expected_report.records
        for name, frame in expected_report.tables.items():
            assert found_report.tables[name].to_dict("records") == frame.to_dict("records"), name
    assert BuildInsights(tables, DuckDbEngine())().tables["rejection_rates"].to_dict("records") == [
        {"dealer_id": "DLR-JKT-001", "rule": "vin_format", "rejected": 1, "rows": 6, "rate": 0.1667}
    ]


@pytest.mark.parametrize("kind", ["sqlite", "glue"])
def test_a_publish_racing_another_commits_nothing_and_the_other_stands_once(request, tmp_path, kind) -> None:
    """Two publishes of one date at once (the daily one and one on demand): Iceberg refuses
    the commit planned on the table as it was, so the date is never doubled."""
    if kind == "sqlite":
        first, second = (
            IcebergTables(sqlite_catalog(str(tmp_path / "catalog.sqlite"), str(tmp_path / "warehouse")))
            for _ in range(2)
        )
    else:
        stack = request.getfixturevalue("glue_stack")
        first, second = glue_tables(stack), glue_tables(stack)
    first.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-0"]).to_batches(), "v0")

    def the_other_commits_while_this_writes():
        second.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-2"]).to_batches(), "v2")
        yield from facts(["SR-1"]).to_batches()

    with pytest.raises(TableChanged) as refused:
        first.replace_date(FACT, SCHEMAS[FACT], DAY, the_other_commits_while_this_writes(), "v1")
    assert str(refused.value) == f"another publish changed {FACT} meanwhile: run servicepipe publish again"
    assert first.read(FACT).column("service_record_id").to_pylist() == ["SR-2"]
    assert first.published_version(FACT, DAY) == "v2"


def test_a_glue_commit_names_the_table_version_it_read(glue_stack) -> None:
    """Glue refuses an UpdateTable whose VersionId is not the table's current one
    (ConcurrentModificationException): the lock that makes two committers' last step safe.
    moto ignores VersionId, so the rule is checked on what is sent, and Glue's refusal is
    answered as Glue would to show it becomes the port's TableChanged, with nothing committed."""
    tables = glue_tables(glue_stack)
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    real = BaseClient._make_api_call
    read, sent = [], []

    def recording(client, operation, params):
        answer = real(client, operation, params)
        if operation == "GetTable":
            read.append(answer["Table"]["VersionId"])
        elif operation == "UpdateTable":
            sent.append((params.get("VersionId"), read[-1]))
        return answer

    with mock.patch.object(BaseClient, "_make_api_call", recording):
        tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-2"]).to_batches(), "v2")
    assert sent and all(version == last_read for version, last_read in sent), sent

    def refused(client, operation, params):
        if operation == "UpdateTable":
            error = {"Error": {"Code": "ConcurrentModificationException", "Message": "version is stale"}}
            raise client.exceptions.ConcurrentModificationException(error, operation)
        return real(client, operation, params)

    with mock.patch.object(BaseClient, "_make_api_call", refused), pytest.raises(TableChanged):
        tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-3"]).to_batches(), "v3")
    assert tables.read(FACT).column("service_record_id").to_pylist() == ["SR-2"]
    assert tables.published_version(FACT, DAY) == "v2"


def test_the_glue_table_athena_reads_has_the_star_schemas_columns_and_types(glue_stack) -> None:
    """What Athena lists for the table (the Glue columns pyiceberg writes beside the Iceberg
    schema), column for column, in the types the published files hold."""
    import boto3

    glue_tables(glue_stack).replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    table = boto3.client("glue").get_table(DatabaseName=glue_stack.analytics_database, Name=FACT)["Table"]
    columns = [(c["Name"], c["Type"]) for c in table["StorageDescriptor"]["Columns"]]
    assert columns == [(field.name, _glue_type(field.type)) for field in SCHEMAS[FACT]]
    assert table["Parameters"]["table_type"] == "ICEBERG"


def _glue_type(arrow: pa.DataType) -> str:
    if pa.types.is_decimal(arrow):
        return f"decimal({arrow.precision},{arrow.scale})"
    if pa.types.is_timestamp(arrow):
        return "timestamp"
    names = {pa.string(): "string", pa.int64(): "bigint", pa.int32(): "int", pa.bool_(): "boolean"}
    return {**names, pa.date32(): "date", pa.float64(): "double"}[arrow]


def _stored(tables: IcebergTables, table: str) -> dict[str, StoredFile]:
    return {f.path: f for f in stored(tables._catalog.load_table((tables._namespace, table)))}


def test_tidy_forgets_old_snapshots_and_deletes_only_what_nothing_kept_refers_to(tables) -> None:
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    first = set(tables.files(FACT))
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-2"]).to_batches(), "v2")
    kept_before = _stored(tables, FACT)
    earlier = min(f.written for f in kept_before.values())
    assert tables.tidy(FACT, earlier) == Tidied(FACT, 0, 0, 0)  # nothing that old: time travel still works
    assert set(_stored(tables, FACT)) == set(kept_before)

    later = max(f.written for f in kept_before.values()) + timedelta(seconds=1)
    tidied = tables.tidy(FACT, later)
    left = _stored(tables, FACT)
    assert tidied.snapshots >= 2 and tidied.files == len(kept_before) + 1 - len(left)  # + the expiry's metadata
    assert tidied.bytes == sum(f.size for p, f in kept_before.items() if p not in left)
    assert not {PyArrowFileIO.parse_location(uri)[2] for uri in first} & set(left)  # the replaced data file
    assert tables.read(FACT).column("service_record_id").to_pylist() == ["SR-2"]
    iceberg = tables._catalog.load_table((tables._namespace, FACT))
    assert len(iceberg.snapshots()) == 1 and set(left) == referenced(iceberg)
    assert tables.tidy(FACT, later) == Tidied(FACT, 0, 0, 0)  # again: nothing left to remove
    assert tables.tidy("no_such_table", later) == Tidied("no_such_table", 0, 0, 0)


def test_tidy_keeps_an_unreferenced_file_written_at_its_cutoff_and_deletes_one_written_before(tables) -> None:
    """A publish under way has written files its commit will refer to: tidying with a cutoff
    before they were written leaves them; a failed publish's files go once they are older."""
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    iceberg = tables._catalog.load_table((tables._namespace, FACT))
    stray = f"{iceberg.location().rstrip('/')}/data/{INGEST_DATE}={DAY.isoformat()}/not-committed.parquet"
    with iceberg.io.new_output(stray).create(overwrite=True) as out:
        out.write(b"PAR1")
    (written,) = [f for f in _stored(tables, FACT).values() if f.path.endswith("not-committed.parquet")]
    assert tables.tidy(FACT, written.written).files == 0
    assert written.path in _stored(tables, FACT)
    assert tables.tidy(FACT, written.written + timedelta(seconds=1)) == Tidied(FACT, 0, 1, 4)
    assert written.path not in _stored(tables, FACT) and tables.read(FACT).num_rows == 1


def test_a_snapshot_with_delete_files_is_read_through_pyiceberg_which_applies_them(tmp_path, monkeypatch) -> None:
    """Athena's DELETE writes delete files (merge-on-read); the snapshot's data files alone
    would still hold the deleted rows, so such a snapshot is read through pyiceberg."""
    from pyiceberg.table import DataScan

    tables = IcebergTables(sqlite_catalog(str(tmp_path / "catalog.sqlite"), str(tmp_path / "warehouse")))
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1", "SR-2"]).to_batches(), "v1")
    assert not isinstance(tables.scan(FACT), pa.Table)  # no delete files: the files, streamed
    real, planned = DataScan.plan_files, []

    def as_if_deleted(scan):  # type: ignore[no-untyped-def]
        tasks = list(real(scan))
        if not planned:  # the adapter's look at the plan: a delete file; pyiceberg's own read: none
            for task in tasks:
                task.delete_files = {object()}
        planned.append(tasks)
        return tasks

    monkeypatch.setattr(DataScan, "plan_files", as_if_deleted)
    read = tables.scan(FACT)
    assert isinstance(read, pa.Table) and len(planned) == 2
    assert sorted(read.column("service_record_id").to_pylist()) == ["SR-1", "SR-2"]


def test_a_file_another_tidy_deleted_first_is_passed_over(tmp_path, monkeypatch) -> None:
    """Two publishes tidying at once list the same unreferenced file: the second to delete it
    finds it gone, and goes on."""
    from adapters import iceberg_tables

    tables = IcebergTables(sqlite_catalog(str(tmp_path / "catalog.sqlite"), str(tmp_path / "warehouse")))
    tables.replace_date(FACT, SCHEMAS[FACT], DAY, facts(["SR-1"]).to_batches(), "v1")
    gone = StoredFile(str(tmp_path / "warehouse" / "gone.parquet"), 10, datetime(2026, 1, 1, tzinfo=timezone.utc))
    monkeypatch.setattr(iceberg_tables, "stored", lambda iceberg: iter([gone]))
    assert tables.tidy(FACT, datetime(2026, 2, 1, tzinfo=timezone.utc)) == Tidied(FACT, 0, 0, 0)


def _with_customers(ids: list[str], customers: list[str | None]) -> pa.Table:
    rows = facts(ids)
    return rows.set_column(rows.schema.get_field_index("customer_id"), "customer_id", pa.array(customers, pa.string()))


@pytest.mark.parametrize("blank", [("customer_id",), None], ids=["kept-blanked", "removed"])
def test_erase_rows_changes_only_the_matching_rows_as_the_in_memory_catalog_does(tables, blank) -> None:
    """The differential check of the erasure's row rewrite: each catalog against the fake; then
    the table's history forgotten leaves no earlier file to time-travel to."""
    rows = _with_customers(["SR-1", "SR-2", "SR-3"], ["C-7", "C-8", "C-7"])
    fake = InMemoryTableCatalog()
    for catalog in (tables, fake):
        catalog.replace_date(FACT, SCHEMAS[FACT], DAY, rows.to_batches(), "v1")
    before = set(tables.files(FACT))
    where = {"dealer_id": ["DLR-1"], "customer_id": ["C-7"]}

    assert tables.erase_rows(FACT, where, blank) == fake.erase_rows(FACT, where, blank) == 2
    columns = ["service_record_id", "customer_id"]
    read = sorted(tables.read(FACT, columns).to_pylist(), key=lambda r: r["service_record_id"])
    assert read == sorted(fake.read(FACT, columns).to_pylist(), key=lambda r: r["service_record_id"])
    assert tables.erase_rows(FACT, where, blank) == 0  # nothing left to erase: no commit
    forgotten = tables.forget_history(FACT)
    assert forgotten.snapshots >= 1
    # Each file of the first snapshot deleted (named by its key in the bucket, or its path).
    assert all(any(uri.endswith(key) for key in forgotten.removed) for uri in before)
    assert not before & set(tables.files(FACT))
