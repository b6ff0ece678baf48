"""Dealer API keys in a local SQLite file (hashes only: application/access/api_keys.py)."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path

from adapters.local.sqlite_connection import transaction
from application.access.api_keys import ApiKeyEntry

_SCHEMA = """
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    dealer_id TEXT,
    admin INTEGER NOT NULL,
    secret_sha256 TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
)
"""
# Written out in ApiKeyEntry's field order, not built from it: every statement is a constant
# (bandit B608). The store's round-trip tests fail if the two drift apart.
_INSERT = (
    "INSERT OR REPLACE INTO api_keys (key_id, dealer_id, admin, secret_sha256, created_at, revoked_at)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)
_SELECT_ONE = "SELECT key_id, dealer_id, admin, secret_sha256, created_at, revoked_at FROM api_keys WHERE key_id = ?"
_SELECT_ALL = (
    "SELECT key_id, dealer_id, admin, secret_sha256, created_at, revoked_at FROM api_keys ORDER BY created_at, key_id"
)


class SqliteApiKeyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def verify(self) -> None:
        """Nothing to check: the file is created by the first key."""

    def save(self, entry: ApiKeyEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.execute(_SCHEMA)
            db.execute(_INSERT, astuple(entry))

    def get(self, key_id: str) -> ApiKeyEntry | None:
        rows = self._select(_SELECT_ONE, (key_id,))
        return rows[0] if rows else None

    def entries(self) -> list[ApiKeyEntry]:
        return self._select(_SELECT_ALL, ())

    def _select(self, query: str, parameters: tuple[str, ...]) -> list[ApiKeyEntry]:
        if not self.path.exists():  # no key issued yet: nothing to read, nothing created
            return []
        with transaction(self.path) as db:
            db.execute(_SCHEMA)
            rows = db.execute(query, parameters).fetchall()
        return [ApiKeyEntry(k, d, bool(a), s, c, r) for k, d, a, s, c, r in rows]
