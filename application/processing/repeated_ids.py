"""Finding a record repeated across the batches of one raw file: the same dealership's
``service_record_id`` (``domain.record_identity``) in two rows.

Each parsed row leaves a 64-bit hash of its dealer id and record id, and its record index
(16 bytes). With scratch
space these go to ``PARTITIONS`` scratch files by hash, and the end reads back one partition
at a time, so memory does not grow with the file; without, they stay in memory.
"""

from __future__ import annotations

from contextlib import ExitStack
from typing import BinaryIO

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from application.ports import ScratchSpace

PARTITIONS = 16
_PAIR = np.dtype([("hash", np.uint64), ("index", np.int64)])


class RepeatedIds:
    """The hashed ids of every parsed row of one raw file."""

    def __init__(self, stack: ExitStack, scratch: ScratchSpace | None) -> None:
        self._stack, self._scratch = stack, scratch
        self._kept: list[np.ndarray] = []
        self._spools: dict[int, BinaryIO] = {}
        self.flagged = 0

    def add(
        self, dealer_ids: pa.ChunkedArray | pa.Array, ids: pa.ChunkedArray | pa.Array, indices: np.ndarray, flagged: int
    ) -> None:
        """One batch: its rows' dealer ids, record ids and record indices, and how many rows
        it already rejected as ``duplicate_id`` (repeats inside the batch)."""
        # Trimmed, and rows with a blank id left out, as the rules see them (domain.cleaning).
        dealers, records = pc.utf8_trim_whitespace(dealer_ids), pc.utf8_trim_whitespace(ids)
        present = pc.and_(_not_blank(dealers), _not_blank(records)).to_numpy(zero_copy_only=False)
        pairs = np.empty(int(present.sum()), _PAIR)
        # polars' hash is fast and the same within a process, which is all this needs.
        mask = pa.array(present)
        kept = pl.DataFrame({"dealer": pc.filter(dealers, mask), "record": pc.filter(records, mask)})
        pairs["hash"] = kept.hash_rows(seed=0).to_numpy()
        pairs["index"] = indices[present]
        self.flagged += flagged
        if self._scratch is None:
            self._kept.append(pairs)
            return
        parts = pairs["hash"] % PARTITIONS
        for part in np.unique(parts):
            self._spool(int(part)).write(pairs[parts == part].tobytes())

    def _spool(self, part: int) -> BinaryIO:
        if part not in self._spools:
            assert self._scratch is not None
            self._spools[part] = self._stack.enter_context(self._scratch.temporary_file())
        return self._spools[part]

    def repeated(self) -> np.ndarray:
        """Record indices of every occurrence of an id but its last, over the whole file."""
        found = [np.empty(0, np.int64)]
        if self._kept:
            found.append(_all_but_last(np.concatenate(self._kept)))
        for spool in self._spools.values():
            spool.seek(0)
            found.append(_all_but_last(np.frombuffer(spool.read(), _PAIR)))
        return np.sort(np.concatenate(found))


def _not_blank(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.fill_null(pc.greater(pc.utf8_length(values), 0), False)


def _all_but_last(pairs: np.ndarray) -> np.ndarray:
    ordered = pairs[np.lexsort((pairs["index"], pairs["hash"]))]
    followed_by_same = ordered["hash"][:-1] == ordered["hash"][1:]
    return ordered["index"][:-1][followed_by_same]
