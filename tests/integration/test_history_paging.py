"""A vehicle's history never drops a record, on SQLite and on DynamoDB (moto models its 1 MB
page limit): a page may be short, but it is final only when no record follows, and both
stores give the same records in the same order over all pages."""

from __future__ import annotations

import pytest

from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.local.sqlite_repository import SqliteRecordRepository
from domain.limits import MAX_RECORD_BYTES

VIN = "MHFXX12G3K1234567"
AT = "2026-11-25T00:00:00.000000Z"


def record(i: int, size: int, dealer: str = "DLR-JKT-001", day: int | None = None) -> dict[str, object]:
    """A stored record of about ``size`` bytes of JSON."""
    return {
        "service_record_id": f"SR-{i:03d}",
        "dealer_id": dealer,
        "vin": VIN,
        "service_date": f"2026-10-{1 + (i if day is None else day) % 28:02d}T03:00:00Z",
        "ingested_at": AT,
        "notes": "x" * max(0, size - 200),
    }


def every_page(repository, limit: int) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    page = None
    for _ in range(1_000):
        records, page = repository.history(VIN, limit, page)
        assert len(records) <= limit
        seen += [(str(r["dealer_id"]), str(r["service_record_id"])) for r in records]
        if page is None:
            return seen
    raise AssertionError("the pages never ended")


def test_thirty_records_of_100_kb_are_all_returned_by_dynamodb(stack, clients) -> None:
    """The red team's case: limit=50 gave 9 records and no next page; 21 were never returned."""
    repository = DynamoRecordRepository(clients, stack.table_name)
    repository.put_if_newer([record(i, 100_000) for i in range(30)])
    first, token = repository.history(VIN, 50)
    assert len(first) < 30 and token is not None  # a short page, with a way on
    assert len(every_page(repository, 50)) == 30


def mixed_records() -> list[dict[str, object]]:
    """Sizes from 300 bytes to the contract's 128 KiB (over 2 MB in all, so DynamoDB pages by
    size as well as by count), two dealerships, and records at the same instant (ties)."""
    sizes = [300, 2_000, 40_000, 100_000, MAX_RECORD_BYTES]
    rows = [record(i, sizes[i % len(sizes)], day=i // 3) for i in range(40)]
    rows += [record(i, sizes[i % len(sizes)], dealer="DLR-SBY-002", day=i // 3) for i in range(0, 40, 4)]
    return rows


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """The same records in SQLite and in DynamoDB (moto), for the whole module."""
    from moto import mock_aws

    from adapters.aws.session import AwsClients
    from tests.integration.aws_stack import FAKE_CREDENTIALS, create_stack

    patch = pytest.MonkeyPatch()
    for name, value in FAKE_CREDENTIALS.items():
        patch.setenv(name, value)
    patch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        stack = create_stack()
        dynamodb = DynamoRecordRepository(AwsClients(), stack.table_name)
        sqlite = SqliteRecordRepository(tmp_path_factory.mktemp("history") / "db.sqlite")
        rows = mixed_records()
        dynamodb.put_if_newer(rows)
        sqlite.put_if_newer(rows)
        yield sqlite, dynamodb
    patch.undo()


def test_the_mixed_records_need_several_dynamodb_pages_even_at_the_largest_limit(both) -> None:
    _, dynamodb = both
    first, token = dynamodb.history(VIN, 200)
    assert token is not None and len(first) < len(mixed_records())


@pytest.mark.parametrize("limits", [range(start, start + 20) for start in range(1, 201, 20)], ids=lambda r: str(r))
def test_sqlite_and_dynamodb_give_the_same_records_in_the_same_order_at_every_limit(both, limits) -> None:
    sqlite, dynamodb = both
    rows = mixed_records()
    expected = [
        (str(r["dealer_id"]), str(r["service_record_id"]))
        for r in sorted(rows, key=lambda r: (r["service_date"], r["dealer_id"], r["service_record_id"]), reverse=True)
    ]
    for limit in limits:
        assert every_page(sqlite, limit) == expected, f"SQLite, limit {limit}"
        assert every_page(dynamodb, limit) == expected, f"DynamoDB, limit {limit}"
