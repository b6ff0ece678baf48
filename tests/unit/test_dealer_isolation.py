"""Dealer isolation, route by route, on one app: a dealership can neither write nor read
another's submissions, nor see another's customers; no key, no access; an admin key sees all.
(Service histories are shared across dealerships by design, customers masked: docs/api.md.)"""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient

from tests.api_keys import whole_app
from tests.factories import VALID_VIN, a_record

MASKED = {"customer_id": "***", "customer_name": "***"}


@pytest.fixture
def api():
    app, key, raw, repository = whole_app()
    client = TestClient(app)
    submitted = client.post(
        "/service-records", content=orjson.dumps([a_record("SR-NEW")]), headers={"x-api-key": key["jakarta"]}
    )
    assert submitted.status_code == 202
    return client, key, raw, submitted.json()["submission_id"], repository


def as_(key: str) -> dict[str, str]:
    return {"x-api-key": key}


def test_writing_another_dealers_records_is_refused_and_stores_nothing(api) -> None:
    client, key, raw, _, _ = api
    before = dict(raw.objects)
    theirs = orjson.dumps([a_record("SR-X")])  # Jakarta's records, sent with Surabaya's key
    answer = client.post("/service-records", content=theirs, headers=as_(key["surabaya"]))
    assert answer.status_code == 403 and answer.json()["error"] == "forbidden" and raw.objects == before
    assert client.post("/service-records", content=theirs, headers=as_(key["admin"])).status_code == 202


def test_reading_another_dealers_submission_is_as_if_it_did_not_exist(api) -> None:
    client, key, _, submission, _ = api
    assert client.get(f"/submissions/{submission}", headers=as_(key["jakarta"])).status_code == 200
    assert client.get(f"/submissions/{submission}", headers=as_(key["admin"])).status_code == 200
    refused = client.get(f"/submissions/{submission}", headers=as_(key["surabaya"]))
    unknown = client.get("/submissions/0f0e0d0c-0000-4000-8000-00000000ffff", headers=as_(key["surabaya"]))
    assert refused.status_code == unknown.status_code == 404
    assert refused.json()["error"] == unknown.json()["error"] == "not_found"  # no hint that it exists


def test_another_dealers_customers_are_masked_in_a_vehicles_history(api) -> None:
    client, key, _, _, _ = api

    def customer(who: str) -> dict:
        return client.get(f"/vehicles/{VALID_VIN}/service-records", headers=as_(key[who])).json()["records"][0][
            "customer"
        ]

    assert customer("surabaya") == MASKED
    assert customer("jakarta") == customer("admin") == {"customer_id": "CUST-000001", "customer_name": "Budi Santoso"}


def test_one_record_by_id_is_found_by_its_own_dealership_and_admins_only(api) -> None:
    client, key, _, _, _ = api
    assert client.get("/service-records/SR-JKT", headers=as_(key["jakarta"])).json()["customer"]["customer_id"] == (
        "CUST-000001"
    )
    assert client.get("/service-records/SR-JKT", headers=as_(key["admin"])).status_code == 200
    refused = client.get("/service-records/SR-JKT", headers=as_(key["surabaya"]))
    unknown = client.get("/service-records/SR-NONE", headers=as_(key["surabaya"]))
    assert refused.status_code == unknown.status_code == 404  # no hint that it exists


def test_an_admin_is_asked_to_name_the_dealership_of_an_id_two_use(api) -> None:
    client, key, _, _, repository = api
    (jakartas,) = repository.with_id("SR-JKT")
    repository.put_if_newer([{**jakartas, "dealer_id": "DLR-SBY-002"}])  # Surabaya's own SR-JKT
    answer = client.get("/service-records/SR-JKT", headers=as_(key["admin"]))
    assert answer.status_code == 409 and answer.json() == {
        "error": "ambiguous_id",
        "message": "2 dealerships have a service record 'SR-JKT' (DLR-JKT-001, DLR-SBY-002): name one with ?dealer_id=",
        "dealer_ids": ["DLR-JKT-001", "DLR-SBY-002"],
    }
    named = client.get("/service-records/SR-JKT", params={"dealer_id": "DLR-SBY-002"}, headers=as_(key["admin"]))
    assert named.status_code == 200 and named.json()["dealer_id"] == "DLR-SBY-002"
    own = client.get("/service-records/SR-JKT", headers=as_(key["surabaya"]))
    assert own.status_code == 200 and own.json()["dealer_id"] == "DLR-SBY-002"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/service-records"),
        ("GET", "/submissions/{submission}"),
        ("GET", f"/vehicles/{VALID_VIN}/service-records"),
        ("GET", "/service-records/SR-JKT"),
    ],
)
@pytest.mark.parametrize("sent", [None, "", "sp_0000000000000000_not-a-key"], ids=["no-header", "empty", "unknown"])
def test_every_route_refuses_a_missing_or_unknown_key(api, method, path, sent) -> None:
    client, _, raw, submission, _ = api
    before = dict(raw.objects)
    headers = {} if sent is None else as_(sent)
    body = orjson.dumps([a_record("SR-Y")]) if method == "POST" else None
    answer = client.request(method, path.format(submission=submission), content=body, headers=headers)
    assert answer.status_code == 401 and answer.json()["error"] == "unauthorized" and raw.objects == before


@pytest.mark.parametrize(("sent", "status"), [(12345, 202), ("12345", 202), (" 12345 ", 202), (123456, 403)])
def test_a_numeric_dealer_id_is_compared_as_the_contract_reads_it(sent, status, clock) -> None:
    """The contract reads numeric ids as text; the key check compares the same normalised id."""
    from adapters.local.in_memory import InMemoryObjectStore
    from application.intake.submit_record import SubmitRecord
    from tests.api_keys import keyed_app

    raw = InMemoryObjectStore()
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock), dealer_id="12345")
    answer = TestClient(app).post(
        "/service-records", content=orjson.dumps([a_record("SR-1", {"dealer.dealer_id": sent})]), headers=as_(key)
    )
    assert answer.status_code == status, answer.json()
    assert bool(raw.objects) == (status == 202)
