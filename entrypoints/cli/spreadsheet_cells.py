"""CSV cells a spreadsheet will not run: dealer text is data, never a formula.

OWASP's rule for CSV injection: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or
a carriage return is run as a formula by Excel, LibreOffice and Google Sheets (``=HYPERLINK``
to leak a row, ``=cmd|...`` on old Excel). Such a cell gets a leading single quote, which
spreadsheets show as text and do not run. Numbers are left as they are (-5 stays a number).
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell that a spreadsheet would run as a formula quoted."""
    text = [
        name
        for name in frame.columns
        if pd.api.types.is_object_dtype(frame[name]) or pd.api.types.is_string_dtype(frame[name])
    ]
    if not text:
        return frame
    return frame.assign(**{name: frame[name].map(_safe) for name in text})
