"""PublishTables: the worker's committed per-file outputs of a date, published as the
analytics tables (docs/analytics.md, "Committed, compacted tables").

A date's committed set is what its manifests list (a manifest is written last, when all of a
raw file's outputs are). For each table by ingestion date, in ``BY_DATE``'s order (line tables
before facts), the date's staged rows replace the table's date in one commit, streamed a
row group at a time. Then each dimension's history and current rows are rebuilt whole from its
changes. Recomputing a whole date makes publishing idempotent: a replay or a late file changes
the date once, never doubles it.

Without dates given, a date is published when its manifests changed since it was last
published: each commit notes, with the date's rows, a digest of the manifests (and their
versions) it was made from, so the note cannot disagree with the tables.

Last, each table is tidied: snapshots older than ``SNAPSHOT_RETENTION`` are forgotten and the
files no snapshot kept refers to are deleted (docs/analytics.md, "Maintenance").
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from application.analytics.table_catalog import Committed, TableCatalog, TableChanged, Tidied
from application.errors import ObjectNotFound
from application.ports import Clock, ObjectStore
from application.storage_keys import MANIFEST_PREFIX, PARQUET_PREFIX, REJECTED_PREFIX
from domain import rejected_rows
from domain.analytics_tables import (
    BY_DATE,
    DIMENSIONS,
    FACT_AND_LINES,
    INGEST_DATE,
    SCHEMAS,
    STAGED_AS,
    changes,
    changes_table,
    current,
    history,
    history_table,
)
from domain.rejected_rows import REJECTED_ROWS

log = logging.getLogger(__name__)


DIMENSIONS_REBUILT = "dimensions"  # the key of a problem rebuilding them, beside the dates'
TIDYING = "tidying"  # the key of a problem tidying the tables
# How far back a reader can still query the tables as they were (Athena's FOR TIMESTAMP AS OF),
# and how long a query that started on an older snapshot can still read its files.
SNAPSHOT_RETENTION = timedelta(days=7)


class StagedOutputMissing(Exception):
    """A manifest lists an output that cannot be read: the date is left as last published."""


@dataclass
class PublishReport:
    dates: list[str] = field(default_factory=list)  # published now
    unchanged: list[str] = field(default_factory=list)  # already published as they are
    problems: dict[str, str] = field(default_factory=dict)  # date (or "dimensions") -> what stopped it
    tables: dict[str, Committed] = field(default_factory=dict)  # the last commit of each table
    tidied: dict[str, Tidied] = field(default_factory=dict)  # the tables something was removed from

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {
            "dates_published": self.dates,
            "dates_unchanged": len(self.unchanged),
            "problems": self.problems,
            "tables": {name: c.__dict__ for name, c in sorted(self.tables.items())},
            "tidied": {name: t.__dict__ for name, t in sorted(self.tidied.items())},
        }


class PublishTables:
    def __init__(self, cleaned: ObjectStore, errors: ObjectStore, catalog: TableCatalog, clock: Clock) -> None:
        self._cleaned, self._errors, self._catalog, self._clock = cleaned, errors, catalog, clock

    def __call__(self, dates: Sequence[str] | None = None) -> PublishReport:
        """Publish ``dates`` (YYYY-MM-DD) whatever their state, or else every date whose
        manifests changed since it was last published; then rebuild the dimensions."""
        report = PublishReport()
        for day in sorted(set(dates) if dates else self._staged_dates()):
            manifests = self._manifests(day)  # read before the outputs: a later file waits for the next run
            version = _digest(manifests)
            if not dates and self._published(day, version):
                report.unchanged.append(day)
                continue
            try:
                self._publish_date(day, manifests, version, report)
            except (StagedOutputMissing, TableChanged) as err:
                report.problems[day] = str(err)
                log.info("date not published", extra={"date": day, "error": str(err)})  # the report says it
                continue
            report.dates.append(day)
        try:
            for dimension in DIMENSIONS:
                self._rebuild(dimension, report)
        except TableChanged as err:  # the next run rebuilds them: they are noted as built from older changes
            report.problems[DIMENSIONS_REBUILT] = str(err)
        self._tidy(report)
        return report

    def _tidy(self, report: PublishReport) -> None:
        before = self._clock.now() - SNAPSHOT_RETENTION
        for name in SCHEMAS:
            try:
                tidied = self._catalog.tidy(name, before)
            except TableChanged as err:  # what it would have removed waits for the next run
                report.problems[TIDYING] = str(err)
                continue
            if tidied.snapshots or tidied.files:
                report.tidied[name] = tidied

    def pending(self) -> list[str]:
        """The processed dates whose files changed since they were last published (or that
        never were): what the analytics tables do not hold yet."""
        return [day for day in self._staged_dates() if not self._published(day, date_version(self._cleaned, day))]

    def _published(self, day: str, version: str) -> bool:
        return published_as_is(self._catalog, day, version)

    def _staged_dates(self) -> list[str]:
        start = len(f"{MANIFEST_PREFIX}date=")
        days = {key[start : start + 10] for key in self._cleaned.list_keys(MANIFEST_PREFIX)}
        return sorted(day for day in days if _is_date(day))

    def _manifests(self, day: str) -> dict[str, str]:
        return manifests_of(self._cleaned, day)

    def _publish_date(self, day: str, manifests: dict[str, str], version: str, report: PublishReport) -> None:
        staged, rejected = self._staged_outputs(manifests)
        ingest_date = date.fromisoformat(day)
        rows = self._rejected_rows(rejected, ingest_date)
        report.tables[REJECTED_ROWS] = self._catalog.replace_date(
            REJECTED_ROWS, SCHEMAS[REJECTED_ROWS], ingest_date, rows, version
        )
        for name in BY_DATE:
            schema, keys = SCHEMAS[name], staged[STAGED_AS[name]]
            if name in FACT_AND_LINES:
                batches: Iterable[pa.RecordBatch] = self._batches(keys, name, ingest_date)
            else:  # a dimension's changes need the date's rows together
                batches = self._changes(name, keys, ingest_date)
            report.tables[name] = self._catalog.replace_date(name, schema, ingest_date, batches, version)
        log.info("date published", extra={"date": day, "raw_files": len(manifests)})

    def _staged_outputs(self, manifests: dict[str, str]) -> tuple[dict[str, list[str]], dict[str, str]]:
        """Per staged table, the Parquet outputs the manifests list; and the rejected rows'
        files (in the error store) with the raw file each came from."""
        outputs: dict[str, list[str]] = defaultdict(list)
        rejected: dict[str, str] = {}
        for key in sorted(manifests):
            try:
                manifest = orjson.loads(self._cleaned.read_bytes(key))
            except (ObjectNotFound, orjson.JSONDecodeError) as err:
                raise StagedOutputMissing(f"manifest {key} cannot be read ({err}): replay its raw file") from err
            for output in manifest.get("outputs", []):
                if isinstance(output, str) and output.startswith(PARQUET_PREFIX) and output.endswith(".parquet"):
                    outputs[output[len(PARQUET_PREFIX) :].split("/", 1)[0]].append(output)
                elif isinstance(output, str) and output.startswith(REJECTED_PREFIX):
                    rejected[output] = str(manifest.get("raw_key", ""))
        # Every output there before anything is committed: a date is never half published
        # (one listing per folder, not a request per file).
        _all_present(self._cleaned, [key for keys in outputs.values() for key in keys])
        _all_present(self._errors, list(rejected))
        return outputs, rejected

    def _rejected_rows(self, files: dict[str, str], ingest_date: date) -> list[pa.RecordBatch]:
        parts = []
        for key, source_file in sorted(files.items()):
            try:
                parts.append(rejected_rows.rejected_rows(self._errors.read_bytes(key), source_file))
            except ObjectNotFound as err:
                raise StagedOutputMissing(_missing(key)) from err
        rows = pa.concat_tables(parts) if parts else rejected_rows.SCHEMA.empty_table()
        return with_ingest_date(rows, SCHEMAS[REJECTED_ROWS], ingest_date).to_batches()

    def _changes(self, name: str, keys: list[str], ingest_date: date) -> list[pa.RecordBatch]:
        rows = pa.Table.from_batches(list(self._batches(keys, name, None)), _staged_schema(name))
        return with_ingest_date(changes(STAGED_AS[name], rows), SCHEMAS[name], ingest_date).to_batches()

    def _batches(self, keys: list[str], name: str, ingest_date: date | None) -> Iterator[pa.RecordBatch]:
        """Each staged file's rows, a row group at a time, as table ``name`` stages them (with
        ``ingest_date`` added when given)."""
        staged_schema = _staged_schema(name)
        for key in keys:
            try:
                data = self._cleaned.read_bytes(key)
            except ObjectNotFound as err:
                raise StagedOutputMissing(_missing(key)) from err
            parquet = pq.ParquetFile(io.BytesIO(data))
            for group in range(parquet.num_row_groups):
                table = parquet.read_row_group(group).select(staged_schema.names).cast(staged_schema)
                if ingest_date is not None:
                    table = with_ingest_date(table, SCHEMAS[name], ingest_date)
                yield from table.to_batches()

    def _rebuild(self, dimension: str, report: PublishReport) -> None:
        """The dimension's history and current rows from its changes, unless both were built
        from the changes as they are (a rebuild that failed is made by the next run)."""
        source = self._catalog.snapshot(changes_table(dimension))
        if source is None:
            return  # nothing published yet
        built = {self._catalog.built_from(history_table(dimension)), self._catalog.built_from(dimension)}
        if built == {source}:
            return
        all_changes = self._catalog.read(changes_table(dimension))
        if all_changes is None:
            return
        versions = history(dimension, all_changes)
        report.tables[history_table(dimension)] = self._catalog.replace_all(
            history_table(dimension), SCHEMAS[history_table(dimension)], versions, source
        )
        latest = current(dimension, versions)
        report.tables[dimension] = self._catalog.replace_all(dimension, SCHEMAS[dimension], latest, source)


def manifests_of(cleaned: ObjectStore, day: str) -> dict[str, str]:
    """The date's manifests and their versions (a replay writes a new version)."""
    return {
        info.key: info.version or f"{info.size}@{info.last_modified.isoformat()}"
        for info in cleaned.list_objects(f"{MANIFEST_PREFIX}date={day}/")
        if info.key.endswith(".json")
    }


def date_version(cleaned: ObjectStore, day: str) -> str:
    """What a date is published as: a digest of its manifests and their versions."""
    return _digest(manifests_of(cleaned, day))


def published_as_is(catalog: TableCatalog, day: str, version: str) -> bool:
    """Whether the date was last published as ``version``: its first table and its last
    (those a publish commits first and last) note it, so all of the date's tables hold it.
    The first is asked too for a table added since (rejected_rows): a date published before
    it existed is published again."""
    ingest_date = date.fromisoformat(day)
    return all(catalog.published_version(table, ingest_date) == version for table in (REJECTED_ROWS, BY_DATE[-1]))


def _staged_schema(name: str) -> pa.Schema:
    schema = SCHEMAS[name]
    return schema.remove(schema.get_field_index(INGEST_DATE))


def with_ingest_date(table: pa.Table, schema: pa.Schema, ingest_date: date) -> pa.Table:
    column = pa.repeat(pa.scalar(ingest_date, pa.date32()), table.num_rows)
    return table.append_column(schema.field(INGEST_DATE), column).cast(schema)


def _all_present(store: ObjectStore, keys: list[str]) -> None:
    folders = {key.rsplit("/", 1)[0] + "/" for key in keys}
    present = {found for folder in folders for found in store.list_keys(folder)}
    for key in keys:
        if key not in present:
            raise StagedOutputMissing(_missing(key))


def _missing(key: str) -> str:
    return f"output {key} is listed in its manifest but missing: replay its raw file"


def _digest(manifests: dict[str, str]) -> str:
    """One text for a date's manifests and their versions."""
    return hashlib.sha256(orjson.dumps(manifests, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True
