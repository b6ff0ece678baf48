"""The published table of rejected rows: which dealer's row failed which rule, in which file.

What rejection rates are computed from (beside the fact rows of the same files), published
with the date's other tables so both come from one committed set. It holds no part of the
record beyond its dealer id: the error store keeps the record as sent, for the dealer.
"""

from __future__ import annotations

import orjson
import pyarrow as pa

from domain.record_identity import dealer_id_of

REJECTED_ROWS = "rejected_rows"

SCHEMA = pa.schema(
    [
        pa.field("dealer_id", pa.string()),  # as cleaning reads it; null when the row had none
        pa.field("rule", pa.string(), nullable=False),
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("record_index", pa.int64(), nullable=False),
    ]
)


def rejected_rows(jsonl: bytes, source_file: str) -> pa.Table:
    """A row per (rejected row, rule it failed) of one file's rejected rows (JSON Lines)."""
    rows: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for line in jsonl.splitlines():
        if not line.strip():
            continue
        row = orjson.loads(line)
        dealer_id = dealer_id_of(row.get("record"))  # " DLR-X " is dealer DLR-X, as a valid row's
        for rule in sorted({str(error.get("rule")) for error in row.get("errors", [])}):
            rows["dealer_id"].append(dealer_id)
            rows["rule"].append(rule)
            rows["source_file"].append(source_file)
            rows["record_index"].append(int(row.get("index", -1)))
    return pa.table(rows, schema=SCHEMA)
