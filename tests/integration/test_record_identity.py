"""A record's identity is (dealer_id, service_record_id), on SQLite and on DynamoDB (moto).

Dealer systems number their records independently: two dealerships sending ``SR-1`` is
normal. Both records are kept, each corrected only by its own dealership (newer
``ingested_at`` still wins within one), and every reader (the table, history, one record,
submission status, insights, reconcile) sees both.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest

from adapters.duckdb_engine import DuckDbEngine
from application.analytics.insights import BuildInsights
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from domain.dealer_access import Caller
from domain.record_identity import RecordKey
from tests.factories import a_record
from tests.integration.backends import BACKENDS, backend, settle
from tests.published import published

JAKARTA, SURABAYA = "DLR-JKT-001", "DLR-SBY-002"
VIN_A, VIN_B = "MHFXX12G3K1234567", "MHKA1BA1JNK765432"
ADMIN = Caller(dealer_id=None, admin=True, key_id="admin")


class StepClock:
    """A clock that moves a second on every reading: each submission is ingested later."""

    def __init__(self) -> None:
        self.current = datetime.now(timezone.utc).replace(microsecond=0)

    def now(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


def jakarta(odometer: int) -> dict:
    return a_record("SR-1", {"vehicle.odometer_reading": odometer})


def surabaya(odometer: int) -> dict:
    return a_record(
        "SR-1",
        {
            "dealer.dealer_id": SURABAYA,
            "dealer.dealer_location": "Surabaya",
            "vehicle.vin": VIN_B,
            "vehicle.odometer_reading": odometer,
            "customer.customer_name": "Siti Rahayu",
        },
    )


@pytest.fixture(params=BACKENDS)
def pipeline(request, tmp_path):
    if request.param == "moto":
        request.getfixturevalue("aws_env")
    with backend(request.param, tmp_path / "d") as made:
        yield made


def submit_all(b, submissions: list[tuple[Caller, dict]]) -> list[str]:
    submit = SubmitRecord(b.raw, StepClock())
    ids = [submit(orjson.dumps([record]), caller).submission_id for caller, record in submissions]
    settle(b, b.queue, b.process())
    b.load()
    return ids


def odometer(record: dict | None) -> object:
    assert record is not None
    return record["vehicle"]["odometer_reading"]  # type: ignore[index]


def test_two_dealerships_one_id_both_kept_each_corrected_only_by_its_own(pipeline) -> None:
    b = pipeline
    dealer_a, dealer_b = Caller(JAKARTA, key_id="a"), Caller(SURABAYA, key_id="b")
    submissions = submit_all(
        b,
        [
            (dealer_a, jakarta(10_000)),
            (dealer_b, surabaya(20_000)),
            (dealer_b, surabaya(21_000)),  # Surabaya corrects its own SR-1
            (ADMIN, jakarta(11_000)),  # an admin sending Jakarta's dealer_id: Jakarta's record
        ],
    )
    assert odometer(b.repository.get(RecordKey(JAKARTA, "SR-1"))) == 11_000
    assert odometer(b.repository.get(RecordKey(SURABAYA, "SR-1"))) == 21_000
    assert sorted(r["dealer_id"] for r in b.repository.with_id("SR-1")) == [JAKARTA, SURABAYA]

    history = VehicleHistory(b.repository)
    assert [odometer(r) for r in history(VIN_A, dealer_a).records] == [11_000]
    assert [odometer(r) for r in history(VIN_B, dealer_b).records] == [21_000]

    lookup = ServiceRecordLookup(b.repository)
    assert odometer(lookup("SR-1", dealer_a)) == 11_000
    assert odometer(lookup("SR-1", dealer_b)) == 21_000

    status = SubmissionStatus(b.raw, b.cleaned, b.errors)
    for submission, caller in zip(submissions, [dealer_a, dealer_b, dealer_b, ADMIN], strict=True):
        report = status(submission, caller)
        assert report is not None and report.status == "processed" and report.valid_rows == 1

    date = datetime.now(timezone.utc).date().isoformat()
    reconciliation = b.reconcile(date)
    assert reconciliation.ok, reconciliation.problems
    assert reconciliation.cleaned_rows == reconciliation.loaded_rows == 4

    assert BuildInsights(published(b.cleaned, b.errors), DuckDbEngine())().records == 2


def test_a_file_holding_both_dealerships_ids_keeps_both(pipeline) -> None:
    """The worker's duplicate check is by (dealer, id): an admin's file with Jakarta's and
    Surabaya's SR-1 has no duplicate; a repeat within one dealership still is one."""
    b = pipeline
    submit = SubmitRecord(b.raw, StepClock())
    body = orjson.dumps([jakarta(10_000), surabaya(20_000), surabaya(22_000)])
    submission = submit(body, ADMIN).submission_id
    settle(b, b.queue, b.process())
    b.load()
    report = SubmissionStatus(b.raw, b.cleaned, b.errors)(submission, ADMIN)
    assert report is not None and (report.valid_rows, report.rejected_rows) == (2, 1)
    assert [(r.index, [e["rule"] for e in r.errors]) for r in report.rejected] == [(1, ["duplicate_id"])]
    assert odometer(b.repository.get(RecordKey(JAKARTA, "SR-1"))) == 10_000
    assert odometer(b.repository.get(RecordKey(SURABAYA, "SR-1"))) == 22_000
