"""The HTTP app in-process: status codes and bodies for every kind of request."""

from __future__ import annotations

import asyncio

import orjson
import pytest
from fastapi.testclient import TestClient

from application.intake.submit_record import SubmitRecord
from tests.api_keys import keyed_app
from tests.factories import a_record


@pytest.fixture
def client(raw, clock) -> TestClient:
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock))
    return TestClient(app, headers={"x-api-key": key})


def test_health(client) -> None:
    assert client.get("/health").json() == {"status": "ok"}


def test_accepted_submissions_get_a_202_receipt(client, raw) -> None:
    response = client.post("/service-records", content=orjson.dumps([a_record("A"), a_record("B")]))
    assert response.status_code == 202
    receipt = response.json()
    assert receipt["status"] == "accepted" and receipt["record_count"] == 2
    assert sorted(raw.objects) == sorted([receipt["file_key"], f"submissions/{receipt['submission_id']}.json"])


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


def test_a_request_without_a_valid_key_is_401_and_nothing_is_stored(raw, clock) -> None:
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock))
    client, body = TestClient(app), orjson.dumps(a_record())
    for headers in ({}, {"x-api-key": "wrong"}, {"x-api-key": key[:-1] + ("A" if key[-1] != "A" else "B")}):
        response = client.post("/service-records", content=body, headers=headers)
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"
        assert "servicepipe dealers add" in response.json()["message"]
    assert raw.objects == {}
    assert client.post("/service-records", content=body, headers={"x-api-key": key}).status_code == 202
    assert client.get("/health").status_code == 200  # public


def test_a_dealer_key_submits_only_its_own_records(raw, clock) -> None:
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock), dealer_id="DLR-JKT-001")
    client = TestClient(app, headers={"x-api-key": key})
    own = a_record("A")  # DLR-JKT-001
    other = a_record("B", {"dealer.dealer_id": "DLR-SBY-002"})
    response = client.post("/service-records", content=orjson.dumps([own, other, own]))
    assert response.status_code == 403 and response.json()["error"] == "forbidden"
    assert response.json()["records"] == [1] and "DLR-JKT-001" in response.json()["message"]
    assert raw.objects == {}  # the whole submission refused
    assert client.post("/service-records", content=orjson.dumps([own])).status_code == 202
    (stored,) = [key for key in raw.objects if key.startswith("service-records/")]
    assert raw.head(stored).metadata["submitted-by"] == "dealer:DLR-JKT-001"


def test_a_revoked_key_is_refused(raw, clock) -> None:
    from application.access.api_keys import RevokeApiKey

    app, key, store = keyed_app(lambda: SubmitRecord(raw, clock), dealer_id="DLR-JKT-001")
    client = TestClient(app, headers={"x-api-key": key})
    assert client.post("/service-records", content=orjson.dumps([a_record()])).status_code == 202
    (entry,) = store.entries()
    assert RevokeApiKey(store, clock)(entry.key_id) is True
    assert client.post("/service-records", content=orjson.dumps([a_record()])).status_code == 401


def test_many_tiny_records_are_refused_at_once_with_a_small_answer(client, raw) -> None:
    body = b"[" + b",".join([b"{}"] * 500_000) + b"]"  # 1.5 MB
    response = client.post("/service-records", content=body)
    assert response.status_code == 413 and len(response.content) < 1_000
    assert "10,000" in response.json()["message"] and "bulk file" in response.json()["message"]
    assert raw.objects == {}


def test_a_422_lists_the_first_problems_and_counts_them_all(client, raw) -> None:
    body = b"[" + b",".join([b"{}"] * 9_000) + b"]"
    response = client.post("/service-records", content=body)
    assert response.status_code == 422 and len(response.content) < 50_000
    payload = response.json()
    assert len(payload["problems"]) == 100
    assert (payload["problem_count"], payload["records_with_problems"]) == (36_000, 9_000)
    assert payload["problem_count_complete"] is True
    assert raw.objects == {}


def test_counting_problems_stops_at_a_bound_for_a_hostile_body(client, raw) -> None:
    record = orjson.dumps(a_record("A", {"service_details.parts_used": [{}] * 1_000}))
    body = b"[" + b",".join([record] * 300) + b"]"  # 300 records of 1,000 empty parts: 900,000 problems
    response = client.post("/service-records", content=body)
    payload = response.json()
    assert response.status_code == 422 and len(payload["problems"]) == 100
    assert payload["problem_count_complete"] is False and 50_000 <= payload["problem_count"] < 60_000
    assert "or more" in payload["message"]


def test_a_chunked_body_is_read_only_up_to_the_limit(raw, clock) -> None:
    app, key, _ = keyed_app(lambda: SubmitRecord(raw, clock))
    received: list[int] = []
    sent: list[dict] = []

    async def receive() -> dict:
        received.append(1)  # 1 MiB a message: 1 GiB if read in full
        return {"type": "http.request", "body": b" " * (1024 * 1024), "more_body": len(received) < 1_024}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/service-records",
        "raw_path": b"/service-records",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"transfer-encoding", b"chunked"), (b"x-api-key", key.encode())],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 413 and raw.objects == {}
    assert len(received) <= 8  # stopped reading just past 6 MiB


def test_an_unreadable_service_date_is_a_422_naming_the_field(client, raw) -> None:
    body = orjson.dumps([a_record("A", {"service_details.service_date": "31/02/2024 10:00"})])
    response = client.post("/service-records", content=body)
    assert response.status_code == 422
    (problem,) = response.json()["problems"]
    assert (problem["field"], problem["rule"]) == ("service_details.service_date", "service_date_format")
    assert raw.objects == {}


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [("GET", "/nope", 404, "not_found"), ("GET", "/service-records", 405, "method_not_allowed")],
)
def test_404_and_405_answer_in_the_project_shape(client, method, path, status, error) -> None:
    response = client.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == {"error", "message"} and response.json()["error"] == error


def test_a_405_lists_the_methods_the_route_serves(client) -> None:
    """Found by schemathesis: the project's 405 body had dropped Starlette's Allow header."""
    response = client.request("TRACE", "/health")
    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.json()["message"] == "TRACE is not allowed on /health; use GET"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "multipart/form-data; boundary=x"])
def test_a_body_that_is_not_json_by_its_content_type_is_a_415(client, raw, content_type) -> None:
    body = orjson.dumps([a_record()])
    response = client.post("/service-records", content=body, headers={"Content-Type": content_type})
    assert response.status_code == 415 and "application/json" in response.json()["message"]
    assert raw.objects == {}


@pytest.mark.parametrize("content_type", ["application/json", "application/json; charset=utf-8", None])
def test_json_content_types_are_accepted(client, content_type) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert client.post("/service-records", content=orjson.dumps([a_record()]), headers=headers).status_code == 202


def test_there_is_no_docs_page_that_needs_a_cdn(client) -> None:
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404


def test_a_413_always_mentions_bulk_upload(client) -> None:
    response = client.post("/service-records", content=b" " * (7 * 1024 * 1024))
    assert response.status_code == 413 and "bulk file" in response.json()["message"]
    assert "6,291,456" in response.json()["message"]


def test_slow_submissions_do_not_stall_each_other(raw, clock) -> None:
    import threading

    import httpx

    both_inside = threading.Barrier(2, timeout=5)

    class SlowStore(type(raw)):
        def put_bytes(self, key, *args, **kwargs) -> None:
            if key.startswith("service-records/"):
                both_inside.wait()  # only passes if two submissions are being stored at once
            super().put_bytes(key, *args, **kwargs)

    store = SlowStore()
    app, key, _ = keyed_app(lambda: SubmitRecord(store, clock))

    async def two_at_once() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            body = orjson.dumps([a_record()])
            posts = (http.post("/service-records", content=body, headers={"x-api-key": key}) for _ in range(2))
            answers = await asyncio.gather(*posts)
        return [a.status_code for a in answers]

    assert asyncio.run(two_at_once()) == [202, 202]
    assert len([key for key in store.objects if key.startswith("service-records/")]) == 2
