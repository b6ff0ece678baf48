"""Indonesian time zones by dealer city: WIB (UTC+7), WITA (UTC+8), WIT (UTC+9)."""

from __future__ import annotations

import pandas as pd

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


def zones_for_cities(cities: pd.Series) -> pd.Series:
    """Zone abbreviation per dealer city (trimmed, case-blind, 'Kota ' ignored); unknown: WIB."""
    key = cities.str.strip().str.lower().str.replace(r"\s+", " ", regex=True).str.removeprefix("kota ")
    return key.map(CITY_ZONE).fillna(DEFAULT_ZONE).astype(str)
