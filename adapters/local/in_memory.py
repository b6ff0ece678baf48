"""In-memory fakes of every port, for unit tests: assert on their state."""

from __future__ import annotations

import contextlib
import io
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime, timezone
from typing import BinaryIO

import pyarrow as pa
import pyarrow.compute as pc

from adapters.history_order import history_position
from adapters.page_tokens import decode_texts, encode_page
from application.access.api_keys import ApiKeyEntry
from application.analytics.table_catalog import Committed, Tidied
from application.erasure.record_index import Holding
from application.errors import MessageNotHeld, ObjectNotFound
from application.ports import Message, ObjectInfo, QueueStats
from domain.record_identity import RecordKey, StoredVersion, content_hash, key_of


class InMemoryObjectStore:
    def __init__(self, now: datetime | None = None) -> None:
        self.objects: dict[str, bytes] = {}
        self.metadata: dict[str, dict[str, str]] = {}
        self.versions: dict[str, str] = {}
        self.content_types: dict[str, str] = {}
        self.earlier: dict[str, list[bytes]] = {}  # what a versioned bucket keeps of each key
        self._writes = itertools.count(1)
        self._now = now or datetime(2026, 1, 1, tzinfo=timezone.utc)

    def verify(self) -> None:
        pass

    def put_bytes(
        self, key: str, data: bytes, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> None:
        self.content_types[key] = content_type or "binary/octet-stream"
        if key in self.objects:
            self.earlier.setdefault(key, []).append(self.objects[key])
        self.objects[key] = bytes(data)
        self.metadata[key] = dict(metadata or {})
        self.versions[key] = str(next(self._writes))

    def read_bytes(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError as err:
            raise ObjectNotFound(key) from err

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        yield io.BytesIO(self.read_bytes(key))

    @contextlib.contextmanager
    def open_write(
        self, key: str, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> Iterator[BinaryIO]:
        buffer = io.BytesIO()
        yield buffer
        self.put_bytes(key, buffer.getvalue(), metadata, content_type)

    def head(self, key: str) -> ObjectInfo:
        data = self.read_bytes(key)
        return ObjectInfo(
            key, len(data), self._now, self.metadata.get(key, {}), self.versions.get(key, ""), self.content_types[key]
        )

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for key in self.list_keys(prefix):
            yield ObjectInfo(key, len(self.objects[key]), self._now, version=self.versions.get(key, ""))

    def delete(self, key: str) -> None:
        if key in self.objects:
            self.earlier.setdefault(key, []).append(self.objects[key])
        for held in (self.objects, self.metadata, self.versions, self.content_types):
            held.pop(key, None)  # type: ignore[attr-defined]

    def earlier_versions(self, key: str) -> int:
        return len(self.earlier.get(key, []))

    def purge_versions(self, key: str) -> int:
        return len(self.earlier.pop(key, []))

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))


class InMemoryQueue:
    """Messages stay visible until deleted; no timeouts (tests drive those explicitly)."""

    def __init__(self) -> None:
        self.messages: dict[str, Message] = {}
        self.in_flight: set[str] = set()
        self._ids = itertools.count(1)

    def verify(self) -> None:
        pass

    def send(self, body: str) -> None:
        message_id = str(next(self._ids))
        self.messages[message_id] = Message(message_id, message_id, body, 0)

    def receive(self, max_messages: int = 10, wait_seconds: float = 0) -> list[Message]:
        ready = [m for m in self.messages.values() if m.message_id not in self.in_flight][:max_messages]
        received = []
        for m in ready:
            self.in_flight.add(m.message_id)
            received.append(Message(m.message_id, m.receipt_handle, m.body, m.receive_count + 1))
            self.messages[m.message_id] = received[-1]
        return received

    def delete(self, receipt_handle: str) -> None:
        self.messages.pop(receipt_handle, None)
        self.in_flight.discard(receipt_handle)

    def change_visibility(self, receipt_handle: str, timeout_seconds: int) -> None:
        if receipt_handle not in self.in_flight:
            raise MessageNotHeld("the receipt handle no longer holds its message (deleted, or given back)")
        if timeout_seconds == 0:
            self.in_flight.discard(receipt_handle)

    def stats(self) -> QueueStats:
        return QueueStats(len(self.messages) - len(self.in_flight), len(self.in_flight), 0)


class InMemoryRecordRepository:
    def __init__(self) -> None:
        self.records: dict[RecordKey, dict[str, object]] = {}
        self.put_calls = 0

    def verify(self) -> None:
        pass

    def put_if_newer(self, records: Sequence[Mapping[str, object]]) -> int:
        self.put_calls += 1
        keys = [key_of(r) for r in records]
        assert len(keys) == len(set(keys)), "duplicate keys in one write"
        written = 0
        for key, record in zip(keys, records, strict=True):
            stored = self.records.get(key)
            at = None if stored is None else stored.get("ingested_at")
            if not isinstance(at, str) or at <= str(record["ingested_at"]):
                self.records[key] = dict(record)
                written += 1
        return written

    def get(self, key: RecordKey) -> dict[str, object] | None:
        return self.records.get(key)

    def with_id(self, service_record_id: str) -> list[dict[str, object]]:
        return [self.records[k] for k in sorted(self.records) if k.service_record_id == service_record_id]

    def stored_versions(self, keys: Sequence[RecordKey]) -> dict[RecordKey, StoredVersion]:
        return {
            k: StoredVersion(str(self.records[k]["ingested_at"]), content_hash(self.records[k]))
            for k in keys
            if k in self.records
        }

    def history(self, vin: str, limit: int, page: str | None = None) -> tuple[list[dict[str, object]], str | None]:
        rows = sorted((r for r in self.records.values() if r.get("vin") == vin), key=history_position, reverse=True)
        if page is not None:
            (after,) = decode_texts(page, 1)
            rows = [r for r in rows if history_position(r) < after]
        more = len(rows) > limit
        return rows[:limit], encode_page([history_position(rows[limit - 1])]) if more else None

    count_is_exact = True

    def count(self) -> int:
        return len(self.records)


class InMemoryApiKeyStore:
    """API key entries in a dict, by key id."""

    def __init__(self) -> None:
        self.entries_by_id: dict[str, ApiKeyEntry] = {}

    def verify(self) -> None:
        """Always usable."""

    def save(self, entry: ApiKeyEntry) -> None:
        self.entries_by_id[entry.key_id] = entry

    def get(self, key_id: str) -> ApiKeyEntry | None:
        return self.entries_by_id.get(key_id)

    def entries(self) -> list[ApiKeyEntry]:
        return sorted(self.entries_by_id.values(), key=lambda e: (e.created_at, e.key_id))


class InMemoryScratch:
    """Scratch files as buffers; counts how many were opened."""

    def __init__(self) -> None:
        self.opened = 0

    @contextlib.contextmanager
    def temporary_file(self) -> Iterator[BinaryIO]:
        self.opened += 1
        yield io.BytesIO()


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


class InMemoryTableCatalog:
    """Tables as Arrow tables; ``commits`` counts each table's commits (one per call)."""

    def __init__(self) -> None:
        self.tables: dict[str, pa.Table] = {}
        self.versions: dict[tuple[str, str], str] = {}
        self.built: dict[str, str] = {}
        self.commits: list[str] = []
        self.tidied: list[tuple[str, datetime]] = []

    def replace_date(
        self, table: str, schema: pa.Schema, ingest_date: date, batches: Iterable[pa.RecordBatch], version: str
    ) -> Committed:
        new = pa.Table.from_batches(list(batches), schema)
        kept = self.tables.get(table, schema.empty_table())
        kept = kept.filter(pc.not_equal(kept.column("ingest_date"), pa.scalar(ingest_date, pa.date32())))
        self.tables[table] = pa.concat_tables([kept, new])
        self.versions[(table, ingest_date.isoformat())] = version
        self.commits.append(table)
        return Committed(table, 1 if new.num_rows else 0, new.num_rows, new.nbytes)

    def published_version(self, table: str, ingest_date: date) -> str | None:
        return self.versions.get((table, ingest_date.isoformat()))

    def replace_all(self, table: str, schema: pa.Schema, data: pa.Table, built_from: str) -> Committed:
        self.tables[table] = data.cast(schema)
        self.built[table] = built_from
        self.commits.append(table)
        return Committed(table, 1 if data.num_rows else 0, data.num_rows, data.nbytes)

    def built_from(self, table: str) -> str | None:
        return self.built.get(table)

    def snapshot(self, table: str) -> str | None:
        count = self.commits.count(table)
        return str(count) if table in self.tables else None

    def scan(self, table: str, ingested_since: date | None = None) -> pa.Table | None:
        held = self.tables.get(table)
        if held is None or ingested_since is None or "ingest_date" not in held.column_names:
            return held
        return held.filter(pc.greater_equal(held.column("ingest_date"), pa.scalar(ingested_since, pa.date32())))

    def tidy(self, table: str, before: datetime) -> Tidied:
        """Nothing to remove: these tables keep no earlier snapshots or files."""
        self.tidied.append((table, before))
        return Tidied(table, 0, 0, 0)

    def forget_history(self, table: str) -> Tidied:
        return Tidied(table, 0, 0, 0)  # only the current contents are kept here

    def erase_rows(self, table: str, where: Mapping[str, Sequence[str]], blank: Sequence[str] | None) -> int:
        held = self.tables.get(table)
        if held is None:
            return 0
        hit = pa.array([True] * held.num_rows)
        for column, values in where.items():
            hit = pc.and_(hit, pc.fill_null(pc.is_in(held.column(column), pa.array(list(values), pa.string())), False))
        count = int(pc.sum(hit).as_py() or 0)
        if not count:
            return 0
        if blank is None:
            self.tables[table] = held.filter(pc.invert(hit))
        else:
            for column in blank:
                index = held.schema.get_field_index(column)
                nulls = pa.nulls(held.num_rows, held.schema.field(column).type)
                held = held.set_column(index, held.schema.field(column), pc.if_else(hit, nulls, held.column(column)))
            self.tables[table] = held
        self.commits.append(table)
        return count

    def read(self, table: str, columns: Sequence[str] | None = None) -> pa.Table | None:
        held = self.tables.get(table)
        return held.select(list(columns)) if held is not None and columns else held


class InMemoryRecordIndex:
    """The record index as a dict keyed like the real ones: (dealer, lookup, raw key, index)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str, int], Holding] = {}

    def verify(self) -> None:
        pass

    def note(self, holdings: Iterable[Holding]) -> None:
        for holding in holdings:
            self.rows[(holding.dealer_id, holding.lookup, holding.raw_key, holding.record_index)] = holding

    def holding(self, dealer_id: str, lookup: str) -> list[Holding]:
        return [row for key, row in sorted(self.rows.items()) if key[:2] == (dealer_id, lookup)]

    def remove(self, holdings: Sequence[Holding]) -> None:
        for holding in holdings:
            self.rows.pop((holding.dealer_id, holding.lookup, holding.raw_key, holding.record_index), None)


class FixedKey:
    def __init__(self, key: bytes = b"k" * 32) -> None:
        self._key = key

    def key(self) -> bytes:
        return self._key
