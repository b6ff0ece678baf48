"""``servicepipe publish``: the cleaned star schema committed to the analytics tables
(docs/analytics.md, "Committed, compacted tables"). Idempotent: publishing a date again as it
is gives the same rows in the same number of files."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from application.analytics.publish_tables import DIMENSIONS_REBUILT, TIDYING
from entrypoints.cli.commands import print_json, require_data_folder

if TYPE_CHECKING:
    from application.analytics.publish_tables import PublishReport
    from entrypoints.container import Container


def publish(args: argparse.Namespace, container: Container) -> int:
    require_data_folder(container)
    report = container.publish_tables()(args.dates)
    if args.json:
        print_json(report.to_dict())
    else:
        print(summary(report))
    for day, problem in sorted(report.problems.items()):
        what = {DIMENSIONS_REBUILT: "the dimensions not rebuilt", TIDYING: "the tables not tidied"}.get(
            day, f"{day} not published"
        )
        print(f"servicepipe publish: {what}: {problem}", file=sys.stderr)
    return 0 if report.ok else 1


def summary(report: PublishReport) -> str:
    """What a publish did, in a few lines for a person."""
    if not report.dates:
        lines = [f"nothing to publish: {_dates(len(report.unchanged))} already published as they are"]
    else:
        published = f"published {_dates(len(report.dates))} ({', '.join(report.dates)})"
        lines = [f"{published}, {len(report.unchanged):,} unchanged"]
    for name, done in sorted(report.tables.items()):
        lines.append(f"  {name:<28}{done.rows:>12,} rows in {done.files} files ({done.bytes / 2**20:,.1f} MiB)")
    if report.tidied:
        snapshots = sum(t.snapshots for t in report.tidied.values())
        files = sum(t.files for t in report.tidied.values())
        size = sum(t.bytes for t in report.tidied.values()) / 2**20
        lines.append(
            f"tidied: {snapshots:,} old snapshots forgotten, {files:,} unreferenced files deleted ({size:,.1f} MiB)"
        )
    return "\n".join(lines)


def _dates(count: int) -> str:
    return f"{count:,} date" if count == 1 else f"{count:,} dates"
