"""One service history per vehicle, across dealerships: every loaded record of a VIN, newest
first, a page at a time, where a dealer's key sees other dealerships' records with their
customer masked (domain.dealer_access.as_seen_by); and one record by its id."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from application.ports import RecordRepository
from domain.dealer_access import Caller, as_seen_by
from domain.record_identity import RecordKey

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


class BadPageSize(ValueError):
    pass


@dataclass(frozen=True)
class HistoryPage:
    vin: str
    records: list[dict[str, object]]
    next_page: str | None  # pass it back as ``page`` for the next records

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def normalised_vin(vin: str) -> str:
    """As the cleaning step stores it: trimmed and upper-case."""
    return vin.strip().upper()


class VehicleHistory:
    def __init__(self, repository: RecordRepository) -> None:
        self._repository = repository

    def __call__(
        self, vin: str, caller: Caller, limit: int = DEFAULT_PAGE_SIZE, page: str | None = None
    ) -> HistoryPage:
        """Raises ``BadPageSize``, or ``BadPageToken`` for a token no earlier page gave."""
        if not 1 <= limit <= MAX_PAGE_SIZE:
            raise BadPageSize(f"limit must be 1 to {MAX_PAGE_SIZE}, got {limit}")
        vin = normalised_vin(vin)
        records, next_page = self._repository.history(vin, limit, page)
        return HistoryPage(vin, [as_seen_by(record, caller) for record in records], next_page)


class AmbiguousRecordId(LookupError):
    """An admin asked for an id that several dealerships use, without naming one."""

    def __init__(self, service_record_id: str, dealer_ids: list[str]) -> None:
        super().__init__(
            f"{len(dealer_ids)} dealerships have a service record {service_record_id!r} "
            f"({', '.join(dealer_ids)}): name one with ?dealer_id="
        )
        self.dealer_ids = dealer_ids


class ServiceRecordLookup:
    """One loaded record by its id. A record is (dealer_id, service_record_id): a dealer's key
    finds its own dealership's record; an admin's finds the one dealership's that uses the id,
    or the named dealership's (``dealer_id``), and is told to name one when several use it."""

    def __init__(self, repository: RecordRepository) -> None:
        self._repository = repository

    def __call__(
        self, service_record_id: str, caller: Caller, dealer_id: str | None = None
    ) -> dict[str, object] | None:
        """Raises ``AmbiguousRecordId`` for an admin's id that several dealerships use."""
        if not caller.admin:
            if dealer_id is not None and dealer_id != caller.dealer_id:
                return None  # another dealership's records are not found by id, as if absent
            dealer_id = caller.dealer_id
        if dealer_id is not None:
            return self._repository.get(RecordKey(dealer_id, service_record_id))
        found = self._repository.with_id(service_record_id)
        if len(found) > 1:
            raise AmbiguousRecordId(service_record_id, [str(record.get("dealer_id")) for record in found])
        return found[0] if found else None
