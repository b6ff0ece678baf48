"""Realistic sample service records: Indonesian dealers and cities, VINs, parts, IDR costs.

A fraction of records is broken in the ways the business rules catch; every broken
record is still structurally valid, so that a submission carrying it is accepted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_DEALERS = [
    ("DLR-JKT-001", "Astra Motor Sunter", "Jakarta"),
    ("DLR-JKT-002", "Nusantara Toyota Cilandak", "Jakarta Selatan"),
    ("DLR-BDG-001", "Priangan Motor Bandung", "Bandung"),
    ("DLR-SBY-001", "Surya Mobil Surabaya", "Surabaya"),
    ("DLR-SMG-001", "Jaya Abadi Semarang", "Semarang"),
    ("DLR-MDN-001", "Deli Motor Medan", "Medan"),
    ("DLR-PLB-001", "Sriwijaya Auto Palembang", "Palembang"),
    ("DLR-DPS-001", "Bali Prima Motor", "Denpasar"),
    ("DLR-MKS-001", "Celebes Auto Makassar", "Makassar"),
    ("DLR-BPN-001", "Borneo Motor Balikpapan", "Balikpapan"),
    ("DLR-MDO-001", "Minahasa Mobil Manado", "Manado"),
    ("DLR-JYP-001", "Cendrawasih Motor Jayapura", "Jayapura"),
    ("DLR-AMB-001", "Maluku Auto Ambon", "Ambon"),
    ("DLR-PTK-001", "Khatulistiwa Motor", "Pontianak"),
]
# (model, world manufacturer identifier)
_MODELS = [
    ("Toyota Avanza", "MHF"),
    ("Toyota Innova", "MHF"),
    ("Toyota Fortuner", "MHF"),
    ("Toyota Agya", "MHK"),
    ("Daihatsu Xenia", "MHK"),
    ("Daihatsu Sigra", "MHK"),
    ("Honda Brio", "MHR"),
    ("Honda HR-V", "MHR"),
    ("Suzuki Ertiga", "MHY"),
    ("Mitsubishi Xpander", "MK2"),
    ("Wuling Almaz", "LZW"),
    ("Hyundai Creta", "MAL"),
]
_SERVICES = [
    ("SRV-OIL", "Ganti oli mesin", 150_000),
    ("SRV-PM10", "Servis berkala 10.000 km", 450_000),
    ("SRV-BRK", "Ganti kampas rem depan", 200_000),
    ("SRV-AC", "Servis AC", 350_000),
    ("SRV-ALN", "Spooring dan balancing", 250_000),
    ("SRV-TUN", "Tune up mesin", 400_000),
    ("SRV-BAT", "Ganti aki", 50_000),
    ("SRV-TRN", "Ganti oli transmisi", 120_000),
]
_PARTS = [
    ("PRT-OIL-4L", "Oli mesin 0W-20 4 liter", 480_000),
    ("PRT-FLT-OIL", "Filter oli", 85_000),
    ("PRT-FLT-AIR", "Filter udara", 165_000),
    ("PRT-FLT-CAB", "Filter kabin", 190_000),
    ("PRT-BRK-PAD", "Kampas rem depan", 575_000),
    ("PRT-SPK", "Busi iridium", 110_000),
    ("PRT-BAT", "Aki 45Ah", 1_150_000),
    ("PRT-WPR", "Karet wiper", 95_000),
]
_FIRST = ["Budi", "Siti", "Agus", "Dewi", "Rizky", "Putri", "Andi", "Ayu", "Hendra", "Wulan", "Yusuf", "Ratna"]
_LAST = ["Santoso", "Rahayu", "Wijaya", "Lestari", "Pratama", "Saputra", "Hidayat", "Kusuma", "Nugroho", "Sari"]
_ADVISORS = ["Eko Prasetyo", "Rina Marlina", "Fajar Ramadhan", "Lina Susanti", "Dimas Anggara"]
_ZONE_FORMATS = ("+07:00", "Z", "", "+08:00")

BREAKAGES = (
    "vin_format",
    "year_range",
    "odometer_range",
    "non_negative_cost",
    "quantity_positive",
    "quantity_too_large",
    "service_date_range",
    "cost_too_large",
    "duplicate_id",
)


def _vin(rng: random.Random, wmi: str) -> str:
    return wmi + "".join(rng.choices(_VIN_CHARS, k=14))


def _record(rng: random.Random, record_id: str, now: datetime) -> dict[str, Any]:
    dealer_id, dealer_name, city = rng.choice(_DEALERS)
    model, wmi = rng.choice(_MODELS)
    when = now - timedelta(days=rng.uniform(1, 720))
    zone = rng.choice(_ZONE_FORMATS)
    services: list[dict[str, Any]] = [
        {"service_code": code, "service_name": name, "service_cost": float(cost), "technician_notes": "OK"}
        for code, name, cost in rng.sample(_SERVICES, rng.randint(1, 3))
    ]
    parts: list[dict[str, Any]] = [
        {"part_code": code, "part_name": name, "quantity": rng.randint(1, 4), "unit_cost": float(cost)}
        for code, name, cost in rng.sample(_PARTS, rng.randint(0, 3))
    ]
    total: float = sum(s["service_cost"] for s in services) + sum(p["quantity"] * p["unit_cost"] for p in parts)
    if rng.random() < 0.1:
        total *= 1.11  # VAT added on the invoice: flagged as cost_mismatch, not rejected
    return {
        "service_record_id": record_id,
        "dealer": {"dealer_id": dealer_id, "dealer_name": dealer_name, "dealer_location": city},
        "vehicle": {
            "vin": _vin(rng, wmi),
            "model": model,
            "year": rng.randint(max(2005, when.year - 15), when.year),
            "odometer_reading": rng.randint(1_000, 250_000),
        },
        "service_details": {
            "service_date": when.strftime("%Y-%m-%dT%H:%M:%S") + zone,
            "service_advisor_name": rng.choice(_ADVISORS),
            "total_cost": round(total, 2),
            "services_performed": services,
            "parts_used": parts,
        },
        "customer": {
            "customer_id": f"CUST-{rng.randint(1, 999_999):06d}",
            "customer_name": f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        },
    }


def _break(rng: random.Random, record: dict[str, Any], previous: dict[str, Any] | None, now: datetime) -> None:
    kind = rng.choice(BREAKAGES)
    vehicle, details = record["vehicle"], record["service_details"]
    if kind == "vin_format":
        vehicle["vin"] = vehicle["vin"][:16] if rng.random() < 0.5 else "O" + vehicle["vin"][1:]
    elif kind == "year_range":
        vehicle["year"] = rng.choice([1900, now.year + 5])
    elif kind == "odometer_range":
        vehicle["odometer_reading"] = rng.choice([-10, 3_500_000])
    elif kind == "non_negative_cost":
        details["total_cost"] = -abs(details["total_cost"])
    elif kind == "quantity_positive" and details["parts_used"]:
        details["parts_used"][0]["quantity"] = 0
    elif kind == "quantity_positive":
        details["services_performed"][0]["service_cost"] = -50_000.0
    elif kind == "quantity_too_large" and details["parts_used"]:
        details["parts_used"][0]["quantity"] = 250_000
    elif kind in ("quantity_too_large", "cost_too_large"):
        details["total_cost"] = 2_000_000_000_000.0
    elif kind == "service_date_range":
        details["service_date"] = rng.choice(["1999-12-31T08:00:00+07:00", f"{now.year + 1}-01-15T09:00:00+07:00"])
    elif previous:  # a repeat: the previous record's identity, its dealership and id
        record["service_record_id"] = previous["service_record_id"]
        record["dealer"] = dict(previous["dealer"])
    else:
        vehicle["vin"] = "SHORTVIN"


def generate_records(
    count: int,
    bad_fraction: float = 0.05,
    seed: int | None = None,
    now: datetime | None = None,
    id_prefix: str | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` sample records; about ``bad_fraction`` of them break one business rule.

    Dates are relative to ``now`` (default: today, 00:00 UTC), so a seed repeats its output
    all day. Ids are ``<id_prefix>-<n>`` (default ``SR-<year><month>``): give each run its own
    prefix and runs never collide.
    """
    rng = random.Random(seed)
    now = now or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    prefix = id_prefix or f"SR-{now:%Y%m}"
    previous = None
    for number in range(1, count + 1):
        record = _record(rng, f"{prefix}-{number:08d}", now)
        if rng.random() < bad_fraction:
            _break(rng, record, previous, now)
        previous = record
        yield record
