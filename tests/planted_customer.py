"""One customer planted in every place a pipeline keeps personal data, beside others who stay.

Customer ``CUST-7`` ("Siti Rahmawati") of dealership ``DLR-JKT-001``: two visits in a JSON
Lines file of one day (one rejected), a correction of one in a JSON array of the next day, and
a line of an unreadable file (a CSV export) the next. Beside them: another customer of the same
dealership in the same files, and the same customer id at another dealership (another person),
whom an erasure must not touch.
"""

from __future__ import annotations

import orjson

from tests.factories import a_record

DEALER, CUSTOMER, NAME = "DLR-JKT-001", "CUST-7", "Siti Rahmawati"
OTHER_DEALER = "DLR-SBY-002"
NOTES = "Bu Siti minta ditelepon sebelum jam 5"
DAY_1, DAY_2 = "2026-11-23", "2026-11-24"
LINES_KEY = f"service-records/date={DAY_1}/09-00-00_lines.jsonl"
ARRAY_KEY = f"service-records/date={DAY_2}/09-00-00_array.json"
CSV_KEY = f"service-records/date={DAY_2}/10-00-00_export.csv"
THEIR_RECORDS = ("SR-701", "SR-702")
OTHERS = ("SR-801", "SR-901")  # another customer of the dealer; the same id at another dealer


def _theirs(record_id: str, **changes: object) -> dict[str, object]:
    return a_record(
        record_id,
        {
            "customer": {"customer_id": CUSTOMER, "customer_name": NAME, "phone": "0812-555-0101"},
            "service_details.services_performed.0.technician_notes": NOTES,
            **changes,
        },
    )


def raw_files() -> list[tuple[str, bytes, dict[str, str]]]:
    """(key, bytes, metadata) of each raw file, in the order they arrive."""
    other = a_record("SR-801", {"customer": {"customer_id": "CUST-8", "customer_name": "Agus Salim"}})
    elsewhere = a_record(
        "SR-901",
        {"dealer.dealer_id": OTHER_DEALER, "customer": {"customer_id": CUSTOMER, "customer_name": "Wayan Sudarta"}},
    )
    lines = [
        _theirs("SR-701"),
        other,
        _theirs("SR-702", **{"vehicle.vin": "TOO-SHORT"}),  # rejected: the error store keeps it as sent
    ]
    corrected = _theirs("SR-701", **{"service_details.total_cost": 700_000})
    csv = (
        b"dealer_id,service_record_id,customer_id,customer_name\n"
        b'"DLR-SBY-002","SR-902","CUST-9","Made Wirawan"\n' + f'"{DEALER}","SR-703","{CUSTOMER}","{NAME}"\n'.encode()
    )
    array = b"[\n  " + b",\n  ".join(orjson.dumps(r) for r in [corrected, elsewhere]) + b"\n]\n"
    return [
        (LINES_KEY, b"".join(orjson.dumps(r) + b"\n" for r in lines), _meta(DAY_1, "lines")),
        (ARRAY_KEY, array, _meta(DAY_2, "array")),
        (CSV_KEY, csv, _meta(DAY_2, "export")),
    ]


def _meta(day: str, submission: str) -> dict[str, str]:
    return {"ingested-at": f"{day}T09:00:00+00:00", "submission-id": f"{submission}-0000-0000"}
