"""A person's right to erasure: what of a record is theirs, and how a record looks without it.

A customer is known by the dealership's own id for them, so a request names both: the same
``C-1`` at two dealerships is two people. What goes is everything that names or may name the
person: the ``customer`` object (its id, its name and anything else sent in it), the free text
of the record's services (``technician_notes``), and any top-level field outside the contract
(it may hold anything). The vehicle's service history stays: VIN, dates, services, parts,
costs, dealer.

A customer id is never stored by the erasure machinery: it is known by a one-way keyed token
(keyed BLAKE2b, a MAC by design), so that a request can be recognised again, and an index can
point at the files holding a customer, without the id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from domain.record_identity import dealer_id_of, id_as_read

CUSTOMER = "customer"
TECHNICIAN_NOTES = "technician_notes"
TOKEN_BYTES = 16
# The record's own fields (the contract's top level): any other top-level field goes.
_CONTRACT_FIELDS = frozenset({"service_record_id", "dealer", "vehicle", "service_details", CUSTOMER})


class ErasureRequestError(ValueError):
    """A request that cannot be carried out as given; the message says what to send."""


@dataclass(frozen=True)
class ErasureTarget:
    """Whose data goes: a dealership's customer, or one record of a dealership (for records
    that carry no customer id)."""

    dealer_id: str
    customer_id: str | None = None
    service_record_id: str | None = None

    def __post_init__(self) -> None:
        if not (self.dealer_id or "").strip():
            raise ErasureRequestError("a dealer id is required: the dealership the customer or record belongs to")
        if (self.customer_id is None) == (self.service_record_id is None):
            raise ErasureRequestError("name exactly one of a customer id and a service record id")
        for name, value in (("customer id", self.customer_id), ("record id", self.service_record_id)):
            if value is not None and not value.strip():
                raise ErasureRequestError(f"the {name} is blank: give the dealership's own id")

    @property
    def dealer(self) -> str:
        return self.dealer_id.strip()

    def holds(self, record: object) -> bool:
        """Whether ``record`` (as sent, any JSON) is this target's: its dealer, and its
        customer or id, read as the contract reads ids (trimmed, a number as its text)."""
        if not isinstance(record, dict) or dealer_id_of(record) != self.dealer:
            return False
        if self.service_record_id is not None:
            return id_as_read(record.get("service_record_id")) == self.service_record_id.strip()
        return customer_id_of(record) == (self.customer_id or "").strip()


def customer_id_of(record: object) -> str | None:
    """The ``customer.customer_id`` of a record as sent, as the contract reads it."""
    customer = record.get(CUSTOMER) if isinstance(record, dict) else None
    return id_as_read(customer.get("customer_id")) if isinstance(customer, dict) else None


def customer_token(key: bytes, dealer_id: str, customer_id: str) -> str:
    """The one-way token of a dealership's customer: the same for the same pair and key,
    telling nothing of the id without the key."""
    message = f"{dealer_id.strip()}\x1f{customer_id.strip()}".encode()
    return hashlib.blake2b(message, key=key, digest_size=TOKEN_BYTES).hexdigest()


def erased(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` without its person: ``customer`` null, every ``technician_notes`` null,
    fields outside the contract gone; everything else as it was, in its order."""
    kept: dict[str, Any] = {}
    for name, value in record.items():
        if name not in _CONTRACT_FIELDS:
            continue
        if name == CUSTOMER:
            kept[name] = None
        elif name == "service_details" and isinstance(value, dict):
            kept[name] = {**value, "services_performed": _without_notes(value.get("services_performed"))}
            if "services_performed" not in value:
                del kept[name]["services_performed"]
        else:
            kept[name] = value
    return kept


def is_erased(record: object) -> bool:
    """Whether ``record`` holds nothing ``erased`` would take away."""
    return isinstance(record, dict) and erased(record) == record


def _without_notes(services: object) -> object:
    if not isinstance(services, list):
        return services
    return [
        {**line, TECHNICIAN_NOTES: None} if isinstance(line, dict) and line.get(TECHNICIAN_NOTES) is not None else line
        for line in services
    ]
