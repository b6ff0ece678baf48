"""The record repository as an embedded SQLite database file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from adapters.local.sqlite_connection import transaction
from adapters.page_tokens import decode_texts, encode_page

_SCHEMA = """
CREATE TABLE IF NOT EXISTS service_records (
    service_record_id TEXT PRIMARY KEY,
    vin TEXT,
    service_date TEXT,
    ingested_at TEXT NOT NULL,
    record BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS service_records_vin_date ON service_records (vin, service_date);
"""
# A row without a text ingested_at (written by hand or another tool) counts as older than any.
_UPSERT_IF_NEWER = """
INSERT INTO service_records (service_record_id, vin, service_date, ingested_at, record) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (service_record_id) DO UPDATE SET
    vin = excluded.vin, service_date = excluded.service_date,
    ingested_at = excluded.ingested_at, record = excluded.record
WHERE typeof(service_records.ingested_at) != 'text' OR service_records.ingested_at <= excluded.ingested_at
"""
_IDS_PER_QUERY = 500  # SQLite binds at most 999 parameters in older builds
_INGESTED_AT_OF = "SELECT service_record_id, ingested_at FROM service_records WHERE service_record_id IN (?)"


class SqliteRecordRepository:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.executescript(_SCHEMA)

    def verify(self) -> None:
        """Nothing to check: the file is created on first use."""

    def put_if_newer(self, records: Sequence[Mapping[str, object]]) -> int:
        """Insert or replace each record unless the stored row was ingested later (one
        upsert whose WHERE makes the comparison part of the write); returns rows written."""
        rows = [
            (str(r["service_record_id"]), r.get("vin"), r.get("service_date"), str(r["ingested_at"]), orjson.dumps(r))
            for r in records
        ]
        with transaction(self.path) as db:
            before = db.total_changes
            db.executemany(_UPSERT_IF_NEWER, rows)
            return db.total_changes - before

    def get(self, record_id: str) -> dict[str, object] | None:
        with transaction(self.path) as db:
            row = db.execute("SELECT record FROM service_records WHERE service_record_id = ?", (record_id,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def ingested_at_of(self, record_ids: Sequence[str]) -> dict[str, str]:
        ids = list(dict.fromkeys(record_ids))
        found: dict[str, str] = {}
        with transaction(self.path) as db:
            for start in range(0, len(ids), _IDS_PER_QUERY):
                chunk = ids[start : start + _IDS_PER_QUERY]
                query = _INGESTED_AT_OF.replace("?", ", ".join("?" * len(chunk)), 1)
                found.update(db.execute(query, chunk).fetchall())
        return found

    def history(self, vin: str, limit: int, page: str | None = None) -> tuple[list[dict[str, object]], str | None]:
        """Newest first from the (vin, service_date) index; the token is the last row's
        (service_date, id), so a page never repeats or skips a row when rows are added."""
        query = "SELECT service_date, service_record_id, record FROM service_records WHERE vin = ?"
        parameters: list[object] = [vin]
        if page is not None:
            after_date, after_id = decode_texts(page, 2)
            query += " AND (service_date < ? OR (service_date = ? AND service_record_id < ?))"
            parameters += [after_date, after_date, after_id]
        query += " ORDER BY service_date DESC, service_record_id DESC LIMIT ?"
        with transaction(self.path) as db:
            rows = db.execute(query, [*parameters, limit + 1]).fetchall()
        records = [orjson.loads(row[2]) for row in rows[:limit]]
        last = rows[limit - 1] if len(rows) > limit else None
        return records, None if last is None else encode_page([last[0], last[1]])

    count_is_exact = True

    def count(self) -> int:
        with transaction(self.path) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM service_records").fetchone()
        return int(n)
