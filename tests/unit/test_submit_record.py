"""SubmitRecord: structure checked with pydantic, stored unchanged, every problem listed."""

from __future__ import annotations

import re
from collections.abc import Callable

import orjson
import pytest

from application.intake.submit_record import (
    MAX_SUBMISSION_BYTES,
    MalformedSubmission,
    Receipt,
    SubmissionRejected,
    SubmissionTooLarge,
    SubmitRecord,
)
from application.processing.process_raw_file import META_INGESTED_AT, META_SUBMISSION_ID
from domain.dealer_access import OPERATOR
from tests.factories import a_record


@pytest.fixture
def submit(raw, clock) -> Callable[[bytes], Receipt]:
    """SubmitRecord as the operator (an admin) calls it."""
    use_case = SubmitRecord(raw, clock, new_id=lambda: "0f0e0d0c-0000-4000-8000-000000000001")
    return lambda body: use_case(body, OPERATOR)


def test_a_sound_submission_is_stored_byte_for_byte(submit, raw) -> None:
    body = (
        b'[ {"extra_top_level": true, '
        + orjson.dumps(a_record("SR-1"))[1:]
        + b", "
        + orjson.dumps(a_record("SR-2"))
        + b"]"
    )
    receipt = submit(body)
    assert receipt.to_dict() == {
        "status": "accepted",
        "submission_id": "0f0e0d0c-0000-4000-8000-000000000001",
        "file_key": "service-records/date=2026-11-25/12-00-00_0f0e0d0c-0000-4000-8000-000000000001.json",
        "record_count": 2,
    }
    assert raw.objects[receipt.file_key] == body
    assert raw.metadata[receipt.file_key][META_SUBMISSION_ID] == receipt.submission_id
    assert raw.metadata[receipt.file_key][META_INGESTED_AT] == "2026-11-25T12:00:00+00:00"


def test_one_object_is_a_batch_of_one(submit) -> None:
    assert submit(orjson.dumps(a_record())).record_count == 1


def test_ids_are_unique_per_submission(raw, clock) -> None:
    submit = SubmitRecord(raw, clock)
    keys = {submit(orjson.dumps(a_record()), OPERATOR).file_key for _ in range(3)}
    assert len(keys) == 3 == len([key for key in raw.objects if key.startswith("service-records/")])
    assert all(re.fullmatch(r"service-records/date=2026-11-25/12-00-00_[0-9a-f-]{36}\.json", k) for k in keys)


@pytest.mark.parametrize("body", [b"{not json", b"", b"[1, 2", "\u00ff".encode("latin-1")])
def test_malformed_json_is_refused_and_nothing_is_stored(submit, raw, body) -> None:
    with pytest.raises(MalformedSubmission, match="not valid JSON"):
        submit(body)
    assert raw.objects == {}


@pytest.mark.parametrize(
    ("body", "message"), [(b"42", "got int"), (b'"x"', "got str"), (b"null", "got null"), (b"[]", "array is empty")]
)
def test_wrong_top_level_shapes_are_rejected(submit, raw, body, message) -> None:
    with pytest.raises(SubmissionRejected) as caught:
        submit(body)
    (problem,) = caught.value.problems
    assert problem.index is None and message in problem.message
    assert raw.objects == {}


def test_every_structural_problem_is_listed_with_index_id_and_path(submit, raw) -> None:
    missing = a_record("SR-2", {"vehicle.vin": None, "dealer": None})
    wrong = a_record("SR-3", {"vehicle.odometer_reading": "far", "service_details.parts_used.0.quantity": "two"})
    body = orjson.dumps([a_record("SR-1"), missing, wrong, "not a record"])
    with pytest.raises(SubmissionRejected) as caught:
        submit(body)
    problems = {(p.index, p.service_record_id, p.field) for p in caught.value.problems}
    assert problems == {
        (1, "SR-2", "dealer"),
        (1, "SR-2", "vehicle.vin"),
        (2, "SR-3", "vehicle.odometer_reading"),
        (2, "SR-3", "service_details.parts_used[0].quantity"),
        (3, None, "(record)"),
    }
    assert raw.objects == {}


def test_numeric_strings_are_accepted_as_numbers_and_numbers_as_ids(submit) -> None:
    record = a_record(changes={"vehicle.year": "2019", "dealer.dealer_id": 1234})
    assert submit(orjson.dumps(record)).record_count == 1


def test_bodies_over_six_megabytes_are_refused(submit, raw) -> None:
    body = b"[" + b" " * MAX_SUBMISSION_BYTES + b"]"
    with pytest.raises(SubmissionTooLarge, match="bulk file"):
        submit(body)
    assert raw.objects == {}


def test_a_dealer_submits_its_own_records_and_is_named_on_the_raw_object(raw, clock) -> None:
    from domain.dealer_access import Caller

    dealer = Caller(dealer_id="DLR-JKT-001")
    receipt = SubmitRecord(raw, clock)(orjson.dumps([a_record("A"), a_record("B")]), dealer)
    assert raw.head(receipt.file_key).metadata["submitted-by"] == "dealer:DLR-JKT-001"


@pytest.mark.parametrize(
    "change", [{"dealer.dealer_id": "DLR-SBY-002"}, {"dealer.dealer_id": None}, {"dealer": "DLR-JKT-001"}]
)
def test_another_dealers_record_refuses_the_whole_submission(raw, clock, change) -> None:
    from application.intake.submit_record import SubmissionForbidden
    from domain.dealer_access import Caller

    body = orjson.dumps([a_record("A"), a_record("B", change)])
    with pytest.raises(SubmissionForbidden, match="index 1") as refused:
        SubmitRecord(raw, clock)(body, Caller(dealer_id="DLR-JKT-001"))
    assert refused.value.indices == [1] and raw.objects == {}
