"""One history per vehicle across dealers: newest first, paged without gaps or repeats, other
dealerships' customers masked for a dealer's key."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from adapters.local.in_memory import InMemoryObjectStore, InMemoryRecordRepository
from application.errors import BadPageToken
from application.history.vehicle_history import AmbiguousRecordId, BadPageSize, ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from domain.dealer_access import MASKED, OPERATOR, Caller
from domain.record_identity import RecordKey
from tests.api_keys import keyed_app

VIN = "MHFXX12G3K1234567"
JAKARTA = Caller(dealer_id="DLR-JKT-001")


def stored(record_id: str, day: int, dealer: str, vin: str = VIN) -> dict[str, object]:
    return {
        "service_record_id": record_id,
        "vin": vin,
        "service_date": f"2026-11-{day:02d}T03:00:00Z",
        "ingested_at": "2026-11-25T00:00:00.000000Z",
        "dealer_id": dealer,
        "dealer": {"dealer_id": dealer},
        "customer": {"customer_id": f"CUST-{record_id}", "customer_name": "Budi Santoso"},
    }


@pytest.fixture
def repository() -> InMemoryRecordRepository:
    repository = InMemoryRecordRepository()
    records = [stored(f"SR-{i:02d}", 1 + i % 9, "DLR-JKT-001" if i % 2 else "DLR-SBY-002") for i in range(23)]
    repository.put_if_newer([*records, stored("SR-OTHER", 5, "DLR-JKT-001", vin="MHFXX12G3K7654321")])
    return repository


def test_every_record_of_the_vin_newest_first_page_by_page(repository) -> None:
    history, seen, page = VehicleHistory(repository), [], None
    while True:
        found = history(VIN.lower() + " ", OPERATOR, limit=5, page=page)  # as a person types it
        seen += found.records
        page = found.next_page
        if page is None:
            break
    assert len(seen) == 23 and len({r["service_record_id"] for r in seen}) == 23  # no gap, no repeat
    keys = [(r["service_date"], r["dealer_id"], r["service_record_id"]) for r in seen]
    assert keys == sorted(keys, reverse=True)


def test_other_dealers_customers_are_masked_for_a_dealer(repository) -> None:
    records = VehicleHistory(repository)(VIN, JAKARTA, limit=200).records
    own = [r for r in records if r["dealer_id"] == "DLR-JKT-001"]
    others = [r for r in records if r["dealer_id"] != "DLR-JKT-001"]
    assert own and others
    assert all(r["customer"]["customer_name"] == "Budi Santoso" for r in own)
    assert all(r["customer"] == {"customer_id": MASKED, "customer_name": MASKED} for r in others)
    assert all(
        r["customer"]["customer_name"] == "Budi Santoso" for r in VehicleHistory(repository)(VIN, OPERATOR).records
    )
    stored_record = repository.get(RecordKey("DLR-SBY-002", "SR-00"))
    assert stored_record is not None and stored_record["customer"]["customer_name"] == "Budi Santoso"  # untouched


def test_bad_pages_and_sizes_are_refused(repository) -> None:
    history = VehicleHistory(repository)
    for limit in (0, 201):
        with pytest.raises(BadPageSize):
            history(VIN, OPERATOR, limit=limit)
    for token in ("not-a-token", "W10", "eyJhIjoxfQ"):
        with pytest.raises(BadPageToken):
            history(VIN, OPERATOR, page=token)


def test_one_record_by_id_is_the_callers_own(repository) -> None:
    """A record is (dealer_id, service_record_id): a dealer's key finds its own dealership's
    record; another dealership's is not found, as if absent, even when named."""
    lookup = ServiceRecordLookup(repository)
    assert lookup("SR-01", JAKARTA)["customer"]["customer_name"] == "Budi Santoso"  # its own
    assert lookup("SR-00", JAKARTA) is None  # Surabaya's
    assert lookup("SR-00", JAKARTA, dealer_id="DLR-SBY-002") is None
    assert lookup("SR-01", JAKARTA, dealer_id="DLR-JKT-001") is not None
    assert lookup("SR-NONE", JAKARTA) is None


def test_an_admin_names_the_dealership_when_several_use_an_id(repository) -> None:
    lookup = ServiceRecordLookup(repository)
    assert lookup("SR-00", OPERATOR)["dealer_id"] == "DLR-SBY-002"  # only one dealership uses it
    repository.put_if_newer([stored("SR-00", 3, "DLR-JKT-001")])
    with pytest.raises(AmbiguousRecordId) as refused:
        lookup("SR-00", OPERATOR)
    assert refused.value.dealer_ids == ["DLR-JKT-001", "DLR-SBY-002"]
    assert str(refused.value) == (
        "2 dealerships have a service record 'SR-00' (DLR-JKT-001, DLR-SBY-002): name one with ?dealer_id="
    )
    for dealer in ("DLR-JKT-001", "DLR-SBY-002"):
        assert lookup("SR-00", OPERATOR, dealer_id=dealer)["dealer_id"] == dealer
    assert lookup("SR-00", OPERATOR, dealer_id="DLR-NONE") is None


def test_the_routes(repository, clock) -> None:
    nowhere = InMemoryObjectStore()
    app, key, _ = keyed_app(
        lambda: SubmitRecord(nowhere, clock),
        dealer_id="DLR-JKT-001",
        submission_status=lambda: SubmissionStatus(nowhere, nowhere, nowhere),
        vehicle_history=lambda: VehicleHistory(repository),
        record_lookup=lambda: ServiceRecordLookup(repository),
    )
    client = TestClient(app, headers={"x-api-key": key})
    first = client.get(f"/vehicles/{VIN}/service-records", params={"limit": 20}).json()
    assert len(first["records"]) == 20 and first["vin"] == VIN and first["next_page"]
    rest = client.get(f"/vehicles/{VIN}/service-records", params={"limit": 20, "page": first["next_page"]}).json()
    assert len(rest["records"]) == 3 and rest["next_page"] is None
    assert client.get(f"/vehicles/{VIN}/service-records", params={"page": "garbage"}).status_code == 400
    # An empty page is refused, not taken as page one: a client sending back a null next_page as
    # "" would otherwise loop on the first page forever.
    assert client.get(f"/vehicles/{VIN}/service-records", params={"page": ""}).status_code == 400
    assert client.get(f"/vehicles/{VIN}/service-records", params={"limit": 0}).status_code == 400
    assert client.get("/service-records/SR-01").json()["customer"]["customer_name"] == "Budi Santoso"
    foreign = client.get("/service-records/SR-00")  # Surabaya's: as if it did not exist
    assert foreign.status_code == 404 and foreign.json() == {
        "error": "not_found",
        "message": "no loaded service record 'SR-00' of yours",
    }
    assert client.get("/service-records/SR-00", params={"dealer_id": "DLR-SBY-002"}).status_code == 404
    assert client.get("/service-records/SR-NONE").status_code == 404
    assert client.get(f"/vehicles/{VIN}/service-records", headers={"x-api-key": ""}).status_code == 401
    assert client.get("/service-records/SR-00", headers={"x-api-key": ""}).status_code == 401
