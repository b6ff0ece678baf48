"""Test data: a valid record to start from, and helpers to bend it."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
VALID_VIN = "MHFXX12G3K1234567"


def a_record(record_id: str = "SR-1", changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A valid record; ``changes`` maps dotted paths to new values (None removes the field)."""
    record: dict[str, Any] = {
        "service_record_id": record_id,
        "dealer": {"dealer_id": "DLR-JKT-001", "dealer_name": "Astra Motor Sunter", "dealer_location": "Jakarta"},
        "vehicle": {"vin": VALID_VIN, "model": "Toyota Avanza", "year": 2019, "odometer_reading": 45_000},
        "service_details": {
            "service_date": "2026-11-20T10:30:00+07:00",
            "service_advisor_name": "Eko Prasetyo",
            "total_cost": 650_000,
            "services_performed": [
                {"service_code": "SRV-OIL", "service_name": "Ganti oli", "service_cost": 150_000},
            ],
            "parts_used": [
                {"part_code": "PRT-OIL-4L", "part_name": "Oli mesin", "quantity": 1, "unit_cost": 415_000},
                {"part_code": "PRT-FLT-OIL", "part_name": "Filter oli", "quantity": 1, "unit_cost": 85_000},
            ],
        },
        "customer": {"customer_id": "CUST-000001", "customer_name": "Budi Santoso"},
    }
    for path, value in (changes or {}).items():
        set_path(record, path, value)
    return record


def set_path(record: dict[str, Any], path: str, value: Any) -> None:
    """Set (or, with None, remove) a dotted path: ``vehicle.vin``, ``service_details.parts_used.0.quantity``."""
    parts = path.split(".")
    target: Any = record
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    last = parts[-1]
    if isinstance(target, list):
        target[int(last)] = value
    elif value is None:
        target.pop(last, None)
    else:
        target[last] = value


def variant(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    record = copy.deepcopy(base)
    for path, value in changes.items():
        set_path(record, path, value)
    return record


def put_cleaned(store: Any, key: str, *records: dict[str, Any], body: bytes | None = None) -> None:
    """A cleaned JSONL file (``dynamodb/date=D/NAME.jsonl``) and then its manifest, as
    ProcessRawFile commits them."""
    store.put_bytes(key, body if body is not None else b"".join(json.dumps(r).encode() + b"\n" for r in records))
    date, name = key.removeprefix("dynamodb/").removesuffix(".jsonl").split("/")
    store.put_bytes(f"manifests/{date}/{name}.json", json.dumps({"status": "processed"}).encode())


BYTE_CHANGES = ["delete", "insert", "replace"]


def one_byte_changed(body: bytes, at: int, how: str, byte: int) -> bytes:
    """``body`` with the byte at ``at`` deleted, ``byte`` inserted before it, or ``byte`` in
    its place (``how``, one of ``BYTE_CHANGES``)."""
    if how == "delete":
        return body[:at] + body[at + 1 :]
    if how == "insert":
        return body[:at] + bytes([byte]) + body[at:]
    if how == "replace":
        return body[:at] + bytes([byte]) + body[at + 1 :]
    raise ValueError(f"unknown change {how!r}: one of {BYTE_CHANGES}")
