"""The proof of an erasure: every store searched for what is left of the person.

Searched: the index (no row under the customer's token); each raw file the person was in, and
its earlier versions; every file made from it (cleaned JSON Lines and Parquet, rejected rows,
an unreadable copy and its reason) and their earlier versions; the table's items of their
records; and every analytics table whole (its columns that can name a person). A trace names
the store and the place (a key, a table), never the personal data found.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from application.analytics.table_catalog import TableCatalog
from application.erasure.person_rows import NOTES, Person
from application.erasure.raw_rewrite import rewrite_raw
from application.erasure.record_index import RecordIndex
from application.errors import ObjectNotFound
from application.ports import ObjectStore, RecordRepository
from application.storage_keys import ERROR_PREFIXES, PARQUET_PREFIX, REJECTED_PREFIX, UNREADABLE_PREFIX, output_keys
from domain.analytics_tables import SCHEMAS
from domain.record_identity import RecordKey

# The columns that can name a person or point at their records: all a search reads.
_SEARCHED = ("dealer_id", "service_record_id", "customer_id", "customer_name", NOTES)


@dataclass(frozen=True)
class Trace:
    store: str  # raw, cleaned, errors, table, analytics, index
    place: str  # a key, a table's name
    found: int  # rows, records or versions

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class TraceSearch:
    def __init__(
        self,
        raw: ObjectStore,
        cleaned: ObjectStore,
        errors: ObjectStore,
        index: RecordIndex,
        repository: RecordRepository,
        catalog: TableCatalog | None,
    ) -> None:
        self._raw, self._cleaned, self._errors, self._index = raw, cleaned, errors, index
        self._repository, self._catalog = repository, catalog

    def __call__(self, person: Person, lookup: str | None, raw_keys: list[str]) -> list[Trace]:
        # The analytics tables (whole columns of a date's large files) are read on threads of
        # their own while the other stores are searched.
        with ThreadPoolExecutor(max_workers=len(SCHEMAS), thread_name_prefix="search-table") as pool:
            searched = SCHEMAS if self._catalog is not None else ()
            tables = [pool.submit(self._in_analytics, person, name) for name in searched]
            traces = []
            if lookup is not None:
                traces += _found("index", lookup, len(self._index.holding(person.target.dealer, lookup)))
            for raw_key in raw_keys:
                traces += list(self._in_raw_file(person, raw_key))
            traces += list(self._in_table(person))
            for table in tables:
                traces += table.result()
        return traces

    def _in_raw_file(self, person: Person, raw_key: str) -> Iterator[Trace]:
        try:
            info = self._raw.head(raw_key)
            data = self._raw.read_bytes(raw_key)
        except ObjectNotFound:
            return
        left = rewrite_raw(data, person.target, set(person.names))
        yield from _found("raw", raw_key, left.records + left.redactions)
        yield from _found("raw", f"{raw_key} (earlier versions)", self._raw.earlier_versions(raw_key))
        keys = output_keys(raw_key, info.last_modified)
        try:
            manifest = orjson.loads(self._cleaned.read_bytes(keys.manifest))
        except ObjectNotFound:
            return
        for output in manifest.get("outputs", []):
            store, name = (self._errors, "errors") if output.startswith(ERROR_PREFIXES) else (self._cleaned, "cleaned")
            try:
                held = self._in_output(person, store.read_bytes(output), output)
            except ObjectNotFound:
                continue
            yield from _found(name, output, held)
            yield from _found(name, f"{output} (earlier versions)", store.earlier_versions(output))

    @staticmethod
    def _in_output(person: Person, data: bytes, key: str) -> int:
        if key.startswith(PARQUET_PREFIX):
            parquet = pq.ParquetFile(io.BytesIO(data))
            columns = [name for name in _SEARCHED if name in parquet.schema_arrow.names]
            return person.rows_in(parquet.read(columns=columns))
        if key.startswith(REJECTED_PREFIX):
            rows = [orjson.loads(line) for line in data.splitlines() if line.strip()]
            return sum(person.in_record_as_sent(row.get("record")) or _names_in(person, row) for row in rows)
        if key.startswith(UNREADABLE_PREFIX):
            return int(person.in_text(data))
        return sum(person.in_cleaned_line(orjson.loads(line)) for line in data.splitlines() if line.strip())

    def _in_table(self, person: Person) -> Iterator[Trace]:
        for record_id in sorted(person.record_ids):
            item = self._repository.get(RecordKey(person.target.dealer, record_id))
            if item is not None and person.in_cleaned_line(item):
                yield Trace("table", f"{person.target.dealer}/{record_id}", 1)

    def _in_analytics(self, person: Person, name: str) -> list[Trace]:
        source = self._catalog.scan(name) if self._catalog is not None else None
        if source is None:
            return []
        columns = [column for column in _SEARCHED if column in source.schema.names]
        if not {"customer_id", NOTES} & set(columns):
            return []  # a table that cannot name a person (dealers, vehicles, parts, rejected rows)
        rows = source.select(columns) if isinstance(source, pa.Table) else source.to_table(columns=columns)
        return _found("analytics", name, person.rows_in(rows))


def _names_in(person: Person, row: dict[str, object]) -> bool:
    """A rejected row of the person's that still quotes their id or a name (in an error's value)."""
    return person.target.holds(row.get("record")) and person.in_text(orjson.dumps(row))


def _found(store: str, place: str, count: int) -> list[Trace]:
    return [Trace(store, place, count)] if count else []
