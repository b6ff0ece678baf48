"""Opening the local SQLite files the same way everywhere."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def transaction(path: Path, immediate: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection in one transaction, committed on success, always closed.

    ``immediate`` takes the write lock at the start, so that a read-then-update (a queue
    receive) cannot race another process.
    """
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        with db:
            if immediate:
                db.execute("BEGIN IMMEDIATE")
            yield db
    finally:
        db.close()
