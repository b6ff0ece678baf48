"""What a client sends never steers a storage key; no customer name reaches a log line; no AWS
secret sits in the repository."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")
SAFE_KEY = re.compile(r"^service-records/date=\d{4}-\d{2}-\d{2}/[A-Za-z0-9._=-]+$")


@pytest.mark.parametrize(
    "name",
    [
        "../../../etc/passwd",
        "..\\..\\windows",
        "line\nbreak\r.json",
        "/absolute.json",
        "é ü 車.json",
        "x" * 500,
    ],
)
def test_an_upload_name_never_leaves_the_raw_partition(tmp_path, name) -> None:
    source = tmp_path / "batch.jsonl"
    source.write_text('{"service_record_id": "SR-1"}\n')
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(tmp_path / "d"), "upload", str(source), "--name", name],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    key = json.loads(done.stdout)["file_key"]
    assert SAFE_KEY.match(key)  # one path segment of safe characters under the date partition
    written = [p for p in tmp_path.rglob("*") if p.is_file() and "batch.jsonl" not in p.name]
    assert all(str(p).startswith(str(tmp_path / "d")) for p in written)  # nothing outside the data folder


@pytest.mark.parametrize("name", ["a\x00b.json", "tab\tand\x1fcontrol.json", "../\x00../x"])
def test_control_characters_in_a_name_never_reach_a_key(name) -> None:
    import io

    from adapters.local.in_memory import FixedClock, InMemoryObjectStore
    from application.intake.upload_bulk_file import UploadBulkFile
    from tests.factories import NOW

    raw = InMemoryObjectStore(NOW)
    receipt = UploadBulkFile(raw, FixedClock(NOW))(io.BytesIO(b'{"service_record_id": "SR-1"}\n'), name)
    from application.storage_keys import submission_record_key

    assert SAFE_KEY.match(receipt.file_key)
    assert sorted(raw.objects) == sorted([receipt.file_key, submission_record_key(receipt.submission_id)])


def test_no_customer_name_in_the_logs_of_a_full_run(tmp_path) -> None:
    sample = subprocess.run([SERVICEPIPE, "generate", "300", "--seed", "42"], capture_output=True, text=True)
    names = {record["customer"]["customer_name"] for record in json.loads(sample.stdout) if record.get("customer")}
    names.discard(None)
    assert len(names) > 50
    done = subprocess.run(
        [SERVICEPIPE, "--data-dir", str(tmp_path), "--log-level", "DEBUG", "run", "--records", "300", "--seed", "42"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    logged = done.stderr + done.stdout
    assert logged.count('"level"') > 10  # the logs really were captured, at DEBUG
    leaked = sorted(name for name in names if isinstance(name, str) and name in logged)
    assert leaked == []


def test_no_aws_secret_in_the_repository() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    access_key = re.compile(rb"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
    secret = re.compile(rb"aws_secret_access_key\s*[=:]\s*['\"]?[A-Za-z0-9/+]{40}\b", re.IGNORECASE)
    found = []
    for name in tracked:
        path = ROOT / name
        if path.is_file() and path.stat().st_size < 2_000_000:
            text = path.read_bytes()
            found += [
                f"{name}: {m.group(0)[:12]!r}" for pattern in (access_key, secret) for m in pattern.finditer(text)
            ]
    assert found == []


def test_no_customer_name_or_phone_number_in_the_logs_of_bad_input_and_recovery(tmp_path) -> None:
    """Names and phone numbers where dealers put them (the customer, free-text notes), in valid
    rows, rejected rows, a structurally refused submission and an unreadable file, through every
    command at DEBUG: none of them in any log line."""
    from tests.factories import a_record

    phone, name = "+62 812-3456-7890", "Siti Nurhaliza Wibowo"
    noted = {"service_details.services_performed.0.technician_notes": f"call {name} at {phone}"}
    rows = [
        a_record("SR-1", {"customer.customer_name": name, **noted}),
        a_record("SR-2", {"customer.customer_name": name, "vehicle.vin": "short", **noted}),  # rejected
        a_record("SR-3", {"customer.customer_name": phone, "service_details.service_date": "not a date"}),
    ]
    data = tmp_path / "d"
    (tmp_path / "rows.json").write_bytes(json.dumps(rows).encode())
    (tmp_path / "refused.json").write_bytes(json.dumps([{**rows[0], "vehicle": name}]).encode())
    # An array that passes the upload's look but breaks (a '}' too many): unreadable to the worker.
    (tmp_path / "unreadable.json").write_bytes(json.dumps([{"customer_name": f"{name} {phone}"}]).encode()[:-1] + b"}]")
    logged = ""
    for command in (
        ["upload", str(tmp_path / "rows.json")],
        ["upload", str(tmp_path / "unreadable.json")],
        ["submit", str(tmp_path / "refused.json")],
        ["worker", "--drain"],
        ["load"],
        ["dlq", "list"],
        ["replay", "--date", datetime.now(timezone.utc).strftime("%Y-%m-%d")],
        ["worker", "--drain"],
        ["reconcile", "--date", datetime.now(timezone.utc).strftime("%Y-%m-%d")],
    ):
        done = subprocess.run(
            [SERVICEPIPE, "--data-dir", str(data), "--log-level", "DEBUG", *command], capture_output=True, text=True
        )
        logged += done.stderr
    log_lines = [line for line in logged.splitlines() if line.startswith("{")]
    assert len(log_lines) > 10  # the logs really were captured, at DEBUG
    assert [line for line in log_lines if name in line or phone in line or "812-3456" in line] == []
