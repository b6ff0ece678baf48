"""Noting each row of a raw file in the record index, batch by batch, as the worker reads it."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc

from application.erasure.pseudonym_key import PseudonymKey
from application.erasure.record_index import Holding, RecordIndex, customer_lookup, record_lookup
from domain.erasure import customer_id_of, customer_token
from domain.problems import RejectedRow
from domain.record_identity import dealer_id_of, id_as_read


class RowNotes:
    """Notes rows in ``index`` under their customer's token, else their record id."""

    def __init__(self, index: RecordIndex, key: PseudonymKey) -> None:
        self._index, self._key = index, key
        self._secret: bytes | None = None

    def note(self, raw_key: str, rows: pa.Table, index_column: str, rejected: list[RejectedRow]) -> None:
        """Note the rows of one batch: ``rows`` as read (the contract's nested columns, and
        each row's index in the file in ``index_column``) and those rejected as they were read."""
        if self._secret is None:
            self._secret = self._key.key()
        self._index.note([*self._read(raw_key, rows, index_column), *self._rejected(raw_key, rejected)])

    def _holding(self, raw_key: str, index: int, dealer: str | None, record: str | None, customer: str | None):
        if dealer is None:
            return None  # no dealership, no request can name it
        assert self._secret is not None
        if customer is not None:
            lookup = customer_lookup(customer_token(self._secret, dealer, customer))
        elif record is not None:
            lookup = record_lookup(record)
        else:
            return None
        return Holding(dealer, lookup, raw_key, index, record)

    def _read(self, raw_key: str, rows: pa.Table, index_column: str) -> Iterator[Holding]:
        columns = (
            _ids(pc.struct_field(rows.column("dealer"), "dealer_id")),
            _ids(rows.column("service_record_id")),
            _ids(pc.struct_field(rows.column("customer"), "customer_id")),
            rows.column(index_column).to_pylist(),
        )
        for dealer, record, customer, index in zip(*columns, strict=True):
            holding = self._holding(raw_key, index, dealer, record, customer)
            if holding is not None:
                yield holding

    def _rejected(self, raw_key: str, rejected: list[RejectedRow]) -> Iterator[Holding]:
        for row in rejected:
            record = row.record if isinstance(row.record, dict) else {}
            record_id = id_as_read(record.get("service_record_id"))
            holding = self._holding(raw_key, row.index, dealer_id_of(record), record_id, customer_id_of(record))
            if holding is not None:
                yield holding


def _ids(values: pa.ChunkedArray) -> list[str | None]:
    """Ids as the contract reads them: trimmed, blank as none."""
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed).to_pylist()
