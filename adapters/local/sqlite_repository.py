"""The record repository as an embedded SQLite database file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import orjson

from adapters.local.sqlite_connection import transaction

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
_CHUNK = 500  # stays below SQLite's limit on bound parameters


class SqliteRecordRepository:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.executescript(_SCHEMA)

    def verify(self) -> None:
        """Nothing to check: the file is created on first use."""

    def ingested_at_of(self, record_ids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        with transaction(self.path) as db:
            for start in range(0, len(record_ids), _CHUNK):
                chunk = list(record_ids[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                rows = db.execute(
                    f"SELECT service_record_id, ingested_at FROM service_records WHERE service_record_id IN ({marks})",
                    chunk,
                )
                found.update(rows)
        return found

    def put_many(self, records: Sequence[Mapping[str, object]]) -> None:
        rows = [
            (str(r["service_record_id"]), r.get("vin"), r.get("service_date"), str(r["ingested_at"]), orjson.dumps(r))
            for r in records
        ]
        with transaction(self.path) as db:
            db.executemany("INSERT OR REPLACE INTO service_records VALUES (?, ?, ?, ?, ?)", rows)

    def get(self, record_id: str) -> dict[str, object] | None:
        with transaction(self.path) as db:
            row = db.execute("SELECT record FROM service_records WHERE service_record_id = ?", (record_id,)).fetchone()
        return None if row is None else orjson.loads(row[0])

    def count(self) -> int:
        with transaction(self.path) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM service_records").fetchone()
        return int(n)
