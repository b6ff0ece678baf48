"""A dealer asks what became of a submission: received, then processed with every rejected
row and the rules it broke; nobody else can see it, or tell that it exists."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from application.processing.process_raw_file import ProcessRawFile
from domain.dealer_access import OPERATOR, Caller
from tests.api_keys import keyed_app
from tests.factories import a_record

JAKARTA = Caller(dealer_id="DLR-JKT-001")
SURABAYA = Caller(dealer_id="DLR-SBY-002")


@pytest.fixture
def submitted(raw, cleaned, errors, clock):
    body = [a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"}), a_record("SR-3")]
    receipt = SubmitRecord(raw, clock)(orjson.dumps(body), JAKARTA)
    return receipt, SubmissionStatus(raw, cleaned, errors)


def test_received_then_processed_with_every_rejected_row(submitted, raw, cleaned, errors, clock) -> None:
    receipt, status = submitted
    report = status(receipt.submission_id, JAKARTA)
    assert report.status == "received" and report.record_count == 3 and report.valid_rows is None
    ProcessRawFile(raw, cleaned, errors, clock)(receipt.file_key)
    report = status(receipt.submission_id, JAKARTA).to_dict()
    assert (report["status"], report["valid_rows"], report["rejected_rows"]) == ("processed", 2, 1)
    (row,) = report["rejected"]
    assert row["index"] == 1 and row["service_record_id"] == "SR-2"
    assert "vin_format" in {e["rule"] for e in row["errors"]}
    assert "record" not in row  # the dealer has it; the report stays small


def test_only_the_submitting_dealer_or_an_admin_sees_it(submitted) -> None:
    receipt, status = submitted
    assert status(receipt.submission_id, SURABAYA) is None  # as if it did not exist
    assert status(receipt.submission_id, OPERATOR) is not None


@pytest.mark.parametrize("submission_id", ["../../etc/passwd", "", "x" * 200, "0f0e0d0c-0000-4000-8000-00000000ffff"])
def test_an_unknown_or_impossible_id_is_none(submitted, submission_id) -> None:
    _, status = submitted
    assert status(submission_id, OPERATOR) is None


def test_a_file_that_could_not_be_read_is_failed_with_its_reason(submitted, raw, cleaned, errors, clock) -> None:
    receipt, status = submitted
    raw.put_bytes(receipt.file_key, b"\x89PNG not json")  # as if the object had been replaced
    ProcessRawFile(raw, cleaned, errors, clock)(receipt.file_key)
    report = status(receipt.submission_id, JAKARTA)
    assert report.status == "failed" and report.reason


def test_the_route_answers_200_404_and_401(raw, cleaned, errors, clock) -> None:
    app, key, _ = keyed_app(
        lambda: SubmitRecord(raw, clock),
        dealer_id="DLR-JKT-001",
        submission_status=lambda: SubmissionStatus(raw, cleaned, errors),
    )
    client = TestClient(app, headers={"x-api-key": key})
    receipt = client.post("/service-records", content=orjson.dumps([a_record("SR-1")])).json()
    answer = client.get(f"/submissions/{receipt['submission_id']}")
    assert answer.status_code == 200 and answer.json()["status"] == "received"
    assert client.get("/submissions/0f0e0d0c-0000-4000-8000-00000000ffff").status_code == 404
    assert client.get(f"/submissions/{receipt['submission_id']}", headers={"x-api-key": ""}).status_code == 401

    other, other_key, _ = keyed_app(
        lambda: SubmitRecord(raw, clock),
        dealer_id="DLR-SBY-002",
        submission_status=lambda: SubmissionStatus(raw, cleaned, errors),
    )
    stranger = TestClient(other, headers={"x-api-key": other_key})
    refused = stranger.get(f"/submissions/{receipt['submission_id']}")
    assert refused.status_code == 404 and refused.json()["error"] == "not_found"
