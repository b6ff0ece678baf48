"""Who may submit what: a dealership's key acts for its own ``dealer_id``; an admin's for all."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from domain.record_identity import dealer_id_of, id_as_read


@dataclass(frozen=True)
class Caller:
    """The identity behind an API key."""

    dealer_id: str | None  # None for an admin key
    admin: bool = False
    key_id: str = ""

    @property
    def name(self) -> str:
        """How logs and stored submissions name the caller."""
        return "admin" if self.admin else f"dealer:{self.dealer_id}"

    def may_act_for(self, dealer_id: object) -> bool:
        """Whether this key may send a record whose ``dealer.dealer_id`` is ``dealer_id``, as
        the contract reads it: trimmed, and a number as its text (12345 is "12345")."""
        if self.admin:
            return True
        return self.dealer_id is not None and id_as_read(dealer_id) == self.dealer_id


OPERATOR = Caller(dealer_id=None, admin=True, key_id="operator")  # the CLI, run by whoever runs the pipeline


def records_of_other_dealers(records: Sequence[object], caller: Caller) -> list[int]:
    """Indices of the records whose ``dealer.dealer_id`` is not ``caller``'s own. A record
    without one counts as another dealer's: a dealer key writes only its own records."""
    if caller.admin:
        return []
    foreign = []
    for index, record in enumerate(records):
        if not caller.may_act_for(dealer_id_of(record)):
            foreign.append(index)
    return foreign


MASKED = "***"


def as_seen_by(record: dict[str, object], caller: Caller) -> dict[str, object]:
    """A stored record as ``caller`` may see it: another dealership's customer is masked
    (name and id) for a dealer's key; its own records, and every record for an admin, whole."""
    if caller.admin or record.get("dealer_id") == caller.dealer_id:
        return record
    customer = record.get("customer")
    if not isinstance(customer, dict):
        return record
    return {**record, "customer": {**customer, "customer_id": MASKED, "customer_name": MASKED}}
