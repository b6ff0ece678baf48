"""A client generated from docs/openapi.json works, as an integrator would use it: generated
with openapi-python-client, configured for the x-api-key header, against the app served over
HTTP. Typed answers on every route, errors parsed as ErrorBody, the gateway's 403 too."""

from __future__ import annotations

import importlib
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from adapters.local.in_memory import FixedClock, InMemoryApiKeyStore, InMemoryObjectStore, InMemoryRecordRepository
from application.access.api_keys import Authenticate, IssueApiKey
from application.erasure.erasure_requests import ErasureRequestStatus, FileErasureRequest
from application.history.vehicle_history import ServiceRecordLookup, VehicleHistory
from application.intake.submission_status import SubmissionStatus
from application.intake.submit_record import SubmitRecord
from application.loading.load_batch import LoadBatch
from application.processing.process_raw_file import ProcessRawFile
from entrypoints.api.http_app import create_app
from tests.factories import NOW, VALID_VIN, a_record

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client_package(tmp_path_factory) -> Any:
    """The package openapi-python-client generates from the committed document."""
    out = tmp_path_factory.mktemp("generated")
    generator = Path(sys.executable).parent / "openapi-python-client"
    done = subprocess.run(
        [str(generator), "generate", "--path", str(ROOT / "docs" / "openapi.json"), "--meta", "none"]
        + ["--output-path", str(out / "servicepipe_client")],
        capture_output=True,
        text=True,
        cwd=out,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module("servicepipe_client")
    finally:
        sys.path.remove(str(out))


@pytest.fixture
def served() -> Any:
    """The app on in-memory stores over real HTTP: (base URL, dealer key, stores)."""
    clock = FixedClock(NOW)
    raw, cleaned, errors = InMemoryObjectStore(NOW), InMemoryObjectStore(NOW), InMemoryObjectStore(NOW)
    table, keys = InMemoryRecordRepository(), InMemoryApiKeyStore()
    key = IssueApiKey(keys, clock)(a_record()["dealer"]["dealer_id"])[1]
    app = create_app(
        lambda: SubmitRecord(raw, clock),
        lambda: Authenticate(keys),
        lambda: SubmissionStatus(raw, cleaned, errors),
        lambda: VehicleHistory(table),
        lambda: ServiceRecordLookup(table),
        lambda: FileErasureRequest(raw, clock),
        lambda: ErasureRequestStatus(raw),
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.01)
    port = sock.getsockname()[1]
    yield (
        f"http://127.0.0.1:{port}",
        key,
        (ProcessRawFile(raw, cleaned, errors, clock), LoadBatch(cleaned, table, clock)),
    )
    server.should_exit = True
    thread.join(timeout=10)


def test_a_generated_client_submits_follows_and_reads_back(client_package, served) -> None:
    url, key, (process, load) = served
    from servicepipe_client import AuthenticatedClient  # type: ignore[import-not-found]
    from servicepipe_client.api.history import get_service_record, list_vehicle_history  # type: ignore[import-not-found]
    from servicepipe_client.api.submissions import get_submission, submit_service_records  # type: ignore[import-not-found]
    from servicepipe_client.models import ErrorBody, ReceiptBody, ServiceRecord  # type: ignore[import-not-found]

    # The one setting an integrator must make: the key goes in x-api-key, with no prefix.
    client = AuthenticatedClient(base_url=url, token=key, prefix="", auth_header_name="x-api-key")
    records = [
        ServiceRecord.from_dict(a_record("SR-1")),
        ServiceRecord.from_dict(a_record("SR-2", {"vehicle.vin": "X"})),
    ]
    receipt = submit_service_records.sync(client=client, body=records)
    assert isinstance(receipt, ReceiptBody) and receipt.record_count == 2

    report = get_submission.sync(receipt.submission_id, client=client)
    assert report.status.value == "received" and report.valid_rows is None
    process(receipt.file_key)
    report = get_submission.sync(receipt.submission_id, client=client)
    assert (report.status.value, report.valid_rows, report.rejected_rows) == ("processed", 1, 1)
    assert [e.rule for e in report.rejected[0].errors] == ["vin_format"]

    load()
    page = list_vehicle_history.sync(VALID_VIN, client=client, limit=10)
    assert [r.service_record_id for r in page.records] == ["SR-1"] and page.next_page is None
    record = get_service_record.sync("SR-1", client=client)
    assert record.vehicle.vin == VALID_VIN and record.service_details.total_cost > 0

    stranger = AuthenticatedClient(base_url=url, token="sp_not-a-key", prefix="", auth_header_name="x-api-key")
    refused = get_submission.sync_detailed(receipt.submission_id, client=stranger)
    assert refused.status_code == 401 and isinstance(refused.parsed, ErrorBody)
    assert refused.parsed.error.value == "unauthorized"


def test_the_gateways_answers_parse_as_error_bodies(client_package) -> None:
    """What API Gateway sends itself (infra/template.yaml) reaches the client as an ErrorBody,
    not a KeyError on a body no schema describes."""
    from servicepipe_client import AuthenticatedClient  # type: ignore[import-not-found]
    from servicepipe_client.api.submissions import get_submission  # type: ignore[import-not-found]

    client = AuthenticatedClient(base_url="https://gateway", token="k", prefix="", auth_header_name="x-api-key")
    for status, code in (
        (403, "invalid_api_key"),
        (429, "throttled"),
        (504, "gateway_timeout"),
        (502, "gateway_error"),
    ):
        answer = httpx.Response(status, json={"error": code, "message": "from the gateway"})
        parsed = get_submission._parse_response(client=client, response=answer)
        assert parsed.error.value == code, status
