"""ForgetPerson on in-memory stores: one customer planted everywhere is gone from every store,
provably, and nothing of anyone else changes."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pytest

from adapters.local.in_memory import FixedKey, InMemoryRecordIndex, InMemoryTableCatalog
from application.analytics.publish_tables import PublishTables
from application.erasure.erasure_log import ERASED, NOTHING_HELD, TRACES_LEFT, ErasureLog
from application.erasure.forget import ForgetPerson
from application.erasure.person_rows import Person
from application.erasure.record_index import customer_lookup
from application.erasure.row_notes import RowNotes
from application.erasure.traces import TraceSearch
from application.loading.load_batch import LoadBatch
from application.operations.reconcile import Reconcile
from application.processing.process_raw_file import ProcessRawFile
from domain.analytics_tables import SCHEMAS
from domain.erasure import ErasureTarget, customer_token
from domain.record_identity import RecordKey
from tests import planted_customer as planted

TARGET = ErasureTarget(planted.DEALER, customer_id=planted.CUSTOMER)


@pytest.fixture
def world(raw, cleaned, errors, repository, clock):
    index, key, catalog = InMemoryRecordIndex(), FixedKey(), InMemoryTableCatalog()
    process = ProcessRawFile(raw, cleaned, errors, clock, notes=RowNotes(index, key))
    files = planted.raw_files()
    raw.put_bytes(files[0][0], b'{"an": "earlier version"}\n' + files[0][1], files[0][2])  # then replaced
    for raw_key, body, meta in files:
        raw.put_bytes(raw_key, body, meta)
        process(raw_key)
    LoadBatch(cleaned, repository, clock)()
    PublishTables(cleaned, errors, catalog, clock)()
    forget = ForgetPerson(raw, cleaned, errors, index, key, repository, catalog, clock, new_id=_ids())
    search = TraceSearch(raw, cleaned, errors, index, repository, catalog)
    return forget, search, index, key, catalog


def _ids():
    numbers = iter(range(1, 100))
    return lambda: f"00000000-0000-0000-0000-{next(numbers):012d}"


def _everything(raw, cleaned, errors, repository) -> dict[str, bytes]:
    stores = {"raw": raw, "cleaned": cleaned, "errors": errors}
    found = {f"{name}:{key}": data for name, store in stores.items() for key, data in store.objects.items()}
    found.update({f"table:{k}": orjson.dumps(v, option=orjson.OPT_SORT_KEYS) for k, v in repository.records.items()})
    return found


def test_before_an_erasure_the_search_finds_the_customer_in_every_store(world) -> None:
    _, search, _, key, _ = world
    person = Person(TARGET, frozenset(planted.THEIR_RECORDS), frozenset({planted.NAME}))
    token = customer_token(key.key(), planted.DEALER, planted.CUSTOMER)
    traces = search(person, customer_lookup(token), [planted.LINES_KEY, planted.ARRAY_KEY, planted.CSV_KEY])
    stores = {trace.store for trace in traces}
    assert stores == {"index", "raw", "cleaned", "errors", "table", "analytics"}
    places = {trace.place for trace in traces}
    assert f"{planted.LINES_KEY} (earlier versions)" in places
    assert {"fact_service_records", "dim_customer", "dim_customer_history", "dim_services_performed"} <= places
    assert {planted.CSV_KEY, f"unreadable/date={planted.DAY_2}/10-00-00_export.csv"} <= places


def test_forget_leaves_no_trace_and_changes_nothing_of_anyone_else(world, raw, cleaned, errors, repository) -> None:
    forget, _, _, _, _ = world
    before = _everything(raw, cleaned, errors, repository)

    request = forget(TARGET, requested_by="operator:test")

    assert request.status == ERASED, request.traces
    assert request.traces == []
    after = _everything(raw, cleaned, errors, repository)
    for place, data in after.items():
        assert planted.NAME.encode() not in data, place
        assert planted.NOTES.encode() not in data, place
        assert b"0812-555-0101" not in data, place
    changed = {place for place in before if before[place] != after.get(place)}
    # The other dealership's CUST-7 and the dealer's other customer: untouched, in every store.
    assert repository.records[RecordKey(planted.OTHER_DEALER, "SR-901")]["customer"]["customer_name"] == "Wayan Sudarta"
    assert repository.records[RecordKey(planted.DEALER, "SR-801")]["customer"]["customer_id"] == "CUST-8"
    assert f"table:{RecordKey(planted.DEALER, 'SR-801')}" not in changed
    assert f"table:{RecordKey(planted.OTHER_DEALER, 'SR-901')}" not in changed
    assert b'"Made Wirawan"' in raw.objects[planted.CSV_KEY]
    # Every line of the raw JSON Lines file but the person's keeps its bytes.
    old_lines = before[f"raw:{planted.LINES_KEY}"].splitlines()
    new_lines = raw.objects[planted.LINES_KEY].splitlines()
    assert [o == n for o, n in zip(old_lines, new_lines, strict=True)] == [False, True, False]
    assert raw.earlier.get(planted.LINES_KEY) is None


def test_the_vehicle_history_stays(world, repository) -> None:
    forget, *_ = world
    stored = repository.records[RecordKey(planted.DEALER, "SR-701")]
    forget(TARGET, requested_by="operator:test")
    erased = repository.records[RecordKey(planted.DEALER, "SR-701")]
    assert erased["customer"] == {"customer_id": None, "customer_name": None}
    assert [s["technician_notes"] for s in erased["service_details"]["services_performed"]] == [None]
    for kept in ("vin", "service_date", "dealer_id", "ingested_at", "vehicle", "dealer"):
        assert erased[kept] == stored[kept]
    assert erased["service_details"]["total_cost"] == 700_000  # the correction's version stays the current one


def test_the_same_request_again_changes_nothing_and_says_so(world, raw, cleaned, errors, repository) -> None:
    forget, *_ = world
    first = forget(TARGET, requested_by="operator:test")
    before = _everything(raw, cleaned, errors, repository)

    second = forget(TARGET, requested_by="operator:test")

    assert second.status == NOTHING_HELD
    assert second.earlier_requests == [first.request_id]
    assert _everything(raw, cleaned, errors, repository) == before | {
        f"raw:erasures/{second.request_id}.json": raw.objects[f"erasures/{second.request_id}.json"]
    }


def test_the_audit_trail_names_the_request_without_the_person(world, raw) -> None:
    forget, *_ = world
    request = forget(TARGET, requested_by="operator:test")
    trail = raw.objects[f"erasures/{request.request_id}.json"]
    assert planted.CUSTOMER.encode() not in trail and planted.NAME.encode() not in trail
    assert ErasureLog(raw).get(request.request_id) == request
    changed = orjson.loads(trail)["changed"]
    assert changed["raw"]["files_rewritten"] == [planted.LINES_KEY, planted.ARRAY_KEY, planted.CSV_KEY]
    assert changed["raw"]["earlier_versions_deleted"] >= 1
    assert changed["table"]["items_erased"] == 1
    assert changed["index"]["rows_forgotten"] == 3


def test_nothing_brings_the_person_back(world, raw, cleaned, errors, repository, clock) -> None:
    """A replay (or a DLQ redrive: the same processing), a late load and the next publish all
    read what the erasure rewrote."""
    forget, search, index, key, catalog = world
    request = forget(TARGET, requested_by="operator:test")
    process = ProcessRawFile(raw, cleaned, errors, clock, notes=RowNotes(index, key))
    for raw_key in (planted.LINES_KEY, planted.ARRAY_KEY, planted.CSV_KEY):
        process(raw_key)
    LoadBatch(cleaned, repository, clock)()
    PublishTables(cleaned, errors, catalog, clock)()
    person = Person(TARGET, frozenset(planted.THEIR_RECORDS), frozenset({planted.NAME}))
    token = customer_token(key.key(), planted.DEALER, planted.CUSTOMER)
    keys = [planted.LINES_KEY, planted.ARRAY_KEY, planted.CSV_KEY]
    assert request.status == ERASED
    # The replay's overwrites leave earlier versions (of erased files): the search counts any
    # version as a trace, so they are read here instead, with everything else.
    traces = search(person, customer_lookup(token), keys)
    assert [t for t in traces if not t.place.endswith("(earlier versions)")] == []
    stores = (raw, cleaned, errors)
    every = [data for s in stores for data in (*s.objects.values(), *(v for vs in s.earlier.values() for v in vs))]
    assert not [data for data in every if planted.NAME.encode() in data or planted.NOTES.encode() in data]


def test_an_unreadable_files_reason_that_quotes_the_customer_loses_them(
    raw, cleaned, errors, repository, clock
) -> None:
    """The reason quotes a file's first bytes: with short ids, the dealer, the customer and their
    name all fit, and the reason is made again from the redacted file."""
    key = "service-records/date=2026-11-24/11-00-00_short.csv"
    raw.put_bytes(key, b'"D1","C7","Siti"\n"D1","C8","Agus"\n', {"ingested-at": "2026-11-24T11:00:00+00:00"})
    index, pseudonyms = InMemoryRecordIndex(), FixedKey()
    ProcessRawFile(raw, cleaned, errors, clock, notes=RowNotes(index, pseudonyms))(key)
    reason = "unreadable/date=2026-11-24/11-00-00_short.csv.reason.json"
    assert b'\\"C7\\"' in errors.objects[reason]  # planted: the reason quotes the customer
    forget = ForgetPerson(raw, cleaned, errors, index, pseudonyms, repository, None, clock, new_id=_ids())

    request = forget(ErasureTarget("D1", customer_id="C7"), requested_by="operator:test")

    assert request.status == ERASED and request.traces == []
    for store in (raw, errors):
        for data in store.objects.values():
            assert b"C7" not in data and b"Siti" not in data
    assert b'"C8","Agus"' in raw.objects[key]  # the other customer's line stays


def test_a_record_named_by_its_id_loses_its_customer_and_notes(world, repository) -> None:
    forget, *_ = world
    request = forget(ErasureTarget(planted.DEALER, service_record_id="SR-701"), requested_by="operator:test")
    assert request.status == ERASED, request.traces
    assert request.traces == []
    erased = repository.records[RecordKey(planted.DEALER, "SR-701")]
    assert erased["customer"] == {"customer_id": None, "customer_name": None}
    assert [s["technician_notes"] for s in erased["service_details"]["services_performed"]] == [None]
    assert repository.records[RecordKey(planted.DEALER, "SR-801")]["customer"]["customer_id"] == "CUST-8"


def test_a_trace_left_behind_is_named_and_the_request_is_not_called_erased(world, monkeypatch) -> None:
    forget, _, _, _, catalog = world
    monkeypatch.setattr(catalog, "erase_rows", lambda table, where, blank: 0)  # a table that kept the rows
    request = forget(TARGET, requested_by="operator:test")
    assert request.status == TRACES_LEFT
    assert {(t["store"], t["place"]) for t in request.traces} >= {("analytics", "fact_service_records")}
    assert planted.CUSTOMER not in orjson.dumps(request.traces).decode()


def test_reconcile_adds_up_the_same_after_an_erasure(world, raw, cleaned, errors, repository) -> None:
    forget, _, _, _, catalog = world
    reconcile = Reconcile(raw, cleaned, errors, repository, catalog)
    before = {day: reconcile(day).to_dict() for day in (planted.DAY_1, planted.DAY_2)}
    forget(TARGET, requested_by="operator:test")
    for day, was in before.items():
        after = reconcile(day).to_dict()
        assert after["problems"] == [], after
        # Every row in the same place; the rewritten files' rows wait for the next load and
        # publish, which write them again as they now are.
        assert after["loaded_rows"] + after["awaiting_load_rows"] == was["loaded_rows"] + was["awaiting_load_rows"]
        moved = ("loaded_rows", "awaiting_load_rows", "published_rows", "awaiting_publish_rows")
        assert {k: v for k, v in after.items() if k not in moved} == {k: v for k, v in was.items() if k not in moved}


@pytest.mark.parametrize("table", sorted(SCHEMAS))
def test_a_records_rows_are_judged_in_every_analytics_table(table) -> None:
    """Every table, with or without a record id or a customer: only the record's row that still
    names a customer counts (before the fix, a table without record ids raised KeyError)."""
    schema = pa.schema([column.with_nullable(True) for column in SCHEMAS[table]])
    row = {"dealer_id": planted.DEALER, "service_record_id": "SR-701", "customer_id": planted.CUSTOMER}
    rows = pa.Table.from_pylist([row, {**row, "service_record_id": "SR-801"}], schema=schema)
    record = Person(ErasureTarget(planted.DEALER, service_record_id="SR-701"))
    expected = int({"service_record_id", "customer_id"} <= set(schema.names))
    assert record.rows_in(rows) == expected
