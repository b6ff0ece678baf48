"""A malformed element of a JSON array never swallows its neighbours: each element is still
read and counted once, or the file is unreadable with the byte offset of the error. Never a
merge of elements, never fragments."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import BYTE_CHANGES, a_record, one_byte_changed
from tests.one_file import process_one_file


def array_of(count: int) -> bytes:
    return orjson.dumps([a_record(f"SR-{i}") for i in range(count)])


def element_start(body: bytes, index: int) -> int:
    return body.index(b'{"service_record_id":"SR-%d"' % index)


def process(body: bytes, mutated: bool = False) -> tuple[str, str, list[int], dict[int, bytes]]:
    """(status, reason, cleaned record indices in order, rejected rows' text by index). Each
    cleaned row is its own element (its id names its index), but for one ``mutated`` row."""
    done = process_one_file(body)
    lines = done.cleaned_lines()
    valid = [r["record_index"] for r in lines]
    strangers = [r for r in lines if r["service_record_id"] != f"SR-{r['record_index']}"]
    assert len(strangers) <= int(mutated), strangers
    rejected = {row["index"]: orjson.dumps(row["record"]) for row in done.rejected_rows()}
    if done.result.status == "unreadable":
        assert not valid and not rejected and done.unreadable() == body
    return done.result.status, done.result.reason or "", valid, rejected


def test_a_missing_brace_makes_the_file_unreadable_at_the_element_that_lacks_it() -> None:
    body = array_of(1_000)
    start = element_start(body, 10)
    broken = body[: start + len(b"{")] + body[start + 1 :].replace(b"}", b"", 1)  # its first '}' gone
    status, reason, _, _ = process(broken)
    assert status == "unreadable"
    assert reason.startswith(f"the JSON array is broken at byte {len(broken) - 1:,}: ']' where '}}' should close")
    assert f"the '{{' at byte {start:,} (a bracket is missing or extra in that element)" in reason
    assert reason.endswith("; fix the file (elements are objects separated by commas) and upload it again")


def test_a_stray_brace_makes_the_file_unreadable_where_it_is() -> None:
    body = array_of(1_000)
    at = element_start(body, 10) - 1  # the comma before element 10: "},}{"
    broken = body[:at] + b"}" + body[at:]
    status, reason, _, _ = process(broken)
    assert status == "unreadable" and reason.startswith(f"the JSON array is broken at byte {at:,}: ")


def test_an_early_closing_bracket_makes_the_file_unreadable_instead_of_dropping_the_tail() -> None:
    body = array_of(1_000)
    at = element_start(body, 10) - 1
    broken = body[:at] + b"]" + body[at:]
    status, reason, _, _ = process(broken)
    assert status == "unreadable"
    assert reason.startswith(f"the JSON array is broken at byte {at + 1:,}: something after the array's closing ']'")


def test_a_missing_comma_between_elements_makes_the_file_unreadable() -> None:
    body = array_of(20)
    at = element_start(body, 10) - 1
    broken = body[:at] + b" " + body[at + 1 :]
    status, reason, _, _ = process(broken)
    assert status == "unreadable"
    assert reason == (
        f"the JSON array is broken at byte {at + 1:,}: an element without a ',' before it; "
        "fix the file (elements are objects separated by commas) and upload it again"
    )


def test_a_malformed_element_with_whole_brackets_costs_that_element_only() -> None:
    body = array_of(1_000).replace(b'"model":"Toyota Avanza",', b'"model":"Toyota Avanza" ', 1)  # element 0
    status, _, valid, rejected = process(body)
    assert status == "processed" and list(rejected) == [0] and valid == list(range(1, 1_000))


def test_a_file_cut_short_keeps_its_whole_elements_and_rejects_the_tail() -> None:
    body = array_of(50)
    cut = body[: element_start(body, 40) + 30]
    status, _, valid, rejected = process(cut)
    assert status == "processed" and valid == list(range(40)) and list(rejected) == [40]


@pytest.mark.parametrize("chunk", [1, 7, 64])
def test_the_checks_hold_across_chunk_boundaries(chunk) -> None:
    from application.processing.json_array_splitter import ArraySplitter, BrokenArray

    body = array_of(5)
    start = element_start(body, 3)
    broken = bytearray(body[: start + 1] + body[start + 1 :].replace(b"}", b"", 1))
    splitter = ArraySplitter()
    with pytest.raises(BrokenArray) as raised:
        for at in range(0, len(broken), chunk):
            splitter.feed(memoryview(broken)[at : at + chunk])
    assert raised.value.offset == len(broken) - 1 and f"byte {start:,}" in str(raised.value)


STRUCTURE = b'{}[],": \n'


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10**9), st.sampled_from(BYTE_CHANGES), st.sampled_from(list(STRUCTURE)))
def test_one_byte_changed_never_merges_or_fragments_elements(where, how, byte) -> None:
    body = array_of(12)
    at = 1 + where % (len(body) - 1)  # not the first byte: the opening bracket decides the format
    status, reason, valid, rejected = process(one_byte_changed(body, at, how, byte), mutated=True)
    if status == "unreadable":
        assert reason  # with its reason (a broken array names the byte)
        return
    assert sorted(valid + list(rejected)) == list(range(len(valid) + len(rejected)))
    assert len(valid) + len(rejected) == 12, "elements merged or cut into fragments"
