"""Which rows of a table, a cleaned line or a rejected row still hold an erasure's person.

One definition for the proof search over every store: a row holds the person when it names
the customer (their id, at their dealership), or is one of their records and still carries a
customer or technician notes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
import pyarrow as pa
import pyarrow.compute as pc

from domain.erasure import TECHNICIAN_NOTES as NOTES
from domain.erasure import ErasureTarget, is_erased


@dataclass(frozen=True)
class Person:
    """An erasure's target, with what the erasure learnt of them: their records and names."""

    target: ErasureTarget
    records: frozenset[str] = field(default_factory=frozenset)  # their service_record_ids
    names: frozenset[str] = field(default_factory=frozenset)

    @property
    def record_ids(self) -> frozenset[str]:
        """Their records' ids: those the erasure found, and the one a record's request names."""
        named = self.target.service_record_id
        return self.records | ({named.strip()} if named else set())

    def rows_in(self, table: pa.Table) -> int:
        """How many rows of ``table`` (any star-schema or analytics table) hold the person."""
        if table.num_rows == 0:
            return 0
        names = set(table.column_names)
        held = pa.array([False] * table.num_rows)
        if "customer_id" in names:
            held = pc.or_(held, self._customer_rows(table))
        if NOTES in names and {"dealer_id", "service_record_id"} <= names:
            noted = pc.and_(self._their_records(table), pc.is_valid(table.column(NOTES)))
            held = pc.or_(held, noted)
        return int(pc.sum(pc.fill_null(held, False)).as_py() or 0)

    def _customer_rows(self, table: pa.Table) -> pa.ChunkedArray:
        customers = table.column("customer_id")
        if self.target.customer_id is None:  # a record's: its rows must carry no customer
            if "service_record_id" not in table.column_names:
                # A customer's own rows (dim_customer): a record's erasure leaves them, as other
                # records may name the customer; they cannot be the record's.
                return pa.chunked_array([pa.array([False] * table.num_rows)])
            return pc.and_(self._their_records(table), pc.is_valid(customers))
        same_id = pc.equal(customers, self.target.customer_id.strip())
        return pc.and_(same_id, pc.equal(table.column("dealer_id"), self.target.dealer))

    def _their_records(self, table: pa.Table) -> pa.ChunkedArray:
        records = self.record_ids
        same_dealer = pc.equal(table.column("dealer_id"), self.target.dealer)
        return pc.and_(same_dealer, pc.is_in(table.column("service_record_id"), pa.array(sorted(records), pa.string())))

    def in_cleaned_line(self, line: dict[str, object]) -> bool:
        """Whether a cleaned record (a JSON Lines line, a table item) holds the person."""
        if line.get("dealer_id") != self.target.dealer:
            return False
        customer = line.get("customer")
        customer_id = customer.get("customer_id") if isinstance(customer, dict) else None
        if self.target.customer_id is not None and customer_id == self.target.customer_id.strip():
            return True
        if str(line.get("service_record_id")) not in self.record_ids:
            return False
        named = isinstance(customer, dict) and any(value is not None for value in customer.values())
        return named or _has_notes(line.get("service_details"))

    def in_record_as_sent(self, record: object) -> bool:
        """Whether a record as sent (a raw or rejected row) holds the person."""
        return self.target.holds(record) and not is_erased(record)

    def in_text(self, text: bytes) -> bool:
        """Whether text that is not records (an unreadable file, its reason) names the
        customer: their id or a name as a JSON string (or as one quoted inside another),
        where the dealer is named the same way."""
        if self.target.customer_id is None or not any(form in text for form in quoted(self.target.dealer)):
            return False
        values = {self.target.customer_id.strip(), *self.names}
        return any(form in text for value in values if value for form in quoted(value))


def quoted(value: str) -> tuple[bytes, bytes]:
    """``value`` as a JSON string, and as that string quoted inside another (a reason quoting a file)."""
    once = orjson.dumps(value)
    return once, orjson.dumps(once.decode())[1:-1]


def _has_notes(details: object) -> bool:
    services = details.get("services_performed") if isinstance(details, dict) else None
    return isinstance(services, list) and any(isinstance(s, dict) and s.get(NOTES) is not None for s in services)
