"""Indonesian time zones by dealer city: WIB (UTC+7), WITA (UTC+8), WIT (UTC+9)."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

ZONES = {"WIB": "Asia/Jakarta", "WITA": "Asia/Makassar", "WIT": "Asia/Jayapura"}
DEFAULT_ZONE = "WIB"

_CITIES_BY_ZONE = {
    "WIB": (
        "jakarta",
        "jakarta pusat",
        "jakarta selatan",
        "jakarta utara",
        "jakarta barat",
        "jakarta timur",
        "bandung",
        "surabaya",
        "semarang",
        "yogyakarta",
        "medan",
        "palembang",
        "pekanbaru",
        "padang",
        "malang",
        "bekasi",
        "tangerang",
        "depok",
        "bogor",
        "bandar lampung",
        "jambi",
        "bengkulu",
        "banda aceh",
        "batam",
        "serang",
        "cirebon",
        "surakarta",
        "solo",
        "pontianak",
        "palangka raya",
        "tasikmalaya",
        "purwokerto",
        "kediri",
        "jember",
        "pangkal pinang",
        "tanjung pinang",
        "sukabumi",
    ),
    "WITA": (
        "denpasar",
        "makassar",
        "balikpapan",
        "samarinda",
        "banjarmasin",
        "manado",
        "mataram",
        "kupang",
        "palu",
        "kendari",
        "gorontalo",
        "tarakan",
        "bontang",
        "banjarbaru",
        "mamuju",
        "kuta",
        "parepare",
    ),
    "WIT": ("jayapura", "ambon", "sorong", "ternate", "manokwari", "merauke", "timika", "tual"),
}

CITY_ZONE: dict[str, str] = {city: zone for zone, cities in _CITIES_BY_ZONE.items() for city in cities}


def zone_for_city(city: str | None) -> str:
    """The zone abbreviation of a dealer city (trimmed, case-blind, 'Kota ' ignored); unknown: WIB."""
    if not city:
        return DEFAULT_ZONE
    key = " ".join(city.strip().lower().split()).removeprefix("kota ")
    return CITY_ZONE.get(key, DEFAULT_ZONE)


def zones_for_cities(cities: pa.Array | pa.ChunkedArray) -> pa.Array:
    """``zone_for_city`` of every city, computed once per distinct city."""
    if isinstance(cities, pa.ChunkedArray):
        cities = cities.combine_chunks()
    encoded = pc.dictionary_encode(cities)
    zones = pa.array([zone_for_city(c) for c in encoded.dictionary.to_pylist()], pa.string())
    return pc.fill_null(zones.take(encoded.indices), DEFAULT_ZONE)
