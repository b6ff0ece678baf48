"""The record index in an embedded SQLite file, keyed like the DynamoDB table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from adapters.local.sqlite_connection import transaction
from application.erasure.record_index import Holding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS record_index (
    dealer_id TEXT NOT NULL,
    lookup TEXT NOT NULL,
    raw_key TEXT NOT NULL,
    record_index INTEGER NOT NULL,
    service_record_id TEXT,
    PRIMARY KEY (dealer_id, lookup, raw_key, record_index)
) WITHOUT ROWID;
"""
_NOTE = "INSERT OR REPLACE INTO record_index VALUES (?, ?, ?, ?, ?)"
_HOLDING = (
    "SELECT dealer_id, lookup, raw_key, record_index, service_record_id FROM record_index "
    "WHERE dealer_id = ? AND lookup = ? ORDER BY raw_key, record_index"
)
_REMOVE = "DELETE FROM record_index WHERE dealer_id = ? AND lookup = ? AND raw_key = ? AND record_index = ?"


class SqliteRecordIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.executescript(_SCHEMA)

    def verify(self) -> None:
        """Nothing to check: the file is created on first use."""

    def note(self, holdings: Iterable[Holding]) -> None:
        rows = [(h.dealer_id, h.lookup, h.raw_key, h.record_index, h.service_record_id) for h in holdings]
        if rows:
            with transaction(self.path) as db:
                db.executemany(_NOTE, rows)

    def holding(self, dealer_id: str, lookup: str) -> list[Holding]:
        with transaction(self.path) as db:
            return [Holding(*row) for row in db.execute(_HOLDING, (dealer_id, lookup))]

    def remove(self, holdings: Sequence[Holding]) -> None:
        with transaction(self.path) as db:
            db.executemany(_REMOVE, [(h.dealer_id, h.lookup, h.raw_key, h.record_index) for h in holdings])
