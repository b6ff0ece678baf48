"""reconcile compares the table's records with their cleaned lines by content, on SQLite and
on DynamoDB (moto): a record changed in place, its ingested_at untouched, is named; records
as loaded (numbers read back from DynamoDB's decimals included) are not."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

import boto3
import orjson
import pytest

from application.intake.submit_record import SubmitRecord
from domain.dealer_access import OPERATOR
from tests.factories import a_record
from tests.integration.backends import BACKENDS, backend, settle
from tests.integration.test_record_identity import StepClock


@pytest.fixture(params=BACKENDS)
def loaded(request, tmp_path):
    if request.param == "moto":
        request.getfixturevalue("aws_env")
    with backend(request.param, tmp_path / "d") as b:
        records = [a_record(f"SR-{i}", {"service_details.total_cost": 650_000.5 + i}) for i in range(3)]
        SubmitRecord(b.raw, StepClock())(orjson.dumps(records), OPERATOR)
        settle(b, b.queue, b.process())
        assert b.load().ok
        yield b, tmp_path / "d"


def change_odometer(b, folder, record_id: str) -> None:
    if b.stack is None:
        with sqlite3.connect(folder / "service_records.sqlite") as db:
            (blob,) = db.execute(
                "SELECT record FROM service_records WHERE service_record_id = ?", (record_id,)
            ).fetchone()
            record = orjson.loads(blob)
            record["vehicle"]["odometer_reading"] = 1
            db.execute(
                "UPDATE service_records SET record = ? WHERE service_record_id = ?", (orjson.dumps(record), record_id)
            )
        return
    boto3.client("dynamodb").update_item(
        TableName=b.stack.table_name,
        Key={"service_record_id": {"S": record_id}, "dealer_id": {"S": "DLR-JKT-001"}},
        UpdateExpression="SET vehicle.odometer_reading = :one",
        ExpressionAttributeValues={":one": {"N": "1"}},
    )


def test_records_as_loaded_pass_and_one_changed_in_place_is_named(loaded) -> None:
    b, folder = loaded
    date = datetime.now(timezone.utc).date().isoformat()
    assert b.reconcile(date).ok
    change_odometer(b, folder, "SR-1")
    report = b.reconcile(date)
    assert [(p.service_record_id, p.problem) for p in report.problems] == [
        ("SR-1", "the table's record differs from its cleaned line, at the same ingested_at (changed in place?)")
    ]
