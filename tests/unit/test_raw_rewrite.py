"""A raw file rewritten without one person: theirs erased, every other byte as it was, in
every format the worker reads, whatever the mix of records and layout."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from application.erasure.raw_rewrite import REDACTED, rewrite_raw
from domain.erasure import ErasureTarget, erased, is_erased
from tests.factories import a_record

TARGET = ErasureTarget("DLR-JKT-001", customer_id="CUST-7")


def _record(i: int, dealer: str, customer: str | None) -> dict:
    changes = {"dealer.dealer_id": dealer, "service_details.services_performed.0.technician_notes": f"note {i}"}
    changes["customer"] = None if customer is None else {"customer_id": customer, "customer_name": f"Name {i}"}
    record = a_record(f"SR-{i}", changes)
    if customer is None:
        record.pop("customer", None)
    return record


people = st.lists(
    st.tuples(st.sampled_from(["DLR-JKT-001", "DLR-SBY-002"]), st.sampled_from(["CUST-7", "CUST-8", " CUST-7 ", None])),
    min_size=1,
    max_size=8,
)
spacing = st.sampled_from([b"", b" ", b"\n  ", b"\r\n"])


def _theirs(record: dict) -> bool:
    return TARGET.holds(record)


@settings(max_examples=60, deadline=None)
@given(people, spacing)
def test_json_lines_keep_every_other_line_byte_for_byte(rows, space) -> None:
    records = [_record(i, dealer, customer) for i, (dealer, customer) in enumerate(rows)]
    lines = [space.strip(b"\n\r") + orjson.dumps(r, option=orjson.OPT_INDENT_2).replace(b"\n", b"") for r in records]
    data = b"\n".join(lines) + b"\n"
    result = rewrite_raw(data, TARGET)
    new_lines = result.data.split(b"\n")[:-1]
    assert len(new_lines) == len(records)
    for record, old, new in zip(records, lines, new_lines, strict=True):
        if _theirs(record):
            assert orjson.loads(new) == erased(record)
        else:
            assert new == old
    assert result.records == sum(map(_theirs, records))


@settings(max_examples=60, deadline=None)
@given(people, spacing)
def test_a_json_array_keeps_every_other_element_and_separator_byte_for_byte(rows, space) -> None:
    records = [_record(i, dealer, customer) for i, (dealer, customer) in enumerate(rows)]
    elements = [orjson.dumps(r) for r in records]
    data = b"[" + space + (b"," + space).join(elements) + space + b"]"
    result = rewrite_raw(data, TARGET)
    expected = (
        b"["
        + space
        + (b"," + space).join(
            orjson.dumps(erased(r)) if _theirs(r) else e for r, e in zip(records, elements, strict=True)
        )
        + space
        + b"]"
    )
    assert result.data == expected
    assert all(is_erased(r) or not _theirs(r) for r in orjson.loads(result.data))


def test_one_object_a_byte_order_mark_and_an_already_erased_record() -> None:
    mine = _record(1, "DLR-JKT-001", "CUST-7")
    assert orjson.loads(rewrite_raw(b"\xef\xbb\xbf" + orjson.dumps(mine), TARGET).data[3:]) == erased(mine)
    done = orjson.dumps(erased(mine))
    again = rewrite_raw(done, TARGET)
    assert (again.data, again.records, again.changed) == (done, 0, False)


@pytest.mark.parametrize(
    ("text", "redacted"),
    [
        (b'"DLR-JKT-001","SR-9","CUST-7","Siti"\n', True),  # the dealer named: its customer goes
        (b'"DLR-SBY-002","SR-9","CUST-7","Siti"\n', False),  # another dealership's CUST-7 stays
        (b'"DLR-JKT-001","SR-9","CUST-77","Siti"\n', False),  # only the whole id, quoted
    ],
)
def test_a_line_of_text_naming_the_dealer_and_the_customer_is_erased_whole(text, redacted) -> None:
    data = b"dealer,record,customer,name\n" + text + b'"DLR-JKT-001","SR-8","CUST-8","Agus"\n'
    result = rewrite_raw(data, TARGET)
    expected = data.replace(text, REDACTED + b"\n") if redacted else data
    assert (result.data, result.changed) == (expected, redacted)
