"""One service history per vehicle, across dealerships: every loaded record of a VIN, newest
first, a page at a time; and one record by its id. A dealer's key sees other dealerships'
records with their customer masked (domain.dealer_access.as_seen_by)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from application.ports import RecordRepository
from domain.dealer_access import Caller, as_seen_by

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


class ServiceRecordLookup:
    def __init__(self, repository: RecordRepository) -> None:
        self._repository = repository

    def __call__(self, service_record_id: str, caller: Caller) -> dict[str, object] | None:
        record = self._repository.get(service_record_id)
        return None if record is None else as_seen_by(record, caller)
