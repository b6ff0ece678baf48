"""The HTTP app in-process: status codes and bodies for every kind of request."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from application.submit_record import SubmitRecord
from entrypoints.http_app import create_app
from tests.factories import a_record


@pytest.fixture
def client(raw, clock) -> TestClient:
    return TestClient(create_app(lambda: SubmitRecord(raw, clock)))


def test_health(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_accepted_submissions_get_a_202_receipt(client, raw) -> None:
    response = client.post("/service-records", content=orjson.dumps([a_record("A"), a_record("B")]))
    assert response.status_code == 202
    receipt = response.json()
    assert receipt["status"] == "accepted" and receipt["record_count"] == 2
    assert list(raw.objects) == [receipt["file_key"]]


def test_malformed_json_is_a_400(client, raw) -> None:
    response = client.post("/service-records", content=b'[{"service_record_id": ')
    assert response.status_code == 400
    assert response.json()["error"] == "malformed_json" and "not valid JSON" in response.json()["message"]
    assert raw.objects == {}


def test_a_seven_megabyte_body_is_a_413(client, raw) -> None:
    response = client.post("/service-records", content=b"[" + b" " * (7 * 1024 * 1024) + b"]")
    assert response.status_code == 413
    assert response.json()["error"] == "payload_too_large"
    assert raw.objects == {}


def test_structural_problems_are_a_422_listing_every_one(client, raw) -> None:
    body = orjson.dumps([a_record("A", {"vehicle.vin": None}), a_record("B", {"service_details.total_cost": "lots"})])
    response = client.post("/service-records", content=body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["error"] == "invalid_submission"
    assert [(p["index"], p["service_record_id"], p["field"]) for p in payload["problems"]] == [
        (0, "A", "vehicle.vin"),
        (1, "B", "service_details.total_cost"),
    ]
    assert raw.objects == {}


@pytest.mark.parametrize(("body", "message"), [(b"[]", "empty"), (b"7", "got int")])
def test_empty_arrays_and_scalars_are_422(client, body, message) -> None:
    response = client.post("/service-records", content=body)
    assert response.status_code == 422 and message in response.json()["problems"][0]["message"]


def test_a_configured_api_key_is_required(raw, clock) -> None:
    client = TestClient(create_app(lambda: SubmitRecord(raw, clock), api_key="s3cret"))
    body = orjson.dumps(a_record())
    assert client.post("/service-records", content=body).status_code == 403
    assert client.post("/service-records", content=body, headers={"x-api-key": "wrong"}).status_code == 403
    assert client.post("/service-records", content=body, headers={"x-api-key": "s3cret"}).status_code == 202
    assert len(raw.objects) == 1
