"""Records repeated across batches, the same dealership's id twice, are found alike in memory
and spooled to scratch partitions; the same id from another dealership is no repeat."""

from __future__ import annotations

from contextlib import ExitStack

import numpy as np
import pyarrow as pa

from adapters.local.in_memory import InMemoryScratch
from application.processing.repeated_ids import PARTITIONS, RepeatedIds


def repeated(scratch) -> np.ndarray:
    with ExitStack() as stack:
        ids = RepeatedIds(stack, scratch)
        for batch in range(30):
            names = [f"SR-{(batch * 100 + i) % 2_000:05d}" for i in range(100)]
            names[0] = "  " if batch % 2 else None  # blank and missing ids are not repeats
            names[1] = f" SR-{batch:05d} "  # trimmed as the rules see it
            names[2] = names[3]
            dealers = ["DLR-B" if i == 2 else " DLR-A" for i in range(100)]  # row 2: another dealership's
            ids.add(pa.array(dealers), pa.array(names), np.arange(batch * 100, batch * 100 + 100), flagged=0)
        return ids.repeated()


def expected() -> list[int]:
    seen: dict[str, list[int]] = {}
    for batch in range(30):
        for i in range(1, 100):
            name = f"SR-{batch:05d}" if i == 1 else f"SR-{(batch * 100 + (3 if i == 2 else i)) % 2_000:05d}"
            seen.setdefault(f"{i == 2}{name}", []).append(batch * 100 + i)
    return sorted(index for indices in seen.values() for index in indices[:-1])


def test_every_occurrence_but_the_last_is_found_in_memory() -> None:
    found = repeated(None)
    assert found.tolist() == expected() and len(found) > 900


def test_spooled_partitions_find_the_same() -> None:
    scratch = InMemoryScratch()
    assert repeated(scratch).tolist() == expected()
    assert scratch.opened == PARTITIONS
