"""The report's table cells as people read them: thousands separators, never scientific
notation, shares in percent, money in whole rupiah (the CSV files keep every digit)."""

from __future__ import annotations

import numbers
from decimal import ROUND_HALF_UP, Decimal

import pandas as pd

SHARE_COLUMNS = {"rate"}  # shares of 1


def _is_money(column: str) -> bool:
    return column.endswith("_cost")


def cell(column: str, value: object) -> str:
    """One value of ``column`` as the report shows it."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):  # type: ignore[call-overload]
        return ""
    if isinstance(value, bool) or not isinstance(value, numbers.Number | Decimal):
        return str(value)
    number = float(value)  # type: ignore[arg-type]
    if column in SHARE_COLUMNS:
        return f"{number:.1%}"
    if _is_money(column):  # half a rupiah up, as an invoice rounds (not to even)
        return f"{Decimal(str(value)).quantize(Decimal(1), ROUND_HALF_UP):,}"
    if number.is_integer():
        return f"{number:,.0f}"
    return f"{number:,.1f}"


def readable(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every cell as text, formatted by its column."""
    cells = {column: [cell(column, v) for v in frame[column]] for column in frame.columns}
    return pd.DataFrame(cells, index=frame.index)
