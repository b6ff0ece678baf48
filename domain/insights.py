"""The insights report's rejection rates (pandas): the other questions are SQL
(``domain/insight_queries.py``). Rejected rows are not in the star schema: the report reads
them from the error store's JSON Lines.
"""

from __future__ import annotations

import pandas as pd


def rejection_rates(fact: pd.DataFrame, rejected: pd.DataFrame) -> pd.DataFrame:
    """Rows rejected per dealer and rule against all rows that dealer sent (every version
    counted: this is about what arrived). ``fact`` and ``rejected`` come from the same files;
    ``rejected`` has one row per (rejected row, rule) with ``dealer_id`` (as cleaning reads it,
    null when the row had none) and ``row`` (a row's identity)."""
    valid = fact.groupby("dealer_id").size().rename("valid_rows")
    rows = rejected.drop_duplicates("row").groupby("dealer_id", dropna=False).size().rename("rejected_rows")
    totals = pd.concat([valid, rows], axis=1).fillna(0).astype(int)
    totals["rows"] = totals["valid_rows"] + totals["rejected_rows"]
    by_rule = rejected.groupby(["dealer_id", "rule"], dropna=False).size().rename("rejected").reset_index()
    # A key of only missing dealer ids comes out of groupby as float NaN: merge on objects.
    by_rule["dealer_id"] = by_rule["dealer_id"].astype(object)
    totals.index = totals.index.astype(object)
    merged = by_rule.merge(totals, left_on="dealer_id", right_index=True, how="left")
    merged["rate"] = (merged["rejected"] / merged["rows"]).round(4)
    return merged[["dealer_id", "rule", "rejected", "rows", "rate"]].sort_values(
        ["rate", "dealer_id", "rule"], ascending=[False, True, True]
    )
