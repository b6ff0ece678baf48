"""The service dates a record may carry: one ISO-8601 grammar for the API and the worker.

The grammar is checked as a regular expression (RE2-compatible, so Arrow can run it on a
whole column) and the calendar by Python's parser, here: the API reads every date with it,
the worker reads a column with Arrow and, when Arrow refuses the column, its values with it.
Both accept exactly these forms and refuse impossible dates (30 February, 24:00, second 60,
year 0); text without an offset is WIB, UTC+7.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Date, optional time (minutes, seconds and up to 9 decimals optional), optional offset.
SERVICE_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?$"
# An offset only counts after a time of day: "2024-03-01" ends in "-01" but has no zone.
OFFSET_PATTERN = r"[T ]\d{2}:\d{2}.*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_GRAMMAR = re.compile(SERVICE_DATE_PATTERN)
_FRACTION = re.compile(r"\.(\d{7,9})")


WIB = timezone(timedelta(hours=7))  # a fixed offset: see domain.cleaning.parse_service_dates
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MICROSECOND = timedelta(microseconds=1)


def service_date_micros(text: str) -> int | None:
    """The instant a service date names, in microseconds since 1970 UTC (decimals past the
    sixth cut), or None if it is not a service date the pipeline can read (not whether it is
    in range)."""
    text = text.strip()
    if not _GRAMMAR.match(text):
        return None
    # Python takes at most 6 decimals of a second; the calendar is what is checked here.
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6], text)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=WIB)
    return (when - _EPOCH) // _MICROSECOND


def is_service_date(text: str) -> bool:
    """Whether ``text`` is a service date the pipeline can read (not whether it is in range)."""
    return service_date_micros(text) is not None
