"""The record index in an embedded SQLite file, keyed like the DynamoDB table.

Raw keys are numbered in a table of their own, so that a row's key is short: a worker notes
every row it reads, and tokens are random, so each insert lands somewhere in the tree. One
connection per process, its writes taken in turn: a worker notes the rows of several files at
once, and SQLite's own wait for its lock sleeps far longer than a write takes.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Iterable, Sequence
from pathlib import Path

from adapters.local.sqlite_connection import transaction
from application.erasure.record_index import Holding

_SCHEMA = """
CREATE TABLE IF NOT EXISTS raw_files (file_id INTEGER PRIMARY KEY, raw_key TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS record_index (
    dealer_id TEXT NOT NULL,
    lookup TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    record_index INTEGER NOT NULL,
    service_record_id TEXT,
    PRIMARY KEY (dealer_id, lookup, file_id, record_index)
) WITHOUT ROWID;
"""
CACHE_KIB = 64 * 1024  # tokens are random: a small cache would read a page from disk per row
_FILE = "INSERT OR IGNORE INTO raw_files (raw_key) VALUES (?)"
_FILE_ID = "SELECT file_id FROM raw_files WHERE raw_key = ?"
_NOTE = "INSERT OR REPLACE INTO record_index VALUES (?, ?, ?, ?, ?)"
_HOLDING = (
    "SELECT dealer_id, lookup, raw_key, record_index, service_record_id FROM record_index "
    "JOIN raw_files USING (file_id) WHERE dealer_id = ? AND lookup = ? ORDER BY raw_key, record_index"
)
_REMOVE = (
    "DELETE FROM record_index WHERE dealer_id = ? AND lookup = ? AND record_index = ? "
    "AND file_id = (SELECT file_id FROM raw_files WHERE raw_key = ?)"
)


class SqliteRecordIndex:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def verify(self) -> None:
        """Nothing to check: the file is created on first use."""

    def note(self, holdings: Iterable[Holding]) -> None:
        rows = list(holdings)
        if not rows:
            return
        with self._lock:
            db = self._connection()
            with db:
                ids = {}
                for raw_key in {row.raw_key for row in rows}:
                    db.execute(_FILE, (raw_key,))
                    ids[raw_key] = db.execute(_FILE_ID, (raw_key,)).fetchone()[0]
                # In key order, the inserts walk the tree's pages in turn.
                keyed = sorted(
                    (h.dealer_id, h.lookup, ids[h.raw_key], h.record_index, h.service_record_id) for h in rows
                )
                db.executemany(_NOTE, keyed)

    def holding(self, dealer_id: str, lookup: str) -> list[Holding]:
        with transaction(self.path) as db:
            return [Holding(*row) for row in db.execute(_HOLDING, (dealer_id, lookup))]

    def remove(self, holdings: Sequence[Holding]) -> None:
        with self._lock:
            db = self._connection()
            with db:
                db.executemany(_REMOVE, [(h.dealer_id, h.lookup, h.record_index, h.raw_key) for h in holdings])

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            # Closed when the index goes or, at the latest, as the process exits (its write-ahead
            # log checkpointed and removed), even if the index is then never collected.
            weakref.finalize(self, self._db.close)
        return self._db
