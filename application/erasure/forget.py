"""ForgetPerson: a customer's (or one record's) personal data erased from every store, provably.

The record index names the raw files that hold the person; only those are read. Each is
rewritten without the person (``raw_rewrite``), its earlier versions deleted, and processed
again, as it was judged the first time, which rewrites everything made from it: the star-schema
Parquet and JSON Lines of the cleaned zone, the rejected rows and unreadable copies of the
error store (what a submission's status reports), the manifest. The table's items are replaced
by the new cleaned lines (newer-wins keeps a later correction); the analytics tables lose the
person's rows (only the files that hold them) and then their history, each table on a thread of
its own while the raw files are rewritten; the index forgets the person. Then every store
is searched (``TraceSearch``) and the request is noted in the audit trail with what each store
gave up.

Nothing brings the data back: every later replay, redrive, load or publish reads what was
rewritten. Running a request again finds nothing held and changes nothing.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime

import orjson

from application.analytics.table_catalog import TableCatalog, Tidied
from application.erasure.erasure_log import ERASED, NOTHING_HELD, TRACES_LEFT, ErasureLog, ErasureRecord
from application.erasure.person_rows import Person
from application.erasure.pseudonym_key import PseudonymKey
from application.erasure.raw_rewrite import rewrite_raw
from application.erasure.record_index import CUSTOMER_LOOKUP, Holding, RecordIndex, customer_lookup, record_lookup
from application.erasure.row_notes import RowNotes
from application.erasure.traces import TraceSearch
from application.errors import ObjectNotFound, RawFileMissing
from application.loading.load_batch import canonical_instant
from application.ports import Clock, ObjectStore, RecordRepository, ScratchSpace
from application.processing.process_raw_file import ProcessRawFile
from application.storage_keys import ERROR_PREFIXES, UNREADABLE_PREFIX, OutputKeys, output_keys
from domain.analytics_tables import SCHEMAS
from domain.erasure import ErasureTarget, customer_id_of, customer_token
from domain.published_erasure import TableErasure, published_erasures
from domain.record_identity import RecordKey

log = logging.getLogger(__name__)
_REASON = ".reason.json"


@dataclass
class _Erased:
    """What one request changed, store by store."""

    raw_files: list[str] = field(default_factory=list)
    raw_versions: int = 0
    cleaned_files: list[str] = field(default_factory=list)
    error_files: list[str] = field(default_factory=list)
    output_versions: int = 0
    table_items: int = 0
    analytics_rows: int = 0
    analytics_files: int = 0
    index_rows: int = 0
    records: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    reprocessed: list[OutputKeys] = field(default_factory=list)

    def as_changes(self) -> dict[str, object]:
        return {
            "raw": {"files_rewritten": self.raw_files, "earlier_versions_deleted": self.raw_versions},
            "cleaned": {"files_rewritten": self.cleaned_files},
            "errors": {"files_rewritten": self.error_files},
            "earlier_output_versions_deleted": self.output_versions,
            "table": {"items_erased": self.table_items},
            "analytics": {"rows_erased": self.analytics_rows, "old_files_deleted": self.analytics_files},
            "index": {"rows_forgotten": self.index_rows},
        }

    @property
    def anything(self) -> bool:
        return bool(
            self.raw_files
            or self.raw_versions
            or self.output_versions
            or self.table_items
            or self.analytics_rows
            or self.analytics_files
            or self.index_rows
        )


class ForgetPerson:
    def __init__(
        self,
        raw: ObjectStore,
        cleaned: ObjectStore,
        errors: ObjectStore,
        index: RecordIndex,
        key: PseudonymKey,
        repository: RecordRepository,
        catalog: TableCatalog | None,
        clock: Clock,
        scratch: ScratchSpace | None = None,
        new_id: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._raw, self._cleaned, self._errors, self._index = raw, cleaned, errors, index
        self._key, self._repository, self._catalog, self._clock = key, repository, catalog, clock
        self._new_id = new_id
        self._process = ProcessRawFile(raw, cleaned, errors, clock, scratch=scratch, notes=RowNotes(index, key))
        self._log = ErasureLog(raw)
        self._search = TraceSearch(raw, cleaned, errors, index, repository, catalog)

    def __call__(
        self, target: ErasureTarget, requested_by: str, request_id: str | None = None, requested_at: str | None = None
    ) -> ErasureRecord:
        """Carry out one request; ``request_id`` and ``requested_at`` are those of a request
        received earlier (through the API), else new."""
        token = None
        if target.customer_id is not None:
            token = customer_token(self._key.key(), target.dealer, target.customer_id)
        record = ErasureRecord(
            request_id=request_id or self._new_id(),
            requested_at=requested_at or self._clock.now().isoformat(),
            requested_by=requested_by,
            dealer_id=target.dealer,
            customer_token=token,
            service_record_id=target.service_record_id.strip() if target.service_record_id else None,
        )
        record.earlier_requests = self._log.for_person(record)
        holdings = self._holdings(target, token)
        erased = _Erased(records={h.service_record_id for h in holdings if h.service_record_id})
        raw_keys = sorted({h.raw_key for h in holdings})
        with ThreadPoolExecutor(max_workers=len(SCHEMAS), thread_name_prefix="erase-table") as pool:
            # The analytics tables' rewrites (their date's large files) run while the person's
            # raw files are: they need only the index's record ids, and share no file.
            published = self._start_published(pool, target, erased.records) if raw_keys else []
            for raw_key in raw_keys:
                self._erase_file(raw_key, target, erased)
            for raw_key in self._unreadable_holding(target, erased, set(raw_keys)):
                self._erase_file(raw_key, target, erased)
                raw_keys.append(raw_key)
            self._erase_table(target, erased)
            for table in published:
                self._count_published(*table.result(), erased)
        named = [h for h in holdings if h.lookup.startswith(CUSTOMER_LOOKUP)]
        self._index.remove(named)
        erased.index_rows = len(named)
        person = Person(target, frozenset(erased.records), frozenset(erased.names))
        traces = self._search(person, customer_lookup(token) if token else None, raw_keys)
        record.changed = erased.as_changes()
        record.traces = [trace.to_dict() for trace in traces]
        record.status = TRACES_LEFT if traces else (ERASED if erased.anything else NOTHING_HELD)
        record.finished_at = self._clock.now().isoformat()
        self._log.save(record)
        log.info(
            "erasure request carried out",
            extra={"request_id": record.request_id, "status": record.status, "raw_files": len(erased.raw_files)},
        )
        return record

    def _holdings(self, target: ErasureTarget, token: str | None) -> list[Holding]:
        """The index's rows of the person: a customer's by their token; a record's by its id,
        and, if its stored version names a customer, that customer's rows of the record."""
        if token is not None:
            return self._index.holding(target.dealer, customer_lookup(token))
        record_id = (target.service_record_id or "").strip()
        rows = self._index.holding(target.dealer, record_lookup(record_id))
        stored = self._repository.get(RecordKey(target.dealer, record_id))
        customer = customer_id_of(stored)
        if customer is not None:
            named = self._index.holding(
                target.dealer, customer_lookup(customer_token(self._key.key(), target.dealer, customer))
            )
            rows += [h for h in named if h.service_record_id == record_id]
        return rows

    def _unreadable_holding(self, target: ErasureTarget, erased: _Erased, seen: set[str]) -> list[str]:
        """The raw keys of unreadable files (no record could be read, so none was indexed)
        whose text names the customer: every one the error store keeps is looked at."""
        person = Person(target, names=frozenset(erased.names))
        found = []
        for key in self._errors.list_keys(UNREADABLE_PREFIX):
            if not key.endswith(_REASON):
                continue
            try:
                raw_key = str(orjson.loads(self._errors.read_bytes(key)).get("raw_key", ""))
                copy = self._errors.read_bytes(key[: -len(_REASON)])
            except (ObjectNotFound, orjson.JSONDecodeError):
                continue
            if raw_key and raw_key not in seen and person.in_text(copy):
                found.append(raw_key)
        return found

    def _erase_file(self, raw_key: str, target: ErasureTarget, erased: _Erased) -> None:
        try:
            info = self._raw.head(raw_key)
            data = self._raw.read_bytes(raw_key)
        except ObjectNotFound:
            log.warning("raw file of an erasure is gone", extra={"raw_key": raw_key})
            return
        before = output_keys(raw_key, info.last_modified)
        earlier = self._manifest(before)
        rewritten = rewrite_raw(data, target, erased.names)
        erased.names |= rewritten.names
        if rewritten.changed:
            self._raw.put_bytes(raw_key, rewritten.data, metadata=info.metadata, content_type=info.content_type or None)
            erased.raw_files.append(raw_key)
        erased.raw_versions += self._raw.purge_versions(raw_key)
        judged_at = _instant(earlier.get("processed_at")) if earlier else None
        try:
            result = self._process(raw_key, judged_at=judged_at)
        except RawFileMissing:
            return
        now = output_keys(raw_key, self._raw.head(raw_key).last_modified)
        erased.reprocessed.append(now)
        listed = earlier.get("outputs") if earlier else None
        old_outputs = [o for o in listed if isinstance(o, str)] if isinstance(listed, list) else []
        for output in sorted({*old_outputs, *result.outputs}):
            store = self._errors if output.startswith(ERROR_PREFIXES) else self._cleaned
            if output not in result.outputs:
                store.delete(output)  # a file dated anew (a raw key without a date): its old outputs go
            (erased.error_files if store is self._errors else erased.cleaned_files).append(output)
            erased.output_versions += store.purge_versions(output)
        if now.manifest != before.manifest:
            self._cleaned.delete(before.manifest)
        erased.output_versions += self._cleaned.purge_versions(before.manifest)

    def _manifest(self, keys: OutputKeys) -> dict[str, object] | None:
        try:
            body = orjson.loads(self._cleaned.read_bytes(keys.manifest))
        except (ObjectNotFound, orjson.JSONDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def _erase_table(self, target: ErasureTarget, erased: _Erased) -> None:
        """The table's items of the person's records, replaced by their new cleaned lines
        (the loader's newer-wins write: an item from a later file stays as it is)."""
        wanted = erased.records | ({target.service_record_id.strip()} if target.service_record_id else set())
        for keys in erased.reprocessed:
            lines = []
            try:
                with self._cleaned.open_read(keys.cleaned_jsonl) as stream:
                    for line in stream:
                        if line.strip():
                            item = orjson.loads(line)
                            if item.get("dealer_id") == target.dealer and item.get("service_record_id") in wanted:
                                item["ingested_at"] = canonical_instant(str(item["ingested_at"]))
                                lines.append(item)
            except ObjectNotFound:
                continue  # an unreadable file: nothing of it is in the table
            if lines:
                erased.table_items += self._repository.put_if_newer(lines)

    def _start_published(
        self, pool: ThreadPoolExecutor, target: ErasureTarget, records: set[str]
    ) -> list[Future[tuple[int, Tidied]]]:
        """Every analytics table on a thread of its own: the person's rows rewritten (only the
        files holding them), then the table's history forgotten, so that time travel cannot
        read them back. What each gave up, to come."""
        if self._catalog is None:
            return []
        erasures = {erasure.table: erasure for erasure in published_erasures(target, records)}
        return [pool.submit(_erase_published, self._catalog, name, erasures.get(name)) for name in SCHEMAS]

    def _count_published(self, rows: int, tidied: Tidied, erased: _Erased) -> None:
        erased.analytics_rows += rows
        erased.analytics_files += tidied.files
        for key in tidied.removed:
            erased.output_versions += self._cleaned.purge_versions(key)


def _erase_published(catalog: TableCatalog, table: str, erasure: TableErasure | None) -> tuple[int, Tidied]:
    rows = catalog.erase_rows(table, erasure.where, erasure.blank) if erasure else 0
    return rows, catalog.forget_history(table)


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
