"""The API fuzzed against its own /openapi.json with schemathesis: on every route, with an
admin key, a dealer's key and no key, no response is a 5xx and every response is one the
schema documents (status, content type, body). Bounded examples, so `make test` stays fast."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore, InMemoryRecordRepository
from application.api_keys import Authenticate, IssueApiKey
from application.submission_status import SubmissionStatus
from application.submit_record import SubmitRecord
from application.vehicle_history import ServiceRecordLookup, VehicleHistory
from entrypoints.http_app import create_app
from tests.factories import NOW, VALID_VIN, a_record


def _app():
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    repository = InMemoryRecordRepository()
    stored = a_record("SR-1") | {"vin": VALID_VIN, "service_date": "2026-11-20T03:30:00Z", "dealer_id": "DLR-JKT-001"}
    repository.put_if_newer([stored | {"ingested_at": "2026-11-25T12:00:00.000000Z"}])
    keys = InMemoryApiKeyStore()
    admin = IssueApiKey(keys, FixedClock(NOW))(None, admin=True)[1]
    dealer = IssueApiKey(keys, FixedClock(NOW))("DLR-JKT-001")[1]
    app = create_app(
        lambda: SubmitRecord(raw, FixedClock(NOW)),
        lambda: Authenticate(keys),
        lambda: SubmissionStatus(raw, cleaned, errors),
        lambda: VehicleHistory(repository),
        lambda: ServiceRecordLookup(repository),
    )
    return app, {"admin": admin, "dealer": dealer, "none": ""}


APP, KEYS = _app()
# The checks the issue asks for: no 5xx, and every response as the schema documents it
# (status, content type, headers, body), plus a 405 with its Allow header. Two of schemathesis's
# checks are off, for what JSON Schema cannot say: "schema-valid data is accepted" (a page token
# must be one the API made, a date a real date-time, the body under 6 MiB: refused as documented
# with 400, 422, 413) and "schema-violating data is refused" (unknown query parameters are
# ignored, as HTTP APIs do).
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"enabled": False},
            "negative_data_rejection": {"enabled": False},
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.mark.parametrize("who", ["admin", "dealer", "none"])
@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_no_5xx_and_every_response_as_documented(case, who) -> None:
    headers = {"x-api-key": KEYS[who]} if KEYS[who] else {}
    case.call_and_validate(headers=headers)
