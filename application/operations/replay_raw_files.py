"""ReplayRawFiles: put raw files back on the work queue, e.g. after a rule is fixed.

The workers process a replayed file like a new one. Its outputs are derived from its raw key
and replace the earlier ones (outputs the new run no longer has are removed), so a replay
never doubles a row, and replaying twice ends as replaying once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

from application.errors import ObjectNotFound
from application.ports import ObjectStore
from application.storage_keys import RAW_PREFIX


class AnnounceRawFile(Protocol):
    def __call__(self, key: str, size: int) -> None:
        """Tell the workers that raw file ``key`` (``size`` bytes) is there to process."""
        ...


class NothingToReplay(ValueError):
    """No raw file matched; the message says what was looked for and what to check."""


@dataclass
class ReplayReport:
    files: int = 0
    bytes: int = 0
    keys: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class ReplayRawFiles:
    def __init__(self, raw: ObjectStore, announce: AnnounceRawFile) -> None:
        self._raw, self._announce = raw, announce

    def __call__(self, date: str | None = None, keys: Sequence[str] = ()) -> ReplayReport:
        """Announce every raw file of ``date`` (YYYY-MM-DD), or the raw ``keys`` named. Every
        key is checked before any is announced: a typo replays nothing."""
        if date is not None:
            prefix = f"{RAW_PREFIX}date={date}/"
            found = [(info.key, info.size) for info in self._raw.list_objects(prefix)]
            if not found:
                raise NothingToReplay(f"no raw files under {prefix}: check the date (raw files are by arrival date)")
        else:
            found = [self._raw_file(key) for key in dict.fromkeys(keys)]
        report = ReplayReport()
        for key, size in found:
            self._announce(key, size)
            report.files, report.bytes = report.files + 1, report.bytes + size
            report.keys.append(key)
        return report

    def _raw_file(self, key: str) -> tuple[str, int]:
        if not key.startswith(RAW_PREFIX):
            raise NothingToReplay(f"{key!r} is not a raw file key: raw files start with {RAW_PREFIX!r}")
        try:
            return key, self._raw.head(key).size
        except (ObjectNotFound, ValueError):  # ValueError: a key no bucket can hold
            raise NothingToReplay(f"no raw file {key!r}: check the key (see the raw bucket's {RAW_PREFIX})") from None
