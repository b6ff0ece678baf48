"""Logs are JSON lines with correlation ids, and never carry customer names."""

from __future__ import annotations

import io
import json
import logging

import orjson

from application.intake.submit_record import SubmitRecord
from application.processing.process_raw_file import ProcessRawFile
from domain.dealer_access import OPERATOR
from entrypoints.logging_setup import JsonFormatter
from tests.factories import a_record


def test_processing_logs_carry_ids_and_no_customer_name(raw, cleaned, errors, clock) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        body = orjson.dumps([a_record("SR-1"), a_record("SR-2", {"vehicle.vin": "X"})])
        receipt = SubmitRecord(raw, clock)(body, OPERATOR)
        ProcessRawFile(raw, cleaned, errors, clock)(receipt.file_key)
        raw.put_bytes("service-records/date=2026-11-25/x.bin", b"\x00Budi Santoso")
        ProcessRawFile(raw, cleaned, errors, clock)("service-records/date=2026-11-25/x.bin")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {"submission accepted", "raw file processed", "raw file unreadable"} <= {e["message"] for e in entries}
    assert all("raw_key" in e for e in entries if e["logger"].startswith("application"))
    assert "Budi Santoso" not in stream.getvalue()


def test_customer_fields_passed_as_extra_are_redacted() -> None:
    record = logging.makeLogRecord({"msg": "x", "customer_name": "Budi Santoso", "raw_key": "k"})
    entry = json.loads(JsonFormatter().format(record))
    assert entry["customer_name"] == "[redacted]" and entry["raw_key"] == "k"
