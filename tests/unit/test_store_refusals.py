"""A store that refuses the API at request time (its role's permissions, a deleted bucket, a
throttled table) is a clear 503 on every route, declared in /openapi.json: never a bare 500."""

from __future__ import annotations

import logging

import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore, InMemoryRecordRepository
from application.access.api_keys import Authenticate, IssueApiKey
from application.errors import ConfigurationError, TransientError
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from entrypoints.api.http_app import UNAVAILABLE, create_app
from tests.factories import NOW, VALID_VIN, a_record

REFUSALS = [
    ConfigurationError(
        "access to bucket 'sp-raw' (named by RAW_BUCKET_NAME) was denied (AccessDenied): check the IAM role's "
        "permissions",
        "RAW_BUCKET_NAME",
    ),
    TransientError("AWS is busy (SlowDown); try again later"),
]


class Refusing:
    """Any store: every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        def refuse(*args: object, **kwargs: object) -> None:
            raise self.error

        return refuse


def app_with(error: Exception, refusing: str):
    """The whole app on in-memory stores, with the one named by ``refusing`` replaced."""
    keys = InMemoryApiKeyStore()
    _, key = IssueApiKey(keys, FixedClock(NOW))(None, admin=True)
    stores = {
        "raw": InMemoryObjectStore(NOW),
        "cleaned": InMemoryObjectStore(NOW),
        "errors": InMemoryObjectStore(NOW),
        "table": InMemoryRecordRepository(),
        "keys": keys,
    }
    stores[refusing] = Refusing(error)
    app = create_app(
        lambda: SubmitRecord(stores["raw"], FixedClock(NOW)),
        lambda: Authenticate(stores["keys"]),
        lambda: SubmissionStatus(stores["raw"], stores["cleaned"], stores["errors"]),
        lambda: VehicleHistory(stores["table"]),
        lambda: ServiceRecordLookup(stores["table"]),
    )
    return TestClient(app, headers={"x-api-key": key}, raise_server_exceptions=False)


REQUESTS = [
    ("POST", "/service-records", "raw"),
    ("GET", "/submissions/0f0e0d0c-0000-4000-8000-000000000001", "raw"),
    ("GET", f"/vehicles/{VALID_VIN}/service-records", "table"),
    ("GET", "/service-records/SR-1", "table"),
    ("GET", "/service-records/SR-1", "keys"),
]


@pytest.mark.parametrize("error", REFUSALS, ids=["denied", "throttled"])
@pytest.mark.parametrize(("method", "path", "refusing"), REQUESTS)
def test_a_refusing_store_is_a_503_that_says_to_try_again(method, path, refusing, error, caplog) -> None:
    client = app_with(error, refusing)
    content = orjson.dumps([a_record("SR-SECRET-1")]) if method == "POST" else None
    with caplog.at_level(logging.ERROR):
        response = client.request(method, path, content=content)
    assert response.status_code == 503
    assert response.json() == {"error": "service_unavailable", "message": UNAVAILABLE}
    assert response.headers["Retry-After"] == "60"
    (line,) = [r for r in caplog.records if r.getMessage().startswith("a store refused the request")]
    assert str(error) in line.getMessage() and line.error_type == type(error).__name__  # type: ignore[attr-defined]
    assert "SR-SECRET-1" not in caplog.text  # the operator sees the cause, never the records


def test_the_message_says_what_happened_and_what_to_do() -> None:
    assert UNAVAILABLE == (
        "the service cannot reach its storage right now; nothing was changed by this request: "
        "try again in a minute, and tell the operator if it lasts"
    )


def test_every_authenticated_route_declares_its_503() -> None:
    document = app_with(REFUSALS[0], "raw").get("/openapi.json").json()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if operation.get("security"):
                declared = operation["responses"].get("503", {})
                schema = declared.get("content", {}).get("application/json", {}).get("schema", {})
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
