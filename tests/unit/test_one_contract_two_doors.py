"""One contract, two doors: the same record gets the same verdict through the API
(SubmitRecord) and through a bulk upload read by the worker (ProcessRawFile)."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from application.intake.submit_record import SubmissionError, SubmitRecord
from application.processing.process_raw_file import ProcessRawFile
from domain.dealer_access import OPERATOR
from tests.factories import BYTE_CHANGES, NOW, a_record, one_byte_changed

BASE = orjson.dumps(a_record("SR-X"))
FIRST_SERVICE = "service_details.services_performed.0"


def with_value(path: str, value: object) -> bytes:
    """The base record with ``path`` set to ``value`` (None is an explicit null)."""
    record = a_record("SR-X")
    *parents, last = path.split(".")
    target = record
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return orjson.dumps(record)


def with_text(old: bytes, new: bytes) -> bytes:
    assert old in BASE
    return BASE.replace(old, new, 1)


def nested(depth: int) -> bytes:
    return with_text(b'"customer":{', b'"customer":{"customer_id":' + b"[" * depth + b"]" * depth + b",")


ACCEPTED, REJECTED = "accepted", "rejected"
CASES = {
    "a valid record": (BASE, ACCEPTED),
    "services_performed null": (with_value("service_details.services_performed", None), REJECTED),
    "parts_used null": (with_value("service_details.parts_used", None), REJECTED),
    "services_performed absent": (with_text(b'"services_performed":', b'"x_services":'), ACCEPTED),
    "services_performed an object": (with_value("service_details.services_performed", {}), REJECTED),
    "a null part": (with_value("service_details.parts_used", [None]), REJECTED),
    "total_cost true": (with_value("service_details.total_cost", True), REJECTED),
    "quantity true": (with_value("service_details.parts_used.0.quantity", True), REJECTED),
    "year false": (with_value("vehicle.year", False), REJECTED),
    "odometer as text": (with_value("vehicle.odometer_reading", "45000"), ACCEPTED),
    "total_cost as text": (with_value("service_details.total_cost", "650000"), ACCEPTED),
    "year 2019.0": (with_value("vehicle.year", 2019.0), ACCEPTED),
    "year 2019.5": (with_value("vehicle.year", 2019.5), REJECTED),
    "numeric id": (with_value("service_record_id", 12345), ACCEPTED),
    "empty id": (with_value("service_record_id", ""), REJECTED),
    "blank dealer id": (with_value("dealer.dealer_id", "   "), REJECTED),
    "null vin": (with_value("vehicle.vin", None), REJECTED),
    "dealer a string": (with_value("dealer", "DLR-1"), REJECTED),
    "customer null": (with_value("customer", None), ACCEPTED),
    "unknown extra field": (with_text(b'"dealer":{', b'"extra":{"a":[1,2]},"dealer":{'), ACCEPTED),
    "date only": (with_value("service_details.service_date", "2026-11-20"), ACCEPTED),
    "date in words": (with_value("service_details.service_date", "soon"), REJECTED),
    "30 February": (with_value("service_details.service_date", "2026-02-30T10:00:00"), REJECTED),
    "hour without minutes": (with_value("service_details.service_date", "2026-11-20T10"), REJECTED),
    "date with nanoseconds": (with_value("service_details.service_date", "2026-11-20T10:30:00.123456789Z"), ACCEPTED),
    "NaN": (with_text(b'"total_cost":650000', b'"total_cost":NaN'), REJECTED),
    "Infinity": (with_text(b'"total_cost":650000', b'"total_cost":Infinity'), REJECTED),
    "-Infinity": (with_text(b'"unit_cost":85000', b'"unit_cost":-Infinity'), REJECTED),
    "1e400": (with_text(b'"total_cost":650000', b'"total_cost":1e400'), REJECTED),
    "integer past 64 bits": (with_text(b'"year":2019', b'"year":100000000000000000000'), REJECTED),
    "integer of 2**63": (with_text(b'"quantity":1,', b'"quantity":9223372036854775808,'), REJECTED),
    "escaped NUL in a name": (with_value("customer.customer_name", "Budi\x00Santoso"), REJECTED),
    "escaped escape character in notes": (
        with_value("service_details.services_performed.0.technician_notes", "a\x1bb"),
        REJECTED,
    ),
    "tab and newline in notes": (
        with_value("service_details.services_performed.0.technician_notes", "a\tb\nc"),
        ACCEPTED,
    ),
    "lone surrogate": (with_text(b'"Budi Santoso"', b'"Budi \\ud800"'), REJECTED),
    "raw DEL in a name": (with_text(b'"Budi Santoso"', b'"Budi\x7fSantoso"'), REJECTED),
    "raw DEL in notes": (with_text(b'"Ganti oli"', b'"Ganti\x7f oli"'), REJECTED),
    "1,001 parts": (
        with_value("service_details.parts_used", [{"part_name": "x", "quantity": 1, "unit_cost": 0}] * 1001),
        REJECTED,
    ),
    "nested 2,000 deep in a known field": (nested(2000), REJECTED),
    "record of 200 KB": (with_value(f"{FIRST_SERVICE}.technician_notes", "x" * 200_000), REJECTED),
}


def api_verdict(body: bytes) -> str:
    from adapters.local.in_memory import FixedClock, InMemoryObjectStore

    try:
        SubmitRecord(InMemoryObjectStore(), FixedClock(NOW))(b"[" + body + b"]", OPERATOR)
    except SubmissionError:
        return REJECTED
    return ACCEPTED


def worker_verdicts(raw, cleaned, errors, clock, body: bytes) -> list[str]:
    key = "service-records/date=2026-11-25/12-00-00_u_bulk.jsonl"
    raw.put_bytes(key, body + b"\n" + orjson.dumps(a_record("SR-NEXT")) + b"\n")
    result = ProcessRawFile(raw, cleaned, errors, clock)(key)
    assert result.total_rows == 2  # nothing lost
    rejected_key = "rejected/date=2026-11-25/12-00-00_u_bulk.jsonl.jsonl"
    rejected = {orjson.loads(line)["index"] for line in errors.objects.get(rejected_key, b"").splitlines()}
    return [REJECTED if i in rejected else ACCEPTED for i in range(2)]


@pytest.mark.parametrize("case", list(CASES))
def test_the_same_verdict_through_the_api_and_a_bulk_upload(raw, cleaned, errors, clock, case) -> None:
    body, expected = CASES[case]
    assert api_verdict(body) == expected
    first, second = worker_verdicts(raw, cleaned, errors, clock, body)
    assert first == expected
    assert second == ACCEPTED  # one bad row costs that row, never its file


def test_a_raw_del_row_gets_its_verdict_whatever_its_neighbours(raw, cleaned, errors, clock) -> None:
    """Control characters were only looked for in a block holding a \\u00 escape somewhere:
    a raw DEL went through alone and was rejected beside an escaped one."""
    del_row = with_text(b'"Budi Santoso"', b'"Budi\x7fSantoso"')
    escaped = with_value("customer.customer_name", "Budi\x00Santoso")
    for neighbours in ([], [BASE], [escaped]):
        key = f"service-records/date=2026-11-25/12-00-00_u_{len(neighbours)}.jsonl"
        raw.put_bytes(key, b"\n".join([del_row, *neighbours]) + b"\n")
        ProcessRawFile(raw, cleaned, errors, clock)(key)
        lines = errors.objects[f"rejected/date=2026-11-25/12-00-00_u_{len(neighbours)}.jsonl.jsonl"].splitlines()
        rules = {orjson.loads(line)["index"]: {e["rule"] for e in orjson.loads(line)["errors"]} for line in lines}
        assert "control_character" in rules[0]  # (and duplicate_id: the neighbours reuse its id)


def array_verdicts(raw, cleaned, errors, clock, body: bytes) -> str | list[str]:
    """The worker's verdict on an array file: "unreadable", or each element's."""
    key = "service-records/date=2026-11-25/12-00-00_u_bulk.json"
    raw.put_bytes(key, body)
    result = ProcessRawFile(raw, cleaned, errors, clock)(key)
    if result.status == "unreadable":
        return "unreadable"
    rejected_key = "rejected/date=2026-11-25/12-00-00_u_bulk.json.jsonl"
    rejected = {orjson.loads(line)["index"] for line in errors.objects.get(rejected_key, b"").splitlines()}
    return [REJECTED if i in rejected else ACCEPTED for i in range(result.total_rows)]


NEXT = orjson.dumps(a_record("SR-NEXT"))


@pytest.mark.parametrize(
    ("body", "worker"),
    [
        # A raw line break inside a string: the API refuses the body, the worker that element.
        (b"[" + with_text(b'"Budi Santoso"', b'"Budi\nSantoso"') + b"," + NEXT + b"]", [REJECTED, ACCEPTED]),
        (b"[" + with_text(b'"Ganti oli"', b'"Ganti\r\noli"') + b"," + NEXT + b"]", [REJECTED, ACCEPTED]),
        # A trailing comma, or an empty element: not JSON, and no element to judge alone.
        (b"[" + BASE + b"," + NEXT + b",]", "unreadable"),
        (b"[" + BASE + b",," + NEXT + b"]", "unreadable"),
        (b"[," + BASE + b"]", "unreadable"),
    ],
    ids=["line feed in a string", "CR LF in a string", "trailing comma", "empty element", "leading comma"],
)
def test_what_the_api_refuses_in_an_array_the_worker_refuses_too(raw, cleaned, errors, clock, body, worker) -> None:
    from adapters.local.in_memory import FixedClock, InMemoryObjectStore

    with pytest.raises(SubmissionError):
        SubmitRecord(InMemoryObjectStore(), FixedClock(NOW))(body, OPERATOR)
    assert array_verdicts(raw, cleaned, errors, clock, body) == worker


# The rules the API's structural check can report: what both doors must agree on. (Business
# rules, vin_format and the like, are judged by the worker alone, after a 202.)
STRUCTURAL = {
    "required",
    "wrong_type",
    "service_date_format",
    "non_finite_number",
    "number_out_of_range",
    "control_character",
    "invalid_utf8",
    "record_too_large",
    "too_deeply_nested",
    "too_many_lines",
    "malformed_json",
    "not_an_object",
}
BYTES = b'{}[],:"\\ \n\t0-.eE+aZ\x00\x01\x1f\x7f\xc3\xff'


def worker_structural_verdict(body: bytes) -> str:
    """Through an array upload, beside a valid record: refused when the file is unreadable
    or the record broke a structural rule; else accepted (business rules aside)."""
    from adapters.local.in_memory import FixedClock, InMemoryObjectStore

    raw, cleaned, errors = InMemoryObjectStore(), InMemoryObjectStore(), InMemoryObjectStore()
    key = "service-records/date=2026-11-25/12-00-00_u_bulk.json"
    raw.put_bytes(key, b"[" + body + b"," + NEXT + b"]")
    result = ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(key)
    if result.status == "unreadable":
        return REJECTED
    lines = errors.objects.get("rejected/date=2026-11-25/12-00-00_u_bulk.json.jsonl", b"").splitlines()
    rules = {e["rule"] for line in lines if orjson.loads(line)["index"] == 0 for e in orjson.loads(line)["errors"]}
    return REJECTED if rules & STRUCTURAL else ACCEPTED


# 300 examples in make test; 1,500 passed by hand, and found a raw DEL's disagreement when
# its fix was taken out.
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9), st.sampled_from(BYTE_CHANGES), st.sampled_from(list(BYTES)))
def test_one_byte_changed_gets_one_verdict_at_both_doors(where, how, byte) -> None:
    """Any single byte of a valid record deleted, inserted or replaced (structural bytes,
    escapes, control bytes, a DEL, bytes that are not UTF-8): the API and an array upload
    accept or refuse it alike."""
    body = one_byte_changed(BASE, where % len(BASE), how, byte)
    assert worker_structural_verdict(body) == api_verdict(body), body
