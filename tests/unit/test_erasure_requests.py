"""Erasure requests filed through the API: admin keys only, received until carried out, then
the audit's status; once carried out, the received copy (which holds the customer's id) is gone
with every version of it."""

from __future__ import annotations

import orjson
from fastapi.testclient import TestClient

from adapters.local.in_memory import (
    FixedClock,
    FixedKey,
    InMemoryObjectStore,
    InMemoryRecordIndex,
    InMemoryRecordRepository,
    InMemoryTableCatalog,
)
from application.erasure.erasure_requests import PENDING_PREFIX, carried_out, pending_requests
from application.erasure.forget import ForgetPerson
from tests.api_keys import JAKARTA, whole_app
from tests.factories import NOW

ASKED = {"dealer_id": JAKARTA, "customer_id": "CUST-000001"}


def test_a_dealers_key_cannot_file_or_follow_a_request_and_nothing_is_stored() -> None:
    app, keys, raw, _ = whole_app()
    client = TestClient(app)
    refused = client.post("/erasure-requests", json=ASKED, headers={"x-api-key": keys["jakarta"]})
    assert refused.status_code == 403
    assert refused.json() == {
        "error": "forbidden",
        "message": "erasure requests are filed and followed with an admin key (the operator's); a dealer's key cannot",
    }
    assert not [key for key in raw.objects if key.startswith(PENDING_PREFIX)]


def test_a_request_without_exactly_one_person_is_refused_with_what_to_send() -> None:
    app, keys, raw, _ = whole_app()
    client = TestClient(app)
    both = client.post(
        "/erasure-requests", json={**ASKED, "service_record_id": "SR-1"}, headers={"x-api-key": keys["admin"]}
    )
    assert both.status_code == 400
    assert both.json()["message"] == "name exactly one of a customer id and a service record id"
    blank = client.post("/erasure-requests", json={**ASKED, "dealer_id": " "}, headers={"x-api-key": keys["admin"]})
    assert blank.json()["message"] == "a dealer id is required: the dealership the customer or record belongs to"
    assert not [key for key in raw.objects if key.startswith(PENDING_PREFIX)]


def test_a_filed_request_is_received_then_carried_out_and_its_copy_is_gone() -> None:
    app, keys, raw, _ = whole_app()
    client = TestClient(app)
    admin = {"x-api-key": keys["admin"]}
    filed = client.post("/erasure-requests", json=ASKED, headers=admin).json()
    assert filed["status"] == "received"
    (pending,) = pending_requests(raw)
    assert (pending.request_id, pending.target.customer_id) == (filed["request_id"], "CUST-000001")

    empty = InMemoryObjectStore(NOW)
    forget = ForgetPerson(
        raw,
        empty,
        empty,
        InMemoryRecordIndex(),
        FixedKey(),
        InMemoryRecordRepository(),
        InMemoryTableCatalog(),
        FixedClock(NOW),
    )
    done = forget(pending.target, pending.requested_by, pending.request_id, pending.requested_at)
    carried_out(raw, pending)

    followed = client.get(f"/erasure-requests/{filed['request_id']}", headers=admin).json()
    assert followed["status"] == done.status == "nothing_held" and followed["finished_at"]
    assert list(pending_requests(raw)) == []
    assert not raw.earlier_versions(f"{PENDING_PREFIX}{filed['request_id']}.json")
    assert all(b"CUST-000001" not in data for data in raw.objects.values())
    assert orjson.loads(raw.objects[f"erasures/{filed['request_id']}.json"])["requested_by"] == "admin"
