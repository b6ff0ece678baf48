"""The TableCatalog port on Apache Iceberg (pyiceberg), for any catalog: a SQLite catalog on
one machine (``adapters/local/iceberg_catalog.py``), the Glue Data Catalog on AWS.

Files are written here, streaming, a row group at a time, and rolled at ``target_file_bytes``
(few, large files: what Athena and DuckDB read fastest); then one transaction deletes what
they replace and adds them (``add_files``: pyiceberg reads each file's partition and column
statistics from its footer). A file is written without Iceberg field ids, which ``add_files``
requires; the table's name mapping reads it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from adapters.iceberg_files import filesystem_of, referenced, stored
from adapters.iceberg_row_erasure import rewrites
from application.analytics.sql_engine import ArrowSource
from application.analytics.table_catalog import Committed, TableChanged, Tidied
from domain.analytics_tables import INGEST_DATE

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem
    from pyiceberg.catalog import Catalog
    from pyiceberg.expressions import BooleanExpression
    from pyiceberg.table import Table

log = logging.getLogger(__name__)

NAMESPACE = "servicepipe"
TARGET_FILE_BYTES = 128 * 2**20  # Athena's and Iceberg's usual target; at least 64 MiB (issue 21)
ROW_GROUP_ROWS = 128 * 1024
BUILT_FROM = "servicepipe.built-from"
PROPERTIES = {"write.parquet.compression-codec": "zstd", "format-version": "2"}


class IcebergTables:
    def __init__(
        self,
        catalog: Catalog,
        namespace: str = NAMESPACE,
        target_file_bytes: int = TARGET_FILE_BYTES,
        row_group_rows: int = ROW_GROUP_ROWS,
        creates_namespace: bool = True,
    ) -> None:
        """``creates_namespace``: False where the namespace is the deployment's (the stack's
        Glue database), never this process's to create."""
        self._catalog, self._namespace, self._creates_namespace = catalog, namespace, creates_namespace
        self._target, self._row_group_rows = target_file_bytes, row_group_rows
        # Erasures rewrite tables (and forget their history) from several threads; their
        # commits take turns (a SQLite catalog's writes would wait on its file lock).
        self._commits = threading.Lock()

    def replace_date(
        self, table: str, schema: pa.Schema, ingest_date: date, batches: Iterable[pa.RecordBatch], version: str
    ) -> Committed:
        iceberg = self._table(table, schema, partition_by=INGEST_DATE)
        folder = f"{iceberg.location().rstrip('/')}/data/{INGEST_DATE}={ingest_date.isoformat()}"
        written = list(self._write(iceberg, folder, schema, batches))
        with _one_writer(table), iceberg.transaction() as transaction:
            the_date = f"{INGEST_DATE} = '{ingest_date.isoformat()}'"  # pyiceberg's filter syntax
            if _holds(iceberg, the_date):
                transaction.delete(the_date)
            if written:
                transaction.add_files([path for path, _, _ in written])
            transaction.set_properties({_version_property(ingest_date): version})
        return _committed(table, written)

    def published_version(self, table: str, ingest_date: date) -> str | None:
        iceberg = self._loaded(table)
        return None if iceberg is None else iceberg.properties.get(_version_property(ingest_date))

    def replace_all(self, table: str, schema: pa.Schema, data: pa.Table, built_from: str) -> Committed:
        from pyiceberg.expressions import AlwaysTrue

        iceberg = self._table(table, schema, partition_by=None)
        folder = f"{iceberg.location().rstrip('/')}/data"
        written = list(self._write(iceberg, folder, schema, data.cast(schema).to_batches()))
        with _one_writer(table), iceberg.transaction() as transaction:
            if _holds(iceberg, AlwaysTrue()):
                transaction.delete(AlwaysTrue())
            if written:
                transaction.add_files([path for path, _, _ in written])
            transaction.set_properties({BUILT_FROM: built_from})
        return _committed(table, written)

    def built_from(self, table: str) -> str | None:
        iceberg = self._loaded(table)
        return None if iceberg is None else iceberg.properties.get(BUILT_FROM)

    def snapshot(self, table: str) -> str | None:
        iceberg = self._loaded(table)
        current = None if iceberg is None else iceberg.current_snapshot()
        return None if current is None else str(current.snapshot_id)

    def _loaded(self, table: str) -> Table | None:
        from pyiceberg.exceptions import NoSuchTableError

        try:
            return self._catalog.load_table((self._namespace, table))
        except NoSuchTableError:
            return None

    def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table | None:
        iceberg = self._loaded(table)
        if iceberg is None:
            return None
        return iceberg.scan(selected_fields=tuple(columns) if columns else ("*",)).to_arrow()

    def tidy(self, table: str, before: datetime) -> Tidied:
        iceberg = self._loaded(table)
        if iceberg is None:
            return Tidied(table, 0, 0, 0)
        current = iceberg.current_snapshot()
        cutoff = int(before.timestamp() * 1000)
        old = [
            snapshot.snapshot_id
            for snapshot in iceberg.snapshots()
            if snapshot.timestamp_ms < cutoff and (current is None or snapshot.snapshot_id != current.snapshot_id)
        ]
        if old:
            with self._commits, _one_writer(table):
                iceberg.maintenance.expire_snapshots().by_ids(old).commit()
            iceberg = self._catalog.load_table((self._namespace, table))
        kept = referenced(iceberg)
        filesystem, _ = filesystem_of(iceberg)
        files = size = 0
        for found in stored(iceberg):
            if found.path not in kept and found.written < before:
                try:
                    filesystem.delete_file(found.path)
                except FileNotFoundError:  # another publish's tidy took it first
                    continue
                files, size = files + 1, size + found.size
        if old or files:
            log.info("table tidied", extra={"table": table, "snapshots": len(old), "files": files, "bytes": size})
        return Tidied(table, len(old), files, size)

    def erase_rows(self, table: str, where: Mapping[str, Sequence[str]], blank: Sequence[str] | None) -> int:
        from pyiceberg.expressions import And, In

        iceberg = self._loaded(table)
        if iceberg is None:
            return 0
        # In's runtime signature is (term, literals); mypy reads its pydantic fields instead.
        conditions = [In(column, set(values)) for column, values in where.items()]  # type: ignore[call-arg, arg-type]
        matching = conditions[0] if len(conditions) == 1 else And(*conditions)
        replaced = rewrites(iceberg, matching, where, blank, self._row_group_rows)
        if replaced is None:
            with self._commits:
                return _erase_through_pyiceberg(table, iceberg, matching, where, blank)
        if replaced:
            with (
                self._commits,
                _one_writer(table),
                iceberg.transaction() as transaction,
                transaction.update_snapshot().overwrite() as overwrite,
            ):
                for old, new, _ in replaced:
                    overwrite.delete_data_file(old)
                    if new is not None:
                        overwrite.append_data_file(new)
        rows = sum(rewrite.rows for rewrite in replaced)
        log.info("rows erased", extra={"table": table, "rows": rows, "files": len(replaced)})
        return rows

    def forget_history(self, table: str) -> Tidied:
        iceberg = self._loaded(table)
        current = None if iceberg is None else iceberg.current_snapshot()
        if iceberg is None or current is None:
            return Tidied(table, 0, 0, 0)
        old = [snapshot.snapshot_id for snapshot in iceberg.snapshots() if snapshot.snapshot_id != current.snapshot_id]
        before = referenced(iceberg)
        if old:
            with self._commits, _one_writer(table):
                iceberg.maintenance.expire_snapshots().by_ids(old).commit()
            iceberg = self._catalog.load_table((self._namespace, table))
        filesystem, _ = filesystem_of(iceberg)
        gone = sorted(before - referenced(iceberg))
        size = 0
        for path in gone:
            with contextlib.suppress(FileNotFoundError):
                size += int(filesystem.get_file_info(path).size or 0)
                filesystem.delete_file(path)
        log.info("table history forgotten", extra={"table": table, "snapshots": len(old), "files": len(gone)})
        return Tidied(table, len(old), len(gone), size, tuple(_key_in_bucket(filesystem, path) for path in gone))

    def scan(self, table: str, ingested_since: date | None = None) -> ArrowSource | None:
        """The current snapshot's data files as a pyarrow dataset on the table's filesystem
        (the engine reads the columns and row groups it needs, as it goes). Files with rows
        deleted by delete files (what Athena's DELETE writes; this adapter's deletes rewrite
        files instead) are read through pyiceberg, which applies them."""
        import pyarrow.dataset as ds
        from pyiceberg.io.pyarrow import PyArrowFileIO, schema_to_pyarrow

        iceberg = self._loaded(table)
        if iceberg is None:
            return None
        by_date = ingested_since is not None and INGEST_DATE in iceberg.schema().column_names
        scan = iceberg.scan(row_filter=f"{INGEST_DATE} >= '{ingested_since}'" if by_date else "true")
        tasks = list(scan.plan_files())
        schema = schema_to_pyarrow(iceberg.schema(), include_field_ids=False)
        if any(task.delete_files for task in tasks):
            return scan.to_arrow()
        filesystem, _ = filesystem_of(iceberg)
        paths = [PyArrowFileIO.parse_location(task.file.file_path)[2] for task in tasks]
        return ds.dataset(paths, schema=schema, format="parquet", filesystem=filesystem)

    def files(self, table: str) -> list[str]:
        """The data files of the table's current snapshot (what a reader reads)."""
        iceberg = self._catalog.load_table((self._namespace, table))
        return [task.file.file_path for task in iceberg.scan().plan_files()]

    def _table(self, name: str, schema: pa.Schema, partition_by: str | None) -> Table:
        from pyiceberg.exceptions import NoSuchTableError

        identifier = (self._namespace, name)
        try:
            iceberg = self._catalog.load_table(identifier)
        except NoSuchTableError:
            if self._creates_namespace:
                self._catalog.create_namespace_if_not_exists(self._namespace)
            iceberg = self._catalog.create_table_if_not_exists(identifier, schema=schema, properties=PROPERTIES)
            if partition_by and not iceberg.spec().fields:
                with iceberg.update_spec() as spec:
                    spec.add_identity(partition_by)
                iceberg = self._catalog.load_table(identifier)
        if set(iceberg.schema().column_names) != set(schema.names):  # a column added since
            with iceberg.update_schema() as update:
                update.union_by_name(schema)
            iceberg = self._catalog.load_table(identifier)
        return iceberg

    def _write(
        self, iceberg: Table, folder: str, schema: pa.Schema, batches: Iterable[pa.RecordBatch]
    ) -> Iterator[tuple[str, int, int]]:
        """Parquet files of ``batches`` in ``folder``, rolled at the target size: (path, rows, bytes)."""
        writer: pq.ParquetWriter | None = None
        stream, path, rows = None, "", 0
        for group in _row_groups(batches, schema, self._row_group_rows):
            if writer is None:
                path = f"{folder}/{uuid.uuid4().hex}.parquet"
                stream = iceberg.io.new_output(path).create(overwrite=True)
                writer = pq.ParquetWriter(stream, schema, compression="zstd")
            writer.write_table(group)
            rows += group.num_rows
            if stream is not None and stream.tell() >= self._target:
                yield path, rows, _finish(writer, stream)
                writer, rows = None, 0
        if writer is not None and stream is not None:
            yield path, rows, _finish(writer, stream)


def _finish(writer: pq.ParquetWriter, stream: pa.NativeFile) -> int:
    """Close the file (the footer, then the upload); its size."""
    writer.close()
    size = stream.tell()
    stream.close()
    return int(size)


def _row_groups(batches: Iterable[pa.RecordBatch], schema: pa.Schema, rows: int) -> Iterator[pa.Table]:
    """``batches`` gathered into tables of ``rows`` or more (the last one fewer): a row group
    per staged file would be as small as the files are."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        if count >= rows:
            yield pa.Table.from_batches(pending, schema).combine_chunks()
            pending, count = [], 0
    if count:
        yield pa.Table.from_batches(pending, schema).combine_chunks()


@contextlib.contextmanager
def _one_writer(table: str) -> Iterator[None]:
    """pyiceberg's refusals of a commit a concurrent one made stale, as the port's error: its
    own retries could only re-apply a delete planned on the table as it was."""
    from pyiceberg.exceptions import CommitFailedException, ValidationException

    try:
        yield
    except (CommitFailedException, ValidationException) as err:
        log.warning("commit refused: the table changed meanwhile", extra={"table": table, "error": str(err)})
        raise TableChanged(f"another publish changed {table} meanwhile: run servicepipe publish again") from err


def _erase_through_pyiceberg(
    table: str,
    iceberg: Table,
    matching: BooleanExpression,
    where: Mapping[str, Sequence[str]],
    blank: Sequence[str] | None,
) -> int:
    """The erasure by pyiceberg's copy-on-write delete, which applies a file's delete files;
    rows that stay blanked are appended after it."""
    columns = tuple(where) if blank is None else ("*",)
    rows = iceberg.scan(row_filter=matching, selected_fields=columns).to_arrow()
    if not rows.num_rows:
        return 0
    with _one_writer(table), iceberg.transaction() as transaction:
        transaction.delete(matching)
        if blank is not None:
            for column in blank:
                field = rows.schema.field(column)
                rows = rows.set_column(rows.schema.get_field_index(column), field, pa.nulls(rows.num_rows, field.type))
            transaction.append(rows)
    log.info("rows erased", extra={"table": table, "rows": rows.num_rows})
    return int(rows.num_rows)


def _holds(iceberg: Table, where: str | BooleanExpression) -> bool:
    """Whether any data file of the current snapshot may hold rows ``where`` is true (a delete
    that matches nothing would warn, and commit an empty snapshot)."""
    return any(True for _ in iceberg.scan(row_filter=where).plan_files())


def _key_in_bucket(filesystem: FileSystem, path: str) -> str:
    """A path on S3 is ``bucket/key``: the key; a local path stays as it is."""
    return path.split("/", 1)[1] if filesystem.type_name == "s3" else path


def _version_property(ingest_date: date) -> str:
    return f"servicepipe.published.{ingest_date.isoformat()}"


def _committed(table: str, written: list[tuple[str, int, int]]) -> Committed:
    return Committed(table, len(written), sum(r for _, r, _ in written), sum(b for _, _, b in written))
