"""The published document is the API's contract: every answer the app gives, on every route
and error path, has a status the document declares for that operation and a body valid against
the declared schema (JSON Schema 2020-12, formats checked); docs/openapi.json is what the app
serves."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest
from fastapi.testclient import TestClient

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore, InMemoryRecordRepository
from application.access.api_keys import Authenticate, IssueApiKey
from application.erasure.erasure_requests import ErasureRequestStatus, FileErasureRequest
from application.errors import ConfigurationError
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from application.intake.upload_bulk_file import UploadBulkFile
from application.loading.load_batch import LoadBatch
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.api.http_app import create_app
from entrypoints.api.openapi_docs import rendered
from entrypoints.api.openapi_file import COMMAND, documented_app
from tests.factories import NOW, VALID_VIN, a_record

ROOT = Path(__file__).resolve().parents[2]
JAKARTA, SURABAYA = "DLR-JKT-001", "DLR-SBY-002"


class World:
    """The whole app on in-memory stores, with keys for two dealerships and an admin."""

    def __init__(self) -> None:
        clock = FixedClock(NOW)
        self.raw, self.cleaned, self.errors = (
            InMemoryObjectStore(NOW),
            InMemoryObjectStore(NOW),
            InMemoryObjectStore(NOW),
        )
        self.table = InMemoryRecordRepository()
        keys = InMemoryApiKeyStore()
        issue = IssueApiKey(keys, clock)
        self.keys = {"jakarta": issue(JAKARTA)[1], "surabaya": issue(SURABAYA)[1], "admin": issue(None, admin=True)[1]}
        self.refuse = False

        def status() -> SubmissionStatus:
            if self.refuse:
                raise ConfigurationError("access to bucket 'raw' was denied (AccessDenied)", "RAW_BUCKET_NAME")
            return SubmissionStatus(self.raw, self.cleaned, self.errors)

        app = create_app(
            lambda: SubmitRecord(self.raw, clock),
            lambda: Authenticate(keys),
            status,
            lambda: VehicleHistory(self.table),
            lambda: ServiceRecordLookup(self.table),
            lambda: FileErasureRequest(self.raw, clock),
            lambda: ErasureRequestStatus(self.raw),
        )
        self.client = TestClient(app)
        self.process = ProcessRawFile(self.raw, self.cleaned, self.errors, clock)
        self.load = LoadBatch(self.cleaned, self.table, clock)

    def call(self, method: str, path: str, who: str | None = "jakarta", **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = dict(kwargs.pop("headers", {}))
        if who is not None:
            headers["x-api-key"] = self.keys.get(who, who)
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return documented_app().openapi()


def check(document: dict[str, Any], method: str, route: str, response) -> None:  # type: ignore[no-untyped-def]
    """``response`` is one the document declares for ``method route``."""
    responses = document["paths"][route][method.lower()]["responses"]
    status = str(response.status_code)
    declared = responses.get(status) or responses.get(f"{status[0]}XX")
    assert declared, f"{method} {route} answered {status}, which the document does not declare"
    schema = declared["content"]["application/json"]["schema"]
    root = {**document, **schema}  # the document's components resolve from its root
    jsonschema.Draft202012Validator(root, format_checker=jsonschema.FormatChecker()).validate(response.json())


def record_body(*records: dict[str, Any]) -> bytes:
    return orjson.dumps(list(records))


def test_every_answer_on_every_path_is_as_documented(document) -> None:
    world = World()
    seen: list[tuple[str, str, int]] = []

    def expect(status: int, method: str, route: str, path: str, **kwargs: Any) -> Any:
        response = world.call(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        check(document, method, route, response)
        seen.append((method, route, status))
        return response.json()

    submit = "/service-records"
    good = record_body(a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "SHORT"}))
    receipt = expect(202, "POST", submit, submit, content=good)
    expect(400, "POST", submit, submit, content=b"[{")
    expect(401, "POST", submit, submit, who=None, content=good)
    expect(401, "POST", submit, submit, who="sp_wrong", content=good)
    expect(403, "POST", submit, submit, who="surabaya", content=good)
    expect(413, "POST", submit, submit, content=b"[" + b" " * (6 * 1024 * 1024 + 1) + b"]")
    expect(415, "POST", submit, submit, content=good, headers={"content-type": "text/csv"})
    expect(422, "POST", submit, submit, content=b"[]")

    status_route = "/submissions/{submission_id}"
    mine = f"/submissions/{receipt['submission_id']}"
    assert expect(200, "GET", status_route, mine)["status"] == "received"
    expect(404, "GET", status_route, mine, who="surabaya")
    expect(404, "GET", status_route, "/submissions/0f0e0d0c-0000-4000-8000-00000000dead")
    expect(401, "GET", status_route, mine, who=None)
    world.process(receipt["file_key"])
    report = expect(200, "GET", status_route, mine)
    assert (report["status"], report["valid_rows"], report["rejected_rows"]) == ("processed", 1, 1)
    upload = UploadBulkFile(world.raw, FixedClock(NOW))(io.BytesIO(b"[]"), "empty.json")  # an operator's
    world.process(upload.file_key)
    failed = expect(200, "GET", status_route, f"/submissions/{upload.submission_id}", who="admin")
    assert failed["status"] == "failed" and failed["reason"]
    world.refuse = True
    expect(503, "GET", status_route, mine)
    world.refuse = False

    theirs = record_body(a_record("SR-1", {"dealer.dealer_id": SURABAYA}))
    world.process(expect(202, "POST", submit, submit, who="surabaya", content=theirs)["file_key"])
    world.load()
    history = "/vehicles/{vin}/service-records"
    page = expect(200, "GET", history, f"/vehicles/{VALID_VIN}/service-records?limit=1")
    assert len(page["records"]) == 1
    expect(200, "GET", history, "/vehicles/NOTHING/service-records")
    expect(400, "GET", history, f"/vehicles/{VALID_VIN}/service-records?limit=0")
    expect(400, "GET", history, f"/vehicles/{VALID_VIN}/service-records?limit=many")
    expect(400, "GET", history, f"/vehicles/{VALID_VIN}/service-records?page=forged")
    expect(401, "GET", history, f"/vehicles/{VALID_VIN}/service-records", who=None)

    one = "/service-records/{service_record_id}"
    expect(200, "GET", one, "/service-records/SR-1")
    expect(404, "GET", one, "/service-records/SR-404")
    expect(400, "GET", one, "/service-records/SR-1?dealer_id=")
    expect(401, "GET", one, "/service-records/SR-1", who=None)
    expect(409, "GET", one, "/service-records/SR-1", who="admin")  # Jakarta's and Surabaya's
    expect(200, "GET", one, f"/service-records/SR-1?dealer_id={SURABAYA}", who="admin")

    erasures, one_erasure = "/erasure-requests", "/erasure-requests/{request_id}"
    asked = {"dealer_id": JAKARTA, "customer_id": "CUST-000001"}
    filed = expect(202, "POST", erasures, erasures, who="admin", json=asked)
    assert filed["status"] == "received" and filed["finished_at"] is None
    expect(400, "POST", erasures, erasures, who="admin", json={"dealer_id": JAKARTA})
    expect(400, "POST", erasures, erasures, who="admin", json={**asked, "service_record_id": "SR-1"})
    expect(400, "POST", erasures, erasures, who="admin", json={"customer_id": "CUST-000001"})
    expect(403, "POST", erasures, erasures, json=asked)  # a dealer's key
    expect(401, "POST", erasures, erasures, who=None, json=asked)
    followed = expect(200, "GET", one_erasure, f"/erasure-requests/{filed['request_id']}", who="admin")
    assert followed == filed
    expect(404, "GET", one_erasure, "/erasure-requests/0f0e0d0c-0000-4000-8000-00000000dead", who="admin")
    expect(403, "GET", one_erasure, f"/erasure-requests/{filed['request_id']}")
    expect(401, "GET", one_erasure, f"/erasure-requests/{filed['request_id']}", who=None)

    expect(200, "GET", "/health", "/health", who=None)
    routes = {(method, route) for method, route, _ in seen}
    documented = {(m.upper(), r) for r, ops in document["paths"].items() for m in ops}
    assert documented == routes  # every operation walked


def test_the_committed_document_is_what_the_app_serves() -> None:
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == rendered(documented_app()), f"docs/openapi.json is out of date: run {COMMAND}"


def test_operations_have_stable_names_tags_and_the_stage_as_server(document) -> None:
    operations = {op["operationId"]: op for ops in document["paths"].values() for op in ops.values()}
    assert set(operations) == {
        "submitServiceRecords",
        "getSubmission",
        "listVehicleHistory",
        "getServiceRecord",
        "getHealth",
        "fileErasureRequest",
        "getErasureRequest",
    }
    assert all(op["tags"] for op in operations.values())
    (stage, local) = document["servers"]
    assert stage["url"] == "https://{api_id}.execute-api.{region}.amazonaws.com/v1"
    assert set(stage["variables"]) == {"api_id", "region"} and local["url"] == "http://127.0.0.1:8000"
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_constraints_are_json_schema_keywords(document) -> None:
    schemas = document["components"]["schemas"]
    odometer = schemas["Vehicle"]["properties"]["odometer_reading"]
    assert (odometer["minimum"], odometer["maximum"]) == (-(2**63), 2**63 - 1) and "ge" not in odometer
    assert schemas["PartUsed"]["properties"]["quantity"]["maximum"] == 2**63 - 1
    assert schemas["ServiceDetails"]["properties"]["service_date"]["format"] == "date-time"
    (limit,) = [
        p for p in document["paths"]["/vehicles/{vin}/service-records"]["get"]["parameters"] if p["name"] == "limit"
    ]
    assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 200)
    codes = schemas["ErrorBody"]["properties"]["error"]["enum"]
    assert {"unauthorized", "invalid_api_key", "throttled", "service_unavailable"} <= set(codes)


def test_required_texts_say_so_in_the_schema_and_a_blank_one_is_still_rule_required(document) -> None:
    record = document["components"]["schemas"]["ServiceRecord"]
    assert record["properties"]["service_record_id"]["minLength"] == 1
    from domain.submission import check_submission  # noqa: PLC0415

    for blank in ("", "   "):
        found = check_submission([a_record(blank)])
        assert [(p.field, p.rule) for p in found.listed] == [("service_record_id", "required")], blank


def test_the_committed_document_is_the_same_tomorrow(monkeypatch) -> None:
    """Its example record was dated from today: the committed copy went out of date each
    morning (and its ids each month). Served on another day, the document is the same."""
    from datetime import datetime, timezone

    import entrypoints.sample_data as sample_data

    class Tomorrow(datetime):
        @classmethod
        def now(cls, tz=None):  # type: ignore[no-untyped-def, override]
            return datetime(2027, 1, 1, 9, tzinfo=timezone.utc)

    today = rendered(documented_app())
    monkeypatch.setattr(sample_data, "datetime", Tomorrow)
    assert rendered(documented_app()) == today
