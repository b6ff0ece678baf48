"""The HTTP app with a key store of its own, for tests: an admin key unless a dealer is named."""

from __future__ import annotations

from typing import Any

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore
from application.access.api_keys import Authenticate, IssueApiKey
from application.intake.submission_status import SubmissionStatus
from entrypoints.api.http_app import create_app
from tests.factories import NOW


def keyed_app(
    submit_record: Any,
    dealer_id: str | None = None,
    submission_status: Any = None,
    vehicle_history: Any = None,
    record_lookup: Any = None,
) -> tuple[Any, str, InMemoryApiKeyStore]:
    """(app, a key for ``dealer_id`` or an admin key, the store holding it)."""
    store = InMemoryApiKeyStore()
    _, key = IssueApiKey(store, FixedClock(NOW))(dealer_id, admin=dealer_id is None)
    if submission_status is None:
        nowhere = InMemoryObjectStore(NOW)
        submission_status = lambda: SubmissionStatus(nowhere, nowhere, nowhere)  # noqa: E731
    app = create_app(submit_record, lambda: Authenticate(store), submission_status, vehicle_history, record_lookup)
    return app, key, store


JAKARTA, SURABAYA = "DLR-JKT-001", "DLR-SBY-002"


def whole_app() -> tuple[Any, dict[str, str], InMemoryObjectStore, Any]:
    """The app with every route on in-memory stores, one record loaded (SR-JKT, Jakarta's, the
    factories' VIN), and keys for Jakarta, Surabaya and an admin: (app, keys by name, raw store,
    record repository)."""
    from adapters.local.in_memory import InMemoryRecordRepository
    from application.erasure.erasure_requests import ErasureRequestStatus, FileErasureRequest
    from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
    from application.intake.submit_record import SubmitRecord
    from tests.factories import VALID_VIN, a_record

    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    repository = InMemoryRecordRepository()
    loaded = a_record("SR-JKT") | {"vin": VALID_VIN, "service_date": "2026-11-20T03:30:00Z", "dealer_id": JAKARTA}
    repository.put_if_newer([loaded | {"ingested_at": "2026-11-25T12:00:00.000000Z"}])
    keys = InMemoryApiKeyStore()
    issue = IssueApiKey(keys, FixedClock(NOW))
    named = {"jakarta": issue(JAKARTA)[1], "surabaya": issue(SURABAYA)[1], "admin": issue(None, admin=True)[1]}
    app = create_app(
        lambda: SubmitRecord(raw, FixedClock(NOW)),
        lambda: Authenticate(keys),
        lambda: SubmissionStatus(raw, cleaned, errors),
        lambda: VehicleHistory(repository),
        lambda: ServiceRecordLookup(repository),
        lambda: FileErasureRequest(raw, FixedClock(NOW)),
        lambda: ErasureRequestStatus(raw),
    )
    return app, named, raw, repository
