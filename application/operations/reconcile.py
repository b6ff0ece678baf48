"""Reconcile: for one date, every row of every raw file accounted for across the stores.

The raw file's rows are counted twice, by the worker's reader and by a JSON parser
(``raw_row_count``): a file on which they disagree is named.

A row of a raw file must be in exactly one of the cleaned data (JSON Lines and the fact
Parquet, which must agree) or the error store (a rejected row, or its whole file unreadable).
A cleaned row of a file the loader has loaded must be in the table, as this version or a newer
correction. Once the date is published as its files are now, each cleaned row is in the
published fact table once and each rejected row in the published rejected rows. Every row in
none or in two is named; read-only, so it may be run at any time.
"""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass, field

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from application.analytics.table_catalog import TableCatalog
from application.errors import ObjectNotFound, UnreadableFile
from application.loading.load_batch import canonical_instant
from application.operations.published_rows import published_rows
from application.operations.raw_row_count import RowCount, count_rows
from application.ports import ObjectStore, RecordRepository
from application.processing.raw_reader import RECORD_INDEX, read_batches
from application.storage_keys import (
    ERROR_PREFIXES,
    LOAD_LEDGER_PREFIX,
    MANIFEST_PREFIX,
    RAW_PREFIX,
    OutputKeys,
    date_partition,
    ledger_entry,
    output_keys,
)
from domain.analytics_tables import FACT_TABLE
from domain.record_identity import content_hash, key_of

IDS_PER_LOOKUP = 1_000
_CLEANED_FIELDS = pa.schema([("record_index", pa.int64())])  # the records themselves: _check_table
_REJECTED_FIELDS = pa.schema([("index", pa.int64())])


class UnreadableOutput(Exception):
    """An output of a processed file that is missing or cannot be read."""


@dataclass(frozen=True)
class Problem:
    """A row (or a whole file, ``record_index`` None) that is in none of the places, or in two."""

    raw_key: str
    record_index: int | None
    problem: str
    dealer_id: str | None = None
    service_record_id: str | None = None


@dataclass
class Reconciliation:
    date: str
    raw_files: int = 0
    raw_rows: int = 0
    cleaned_rows: int = 0
    rejected_rows: int = 0
    unreadable_files: int = 0
    unprocessed_files: int = 0
    loaded_rows: int = 0  # cleaned rows of loaded files that the table holds (or a newer version)
    awaiting_load_rows: int = 0  # cleaned rows of files the loader has not loaded yet
    published_rows: int = 0  # fact rows of the date in the published tables
    awaiting_publish_rows: int = 0  # cleaned rows of a date changed since it was published (or never)
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {**asdict(self), "ok": self.ok}


class Reconcile:
    def __init__(
        self,
        raw: ObjectStore,
        cleaned: ObjectStore,
        errors: ObjectStore,
        repository: RecordRepository,
        catalog: TableCatalog,
    ):
        self._raw, self._cleaned, self._errors, self._repository = raw, cleaned, errors, repository
        self._catalog = catalog
        self._rows: dict[str, list[tuple[str, np.ndarray]]] = {}  # cleaned and rejected rows, per file

    def __call__(self, date: str) -> Reconciliation:
        """Reconcile the raw files that arrived on ``date`` (YYYY-MM-DD)."""
        report = Reconciliation(date)
        self._rows = {"cleaned": [], "rejected": []}
        loaded = {ledger_entry(key) for key in self._cleaned.list_keys(date_partition(LOAD_LEDGER_PREFIX, date))}
        manifests_seen: set[str] = set()
        for info in self._raw.list_objects(f"{RAW_PREFIX}date={date}/"):
            report.raw_files += 1
            keys = output_keys(info.key, info.last_modified)
            manifests_seen.add(keys.manifest)
            try:
                manifest_info = self._cleaned.head(keys.manifest)
            except ObjectNotFound:
                rows = self._raw_rows(info.key)
                report.unprocessed_files += 1
                report.raw_rows += len(rows) if rows is not None else 0
                count = "unknown" if rows is None else f"{len(rows):,}"
                report.problems.append(Problem(info.key, None, f"in none: not processed yet ({count} rows)"))
                continue
            try:
                manifest = json.loads(self._cleaned.read_bytes(keys.manifest))
                if not isinstance(manifest, dict):
                    raise ValueError("not a JSON object")
            except ValueError as err:  # truncated, or not JSON
                problem = f"its manifest {keys.manifest} cannot be read ({err}): replay the raw file"
                report.problems.append(Problem(info.key, None, problem))
                continue
            try:
                self._reconcile_file(keys, manifest, (keys.manifest, manifest_info.version) in loaded, report)
            except UnreadableOutput as err:
                report.problems.append(Problem(info.key, None, str(err)))
        self._outputs_without_raw(date, manifests_seen, report)
        checked = published_rows(self._catalog, self._cleaned, date, self._rows)
        report.published_rows, report.awaiting_publish_rows = checked.rows, checked.awaiting
        report.problems.extend(Problem(raw_key, index, problem) for raw_key, index, problem in checked.problems)
        return report

    def _outputs_without_raw(self, date: str, manifests_seen: set[str], report: Reconciliation) -> None:
        """Processed outputs whose raw file is gone: the system of record for replay."""
        for key in self._cleaned.list_keys(f"{MANIFEST_PREFIX}date={date}/"):
            if key.endswith(".json") and key not in manifests_seen:
                problem = f"outputs ({key}) whose raw file is gone: restore it from a backup, or delete the outputs"
                report.problems.append(Problem(key, None, problem))

    def _check_outputs(self, raw_key: str, manifest: dict, report: Reconciliation) -> None:
        """Every output the manifest lists can be read (Parquet, JSON Lines line by line),
        or ``UnreadableOutput`` names the first that cannot. A missing one is named too: the
        files of rows by the row checks that follow, the tables without rows here."""
        for key in manifest.get("outputs", []):
            store = self._errors if key.startswith(ERROR_PREFIXES) else self._cleaned
            try:
                data = store.read_bytes(key)
            except ObjectNotFound:
                if key.endswith(".parquet") and f"/{FACT_TABLE}/" not in key:
                    report.problems.append(Problem(raw_key, None, f"its output {key} is missing: replay the raw file"))
                continue
            try:
                if key.endswith(".parquet"):
                    pq.read_table(io.BytesIO(data))
                elif key.endswith(".jsonl"):
                    _every_line_json(data)
            except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, ValueError) as err:
                raise UnreadableOutput(f"its output {key} cannot be read ({err}): replay the raw file") from err

    def _reconcile_file(self, keys: OutputKeys, manifest: dict, was_loaded: bool, report: Reconciliation) -> None:
        raw_key = keys.raw_key
        if manifest.get("status") != "unreadable":
            self._check_outputs(raw_key, manifest, report)
        rows = self._raw_rows(raw_key)
        cleaned = self._cleaned_rows(keys.cleaned_jsonl)
        counted = self._counted_rows(raw_key)
        if rows is None or manifest.get("status") == "unreadable":
            report.unreadable_files += 1
            if counted.complete and counted.rows:
                problem = f"unreadable to the worker, yet a JSON parser reads {counted.rows:,} rows in it"
                report.problems.append(Problem(raw_key, None, problem))
            if not self._errors.exists(keys.unreadable):
                report.problems.append(Problem(raw_key, None, "in none: unreadable, but not in the error store"))
            if cleaned is not None and cleaned.num_rows:
                report.problems.append(Problem(raw_key, None, "in two: unreadable, yet it has cleaned rows"))
            return
        report.raw_rows += len(rows)
        if len(rows) != counted.rows if counted.complete else len(rows) < counted.rows:
            more = "" if counted.complete else " or more"
            problem = f"the worker read {len(rows):,} rows, a JSON parser counts {counted.rows:,}{more}"
            report.problems.append(Problem(raw_key, None, problem))
        cleaned = cleaned if cleaned is not None else pa.Table.from_pylist([], schema=_CLEANED_FIELDS)
        cleaned_index = cleaned.column("record_index").to_numpy(zero_copy_only=False)
        rejected_index = self._rejected_indices(keys.rejected)
        report.cleaned_rows += len(cleaned_index)
        report.rejected_rows += len(rejected_index)
        self._rows["cleaned"].append((raw_key, cleaned_index))
        self._rows["rejected"].append((raw_key, np.unique(rejected_index)))
        places = np.concatenate([cleaned_index, rejected_index])
        found, counts = np.unique(places, return_counts=True)
        for index in np.setdiff1d(rows, found):
            report.problems.append(Problem(raw_key, int(index), "in none: neither cleaned nor rejected"))
        for index in found[counts > 1]:
            where = _where(int(index), cleaned_index, rejected_index)
            report.problems.append(Problem(raw_key, int(index), f"in two: {where}"))
        for index in np.setdiff1d(found, rows):
            report.problems.append(Problem(raw_key, int(index), "in an output, but the raw file has no such row"))
        fact = self._fact_indices(keys.parquet(FACT_TABLE))
        for index in np.setxor1d(fact, cleaned_index):
            report.problems.append(Problem(raw_key, int(index), "cleaned JSON Lines and fact Parquet disagree"))
        if was_loaded:
            self._check_table(raw_key, keys.cleaned_jsonl, report)
        else:
            report.awaiting_load_rows += cleaned.num_rows

    def _check_table(self, raw_key: str, key: str, report: Reconciliation) -> None:
        """Each cleaned record of a loaded file is in the table: this version (the same
        content, by ``content_hash``) or a newer correction. Read as the loader reads it."""
        batch: list[dict] = []
        with self._cleaned.open_read(key) as stream:
            for line in stream:
                if line.strip():
                    record = json.loads(line)
                    record["ingested_at"] = canonical_instant(str(record["ingested_at"]))
                    batch.append(record)
                if len(batch) >= IDS_PER_LOOKUP:
                    self._compare_with_table(raw_key, batch, report)
                    batch = []
        if batch:
            self._compare_with_table(raw_key, batch, report)

    def _compare_with_table(self, raw_key: str, records: list[dict], report: Reconciliation) -> None:
        keys = [key_of(record) for record in records]
        stored = self._repository.stored_versions(keys)
        for key, record in zip(keys, records, strict=True):
            index, held = record.get("record_index"), stored.get(key)
            held_at = _instant_or_none(held.ingested_at) if held is not None else None
            if held is None:
                report.problems.append(Problem(raw_key, index, "not in the table, though loaded", *key))
            elif held_at is not None and held_at > record["ingested_at"]:
                report.loaded_rows += 1  # a newer correction
            elif held_at == record["ingested_at"] and held.content_hash == content_hash(record):
                report.loaded_rows += 1
            elif held_at == record["ingested_at"]:
                problem = (
                    "the table's record differs from its cleaned line, at the same ingested_at (changed in place?)"
                )
                report.problems.append(Problem(raw_key, index, problem, *key))
            else:
                problem = f"the table holds an older version ({held.ingested_at or 'no ingested_at'}), though loaded"
                report.problems.append(Problem(raw_key, index, problem, *key))

    def _raw_rows(self, raw_key: str) -> np.ndarray | None:
        """The record index of every row of the raw file; None if it holds no records at all."""
        parts: list[np.ndarray] = []
        try:
            with self._raw.open_read(raw_key) as stream:
                for batch in read_batches(stream):
                    parts.append(batch.table.column(RECORD_INDEX).to_numpy(zero_copy_only=False))
                    parts.append(np.array([r.index for r in batch.rejected], dtype=np.int64))
        except UnreadableFile:
            return None
        return np.unique(np.concatenate(parts)) if parts else np.array([], dtype=np.int64)

    def _counted_rows(self, raw_key: str) -> RowCount:
        """The raw file's rows by a JSON parser, not the worker's reader (raw_row_count)."""
        with self._raw.open_read(raw_key) as stream:
            return count_rows(stream)

    def _cleaned_rows(self, key: str) -> pa.Table | None:
        return _json_lines(self._cleaned, key, _CLEANED_FIELDS)

    def _rejected_indices(self, key: str) -> np.ndarray:
        table = _json_lines(self._errors, key, _REJECTED_FIELDS)
        return np.array([], dtype=np.int64) if table is None else table.column("index").to_numpy(zero_copy_only=False)

    def _fact_indices(self, key: str) -> np.ndarray:
        try:
            data = self._cleaned.read_bytes(key)
        except ObjectNotFound:
            return np.array([], dtype=np.int64)
        return pq.read_table(io.BytesIO(data), columns=["record_index"]).column(0).to_numpy(zero_copy_only=False)


def _json_lines(store: ObjectStore, key: str, schema: pa.Schema) -> pa.Table | None:
    """Only ``schema``'s fields of a JSON Lines object; None if there is no such object."""
    try:
        data = store.read_bytes(key)
    except ObjectNotFound:
        return None
    if not data.strip():
        return pa.Table.from_pylist([], schema=schema)
    options = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    return pa_json.read_json(io.BytesIO(data), parse_options=options)


def _where(index: int, cleaned: np.ndarray, rejected: np.ndarray) -> str:
    in_cleaned, in_rejected = int((cleaned == index).sum()), int((rejected == index).sum())
    parts = [f"cleaned x{in_cleaned}" if in_cleaned else "", f"rejected x{in_rejected}" if in_rejected else ""]
    return " and ".join(p for p in parts if p)


def _instant_or_none(text: str) -> str | None:
    """``text`` as canonical UTC text, or None if it is not an instant (another tool's)."""
    try:
        return canonical_instant(text)
    except ValueError:
        return None


def _every_line_json(data: bytes) -> None:
    """Raise ``ValueError`` naming the first line of ``data`` that is not a JSON object (a
    JSON parser per line: pyarrow's reader would also refuse a value whose type varies from
    row to row, as a rejected row's refused value does)."""
    for number, line in enumerate(data.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = orjson.loads(line)
        except orjson.JSONDecodeError as err:
            raise ValueError(f"line {number:,} is not JSON: {err}") from err
        if not isinstance(value, dict):
            raise ValueError(f"line {number:,} is not a JSON object")
