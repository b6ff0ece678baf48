"""A customer id is the dealership's own: the same id at two dealerships is two people, in the
staged dim_customer of a file and in the published dimension, whatever the mix of rows."""

from __future__ import annotations

import io

import orjson
import pyarrow.parquet as pq
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.local.in_memory import FixedClock, InMemoryObjectStore, InMemoryTableCatalog
from application.analytics.publish_tables import PublishTables
from application.processing.process_raw_file import ProcessRawFile
from tests.factories import NOW, a_record

KEY = "service-records/date=2026-11-25/10-00-00_mixed.jsonl"


def _customers(rows: list[tuple[str, str, str]]) -> tuple[dict, InMemoryTableCatalog]:
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    records = [
        a_record(f"SR-{i}", {"dealer.dealer_id": dealer, "customer": {"customer_id": customer, "customer_name": name}})
        for i, (dealer, customer, name) in enumerate(rows)
    ]
    raw.put_bytes(KEY, b"".join(orjson.dumps(r) + b"\n" for r in records))
    ProcessRawFile(raw, cleaned, errors, FixedClock(NOW))(KEY)
    staged = pq.read_table(
        io.BytesIO(cleaned.objects["parquet/dim_customer/date=2026-11-25/10-00-00_mixed.jsonl.parquet"])
    )
    catalog = InMemoryTableCatalog()
    PublishTables(cleaned, errors, catalog, FixedClock(NOW))()
    return {(r["dealer_id"], r["customer_id"]): r["customer_name"] for r in staged.to_pylist()}, catalog


def _published(catalog: InMemoryTableCatalog) -> dict:
    rows = catalog.read("dim_customer").to_pylist()
    return {(r["dealer_id"], r["customer_id"]): r["customer_name"] for r in rows}


def test_the_same_customer_id_at_two_dealerships_is_two_customers() -> None:
    rows = [("DLR-JKT-001", "CUST-7", "Siti Rahmawati"), ("DLR-SBY-002", "CUST-7", "Wayan Sudarta")]
    staged, catalog = _customers(rows)
    expected = {("DLR-JKT-001", "CUST-7"): "Siti Rahmawati", ("DLR-SBY-002", "CUST-7"): "Wayan Sudarta"}
    assert staged == expected
    assert _published(catalog) == expected


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["DLR-A", "DLR-B", "DLR-C"]), st.sampled_from(["C-1", "C-2"]), st.sampled_from(["X", "Y"])
        ),
        min_size=1,
        max_size=12,
    )
)
def test_each_dealerships_customer_keeps_their_own_last_name(rows) -> None:
    staged, catalog = _customers(rows)
    last = {(dealer, customer): name for dealer, customer, name in rows}
    assert staged == last
    assert _published(catalog) == last
