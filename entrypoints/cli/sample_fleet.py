"""Which part of the sample fleet's history ``servicepipe run`` sends next, so that runs add
up: the first run sends the year two years back, the second the same cars' next year (later
visits, odometers further on), the third a new set of cars, and so on. Noted per seed in the
data folder (``sample_fleet.json``); the fleet's calendar is fixed on the seed's first run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints.sample_data import VISITS_PER_CAR

if TYPE_CHECKING:
    from entrypoints.container import Container

FILE = "sample_fleet.json"


@dataclass
class SampleFleet:
    path: Path | None  # None on AWS: each run starts a fleet of its own
    seed: int
    anchor: datetime  # the day the seed's first run was made: its calendar's "now"
    period: int  # the run's year of the fleet's history (see generate_records)
    cars: int

    @classmethod
    def of(cls, container: Container, seed: int, records: int) -> SampleFleet:
        today = datetime.now(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        cars = max(1, records // VISITS_PER_CAR)
        if container.config.backend() != "local":
            return cls(None, seed, today, 0, cars)
        path = Path(container.config.data_dir()) / FILE
        noted = _read(path).get(str(seed))
        if not noted:
            return cls(path, seed, today, 0, cars)
        return cls(path, seed, datetime.fromisoformat(noted["anchor"]), int(noted["runs"]), int(noted["cars"]))

    def save(self) -> None:
        """Note this run: the seed's next run sends the next part."""
        if self.path is None:
            return
        noted = _read(self.path)
        noted[str(self.seed)] = {"anchor": self.anchor.isoformat(), "runs": self.period + 1, "cars": self.cars}
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(noted, indent=2) + "\n")


def _read(path: Path) -> dict:
    try:
        noted = json.loads(path.read_text())
    except (FileNotFoundError, ValueError):  # none yet, or hand-edited beyond reading: start again
        return {}
    return noted if isinstance(noted, dict) else {}
