"""The index the worker keeps of who is in which raw file, and the port it is kept through.

Every row a raw file holds, valid or rejected, is noted under the dealership that sent it and
one lookup: its customer's token (``domain.erasure.customer_token``) when it names a customer,
else its record id. ``forget`` asks the index which raw files hold a customer, or a record, and
reads and rewrites those and no others. No personal data is in it: tokens are one-way.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple, Protocol

CUSTOMER_LOOKUP = "customer:"
RECORD_LOOKUP = "record:"


def customer_lookup(token: str) -> str:
    return f"{CUSTOMER_LOOKUP}{token}"


def record_lookup(service_record_id: str) -> str:
    return f"{RECORD_LOOKUP}{service_record_id.strip()}"


class Holding(NamedTuple):
    """One row of a raw file, noted under its dealership and lookup (a tuple: a file of a
    million rows makes a million of them)."""

    dealer_id: str
    lookup: str
    raw_key: str
    record_index: int
    service_record_id: str | None = None


class RecordIndex(Protocol):
    def verify(self) -> None:
        """Raise ``ConfigurationError`` unless the index exists and may be used."""
        ...

    def note(self, holdings: Iterable[Holding]) -> None:
        """Note each row (keyed by dealer, lookup, raw key and record index: noting a row
        again replaces it, so a file processed twice is noted once)."""
        ...

    def holding(self, dealer_id: str, lookup: str) -> list[Holding]:
        """Every row noted under ``dealer_id`` and ``lookup``, by raw key then index."""
        ...

    def remove(self, holdings: Sequence[Holding]) -> None:
        """Forget these rows (what no longer holds the person after an erasure)."""
        ...
