"""The record repository as an embedded SQLite database file, keyed by (dealer_id,
service_record_id) like the DynamoDB table."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from adapters.history_order import history_position
from adapters.local.sqlite_connection import transaction
from adapters.page_tokens import decode_texts, encode_page
from domain.record_identity import RecordKey, StoredVersion, content_hash, key_of

_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_records (
    dealer_id TEXT NOT NULL,
    service_record_id TEXT NOT NULL,
    vin TEXT,
    history_position TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    record BLOB NOT NULL,
    PRIMARY KEY (service_record_id, dealer_id)
);
CREATE INDEX IF NOT EXISTS service_records_vin_history ON service_records (vin, history_position);
"""
# A row without a text ingested_at (written by hand or another tool) counts as older than any.
_UPSERT_IF_NEWER = """
INSERT INTO service_records (dealer_id, service_record_id, vin, history_position, ingested_at, record)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (service_record_id, dealer_id) DO UPDATE SET
    vin = excluded.vin, history_position = excluded.history_position,
    ingested_at = excluded.ingested_at, record = excluded.record
WHERE typeof(service_records.ingested_at) != 'text' OR service_records.ingested_at <= excluded.ingested_at
"""
_KEYS_PER_QUERY = 400  # two parameters a key: SQLite binds at most 999 in older builds
_VERSIONS_OF = "SELECT dealer_id, service_record_id, ingested_at, record FROM service_records WHERE "
_ONE_KEY = "(service_record_id = ? AND dealer_id = ?)"
_GET = "SELECT record FROM service_records WHERE service_record_id = ? AND dealer_id = ?"
_WITH_ID = "SELECT record FROM service_records WHERE service_record_id = ? ORDER BY dealer_id"
_HISTORY = "SELECT history_position, record FROM service_records WHERE vin = ?"


class SqliteRecordRepository:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            old = _keyed_by_id_alone(db)
            if old:
                db.execute("ALTER TABLE service_records RENAME TO service_records_by_id")
                db.execute("DROP INDEX IF EXISTS service_records_vin_date")
            db.executescript(_SCHEMA)
        if old:
            self._migrate_from_id_keyed_table()

    def _migrate_from_id_keyed_table(self) -> None:
        """A data folder from before records were keyed by dealership: copy every record."""
        with transaction(self.path) as db:
            records = [orjson.loads(row[0]) for row in db.execute("SELECT record FROM service_records_by_id")]
        self.put_if_newer(records)
        with transaction(self.path) as db:
            db.execute("DROP TABLE service_records_by_id")

    def verify(self) -> None:
        """Nothing to check: the file is created on first use."""

    def put_if_newer(self, records: Sequence[Mapping[str, object]]) -> int:
        """Insert or replace each record unless the stored row was ingested later (one
        upsert whose WHERE makes the comparison part of the write); returns rows written."""
        rows = [
            (*key_of(r), r.get("vin"), history_position(r), str(r["ingested_at"]), orjson.dumps(r)) for r in records
        ]
        with transaction(self.path) as db:
            before = db.total_changes
            db.executemany(_UPSERT_IF_NEWER, rows)
            return db.total_changes - before

    def get(self, key: RecordKey) -> dict[str, object] | None:
        with transaction(self.path) as db:
            row = db.execute(_GET, (key.service_record_id, key.dealer_id)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def with_id(self, service_record_id: str) -> list[dict[str, object]]:
        with transaction(self.path) as db:
            return [orjson.loads(row[0]) for row in db.execute(_WITH_ID, (service_record_id,))]

    def stored_versions(self, keys: Sequence[RecordKey]) -> dict[RecordKey, StoredVersion]:
        wanted = list(dict.fromkeys(keys))
        found: dict[RecordKey, StoredVersion] = {}
        with transaction(self.path) as db:
            for start in range(0, len(wanted), _KEYS_PER_QUERY):
                chunk = wanted[start : start + _KEYS_PER_QUERY]
                query = _VERSIONS_OF + " OR ".join([_ONE_KEY] * len(chunk))
                parameters = [part for key in chunk for part in (key.service_record_id, key.dealer_id)]
                for dealer_id, record_id, at, record in db.execute(query, parameters):
                    found[RecordKey(dealer_id, record_id)] = StoredVersion(at, content_hash(orjson.loads(record)))
        return found

    def history(self, vin: str, limit: int, page: str | None = None) -> tuple[list[dict[str, object]], str | None]:
        """Newest first from the (vin, history position) index; the token is the last row's
        position, so a page never repeats or skips a row when rows are added."""
        query, parameters = _HISTORY, [vin]
        if page is not None:
            (after,) = decode_texts(page, 1)
            query += " AND history_position < ?"
            parameters.append(after)
        query += " ORDER BY history_position DESC LIMIT ?"
        with transaction(self.path) as db:
            rows = db.execute(query, [*parameters, limit + 1]).fetchall()
        records = [orjson.loads(row[1]) for row in rows[:limit]]
        more = len(rows) > limit
        return records, encode_page([rows[limit - 1][0]]) if more else None

    count_is_exact = True

    def count(self) -> int:
        with transaction(self.path) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM service_records").fetchone()
        return int(n)


def _keyed_by_id_alone(db: sqlite3.Connection) -> bool:
    """Whether the table is the earlier one, keyed by service_record_id alone."""
    columns = {row[1] for row in db.execute("PRAGMA table_info(service_records)")}
    return bool(columns) and "history_position" not in columns
