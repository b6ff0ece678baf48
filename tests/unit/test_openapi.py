"""/openapi.json documents every route, the submission body from the contract, every status
with its shape, the dealer key, and an example that the contract itself accepts."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from adapters.local.in_memory import InMemoryObjectStore, InMemoryRecordRepository
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from domain.contract import ServiceRecord
from tests.api_keys import keyed_app


@pytest.fixture
def document(clock) -> dict:
    nowhere, repository = InMemoryObjectStore(), InMemoryRecordRepository()
    app, _, _ = keyed_app(
        lambda: SubmitRecord(nowhere, clock),
        submission_status=lambda: SubmissionStatus(nowhere, nowhere, nowhere),
        vehicle_history=lambda: VehicleHistory(repository),
        record_lookup=lambda: ServiceRecordLookup(repository),
    )
    answer = TestClient(app).get("/openapi.json")  # no key: public, like /health
    assert answer.status_code == 200
    return answer.json()


def test_every_route_is_documented(document) -> None:
    assert set(document["paths"]) == {
        "/health",
        "/service-records",
        "/service-records/{service_record_id}",
        "/submissions/{submission_id}",
        "/vehicles/{vin}/service-records",
    }


def test_the_submission_body_comes_from_the_contract(document) -> None:
    body = document["paths"]["/service-records"]["post"]["requestBody"]
    many, one = body["content"]["application/json"]["schema"]["oneOf"]
    assert one == {"$ref": "#/components/schemas/ServiceRecord"} and many["maxItems"] == 10_000
    record = document["components"]["schemas"]["ServiceRecord"]
    assert {"service_record_id", "dealer", "vehicle", "service_details"} <= set(record["required"])
    assert "Dealer" in document["components"]["schemas"]
    (example,) = body["content"]["application/json"]["example"]
    ServiceRecord.model_validate(example)  # the example is a record the API accepts


def test_every_status_of_a_submission_has_its_shape(document) -> None:
    responses = document["paths"]["/service-records"]["post"]["responses"]
    # The app's statuses, and the gateway's: 403 (key), 429 (throttle, quota), 504, other 5XX.
    assert set(responses) == {"202", "400", "401", "403", "413", "415", "422", "429", "503", "504", "5XX"}
    for status, response in responses.items():
        reference = response["content"]["application/json"]["schema"]["$ref"]
        assert reference.split("/")[-1] in document["components"]["schemas"], status
    assert responses["422"]["content"]["application/json"]["schema"]["$ref"].endswith("InvalidSubmissionBody")
    for name in ("ReceiptBody", "ErrorBody", "ForbiddenBody", "InvalidSubmissionBody"):
        examples = document["components"]["schemas"][name]["examples"]
        assert examples and all(
            set(example) <= set(document["components"]["schemas"][name]["properties"]) for example in examples
        )


def test_the_key_is_required_everywhere_but_health(document) -> None:
    assert document["components"]["securitySchemes"]["dealerKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "x-api-key",
        "description": "a dealership's key (send it as the x-api-key header: not as Authorization)",
    }
    for path, operations in document["paths"].items():
        for operation in operations.values():
            assert ("security" in operation) == (path != "/health"), path
