"""A vehicle's history from the real stores: SQLite's index locally, the GSI on DynamoDB (moto)."""

from __future__ import annotations

import pytest

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.local.sqlite_repository import SqliteRecordRepository
from application.errors import BadPageToken

VIN = "MHFXX12G3K1234567"


def records() -> list[dict[str, object]]:
    rows = [
        {
            "service_record_id": f"SR-{i:03d}",
            "vin": VIN if i % 5 else "MHFXX12G3K0000000",
            "service_date": f"2026-{1 + i % 12:02d}-{1 + i % 27:02d}T00:00:00Z",
            "ingested_at": "2026-11-25T00:00:00.000000Z",
            "dealer_id": "DLR-JKT-001",
        }
        for i in range(60)
    ]
    rows.append({**rows[1], "service_record_id": "SR-TIE"})  # the same date as SR-001: the id decides
    return rows


def all_pages(repository, limit: int) -> list[str]:
    seen, page = [], None
    while True:
        found, page = repository.history(VIN, limit, page)
        assert len(found) <= limit
        seen += [(r["service_date"], r["service_record_id"]) for r in found]
        if page is None:
            return seen


def check(repository) -> None:
    repository.put_if_newer(records())
    expected = sorted(((r["service_date"], r["service_record_id"]) for r in records() if r["vin"] == VIN), reverse=True)
    assert len(expected) == 49
    for limit in (1, 7, 49, 100):
        assert all_pages(repository, limit) == expected
    with pytest.raises(BadPageToken):
        repository.history(VIN, 5, "bm90LWEtdG9rZW4")


def test_sqlite_history(tmp_path) -> None:
    check(SqliteRecordRepository(tmp_path / "db.sqlite"))


def test_dynamodb_history_reads_the_gsi(stack, clients) -> None:
    repository = DynamoRecordRepository(clients, stack.table_name)
    check(repository)
    _, token = repository.history(VIN, 5)
    with pytest.raises(BadPageToken, match="another vehicle"):
        repository.history("MHFXX12G3K0000000", 5, token)
