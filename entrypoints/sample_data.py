"""Realistic sample service records: Indonesian dealers and cities, VINs, parts, IDR costs.

A fraction of records is broken in the ways the business rules catch; every broken
record is still structurally valid, so that a submission carrying it is accepted.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
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
# The parts each service uses; a part's quantity is what one job takes (one battery, one
# 4-litre pack of oil, four spark plugs, a pair of wiper blades).
_PARTS_OF = {
    "SRV-OIL": ("PRT-OIL-4L", "PRT-FLT-OIL"),
    "SRV-PM10": ("PRT-OIL-4L", "PRT-FLT-OIL", "PRT-FLT-AIR"),
    "SRV-BRK": ("PRT-BRK-PAD",),
    "SRV-AC": ("PRT-FLT-CAB",),
    "SRV-TUN": ("PRT-SPK", "PRT-FLT-AIR"),
    "SRV-BAT": ("PRT-BAT",),
}
_QUANTITY = {"PRT-SPK": 4, "PRT-WPR": 2}  # every other part: 1
_EXTRA_PARTS = ("PRT-WPR", "PRT-FLT-CAB")  # asked for beside the services, now and then
EPOCH = datetime(2020, 1, 1, tzinfo=timezone.utc)  # odometers grow from here, on every run alike
YEAR_DAYS = 365
VISITS_PER_CAR = 4  # a year's visits per car, on average: about one a quarter
COMEBACK = 0.03  # visits followed by a comeback for the same repair within 3-25 days
HOME_DEALER = 0.85  # visits at the car's usual dealership

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


@dataclass(frozen=True)
class Vehicle:
    """One car of the sample fleet: who owns it, where it is serviced, how far it drives."""

    vin: str
    model: str
    year: int
    dealer: tuple[str, str, str]  # its usual dealership
    customer_id: str
    customer_name: str
    km_at_epoch: float
    km_per_day: float

    def odometer(self, when: datetime) -> int:
        """Its odometer on ``when``: it grows with time, the same on every run."""
        return max(1_000, round(self.km_at_epoch + self.km_per_day * (when - EPOCH).days))


def vehicle(seed: int | None, index: int) -> Vehicle:
    """Car ``index`` of the fleet of ``seed``: the same car whenever it is asked for."""
    rng = random.Random(f"{seed}/vehicle/{index}")
    model, wmi = rng.choice(_MODELS)
    return Vehicle(
        vin=_vin(rng, wmi),
        model=model,
        year=rng.randint(2012, 2024),
        dealer=rng.choice(_DEALERS),
        customer_id=f"CUST-{rng.randint(1, 999_999):06d}",
        customer_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
        km_at_epoch=rng.uniform(-20_000, 60_000),
        km_per_day=rng.uniform(15, 90),
    )


def _services(rng: random.Random) -> list[dict[str, Any]]:
    return [
        {"service_code": code, "service_name": name, "service_cost": float(cost), "technician_notes": "OK"}
        for code, name, cost in rng.sample(_SERVICES, rng.randint(1, 3))
    ]


def _parts(rng: random.Random, services: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The parts ``services`` use, each in the quantity one job takes, and now and then one
    asked for beside them."""
    wanted = {part for s in services for part in _PARTS_OF.get(s["service_code"], ())}
    if rng.random() < 0.2:
        wanted.add(rng.choice(_EXTRA_PARTS))
    return [
        {"part_code": code, "part_name": name, "quantity": _QUANTITY.get(code, 1), "unit_cost": float(cost)}
        for code, name, cost in _PARTS
        if code in wanted
    ]


def _record(rng: random.Random, record_id: str, car: Vehicle, when: datetime, again: dict | None) -> dict[str, Any]:
    """A visit of ``car`` on ``when``; ``again``: the visit whose first service is done again."""
    dealer_id, dealer_name, city = car.dealer if rng.random() < HOME_DEALER else rng.choice(_DEALERS)
    services = _services(rng)
    if again is not None:  # a comeback: the same repair again, days later
        first = again["service_details"]["services_performed"][0]
        services = [dict(first)] + [s for s in services if s["service_code"] != first["service_code"]][:1]
    parts = _parts(rng, services)
    total: float = sum(s["service_cost"] for s in services) + sum(p["quantity"] * p["unit_cost"] for p in parts)
    if rng.random() < 0.1:
        total *= 1.11  # VAT added on the invoice: flagged as cost_mismatch, not rejected
    return {
        "service_record_id": record_id,
        "dealer": {"dealer_id": dealer_id, "dealer_name": dealer_name, "dealer_location": city},
        "vehicle": {"vin": car.vin, "model": car.model, "year": car.year, "odometer_reading": car.odometer(when)},
        "service_details": {
            "service_date": when.strftime("%Y-%m-%dT%H:%M:%S") + rng.choice(_ZONE_FORMATS),
            "service_advisor_name": rng.choice(_ADVISORS),
            "total_cost": round(total, 2),
            "services_performed": services,
            "parts_used": parts,
        },
        "customer": {"customer_id": car.customer_id, "customer_name": car.customer_name},
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
    period: int = 0,
    cars: int | None = None,
) -> Iterator[dict[str, Any]]:
    """``count`` visits of a fleet of cars, in date order; about ``bad_fraction`` of them
    break one business rule.

    The fleet is ``cars`` (default ``count / VISITS_PER_CAR``) cars of ``seed``. ``period`` says which year of
    whose history: period 0 is the year two years before ``now``, period 1 the year after it
    (the same cars, later visits, their odometers further on), period 2 the first year of the
    next cars, and so on. Dates are relative to ``now`` (default: today, 00:00 UTC). Ids are
    ``<id_prefix>-<n>`` (default ``SR-<year><month>``): give each run its own prefix.
    """
    rng = random.Random(f"{seed}/visits/{period}")
    now = now or datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    prefix = id_prefix or f"SR-{now:%Y%m}"
    cars = cars or max(1, count // VISITS_PER_CAR)
    first_car = (period // 2) * cars
    start = now - timedelta(days=2 * YEAR_DAYS) + timedelta(days=(period % 2) * YEAR_DAYS)
    # Which car each visit is of; then a car's visits spread over the year, as regular
    # servicing is (a quarter apart for four), a little early or late. A comeback follows a
    # visit within days, for the same repair: the report's real repeat repairs.
    comebacks = min(sum(rng.random() < COMEBACK for _ in range(count)), max(0, count - 1))
    owners: dict[int, int] = {}
    for _ in range(count - comebacks):
        car = first_car + rng.randrange(cars)
        owners[car] = owners.get(car, 0) + 1
    visits: list[tuple[datetime, int, bool]] = []
    for car, many in owners.items():
        gap = (YEAR_DAYS - 30) / many
        for i in range(many):
            when = start + timedelta(days=gap * (i + 0.5) + rng.uniform(-0.25, 0.25) * gap)
            visits.append((when, car, False))
    visits.sort(key=lambda v: (v[0], v[1]))
    for when, car, _ in rng.sample(visits, comebacks):
        visits.append((when + timedelta(days=rng.uniform(3, 25)), car, True))
    visits.sort(key=lambda v: (v[0], v[1]))
    fleet: dict[int, Vehicle] = {}
    last_of: dict[int, dict[str, Any]] = {}
    previous = None
    for number, (when, car, comeback) in enumerate(visits, start=1):
        if car not in fleet:
            fleet[car] = vehicle(seed, car)
        record = _record(rng, f"{prefix}-{number:08d}", fleet[car], when, last_of.get(car) if comeback else None)
        last_of[car] = record
        if rng.random() < bad_fraction:
            _break(rng, record, previous, now)
        previous = record
        yield record
