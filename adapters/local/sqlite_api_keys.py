"""Dealer API keys in a local SQLite file (hashes only: application/api_keys.py)."""

from __future__ import annotations

from dataclasses import astuple, fields
from pathlib import Path

from adapters.local.sqlite_connection import transaction
from application.api_keys import ApiKeyEntry

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
_COLUMNS = ", ".join(f.name for f in fields(ApiKeyEntry))


class SqliteApiKeyStore:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def verify(self) -> None:
        """Nothing to check: the file is created by the first key."""

    def save(self, entry: ApiKeyEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with transaction(self.path) as db:
            db.execute(_SCHEMA)
            db.execute(f"INSERT OR REPLACE INTO api_keys ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", astuple(entry))

    def get(self, key_id: str) -> ApiKeyEntry | None:
        rows = self._select("WHERE key_id = ?", (key_id,))
        return rows[0] if rows else None

    def entries(self) -> list[ApiKeyEntry]:
        return self._select("ORDER BY created_at, key_id", ())

    def _select(self, clause: str, parameters: tuple[str, ...]) -> list[ApiKeyEntry]:
        if not self.path.exists():  # no key issued yet: nothing to read, nothing created
            return []
        with transaction(self.path) as db:
            db.execute(_SCHEMA)
            rows = db.execute(f"SELECT {_COLUMNS} FROM api_keys {clause}", parameters).fetchall()
        return [ApiKeyEntry(k, d, bool(a), s, c, r) for k, d, a, s, c, r in rows]
