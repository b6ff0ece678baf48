"""What `servicepipe publish` prints for a person, and names when something stopped it."""

from __future__ import annotations

import argparse

from application.analytics.publish_tables import PublishReport
from application.analytics.table_catalog import Committed, Tidied
from entrypoints.cli import publishing


def test_the_summary_says_what_was_published_and_what_tidying_removed() -> None:
    report = PublishReport(dates=["2026-11-25"], unchanged=["2026-11-24"])
    report.tables["fact_service_records"] = Committed("fact_service_records", 1, 1000, 3 * 2**20)
    report.tidied = {
        "fact_service_records": Tidied("fact_service_records", 2, 5, 2**20),
        "dim_dealer": Tidied("dim_dealer", 1, 1, 2**19),
    }
    assert publishing.summary(report).splitlines() == [
        "published 1 date (2026-11-25), 1 unchanged",
        "  fact_service_records               1,000 rows in 1 files (3.0 MiB)",
        "tidied: 3 old snapshots forgotten, 6 unreferenced files deleted (1.5 MiB)",
    ]
    assert publishing.summary(PublishReport(unchanged=["2026-11-24"])) == (
        "nothing to publish: 1 date already published as they are"
    )


def test_each_problem_is_one_line_naming_what_was_left(capsys) -> None:
    report = PublishReport(
        problems={
            "2026-11-25": "output x is listed in its manifest but missing: replay its raw file",
            "dimensions": "another publish changed dim_dealer meanwhile: run servicepipe publish again",
            "tidying": "another publish changed dim_parts_used meanwhile: run servicepipe publish again",
        }
    )

    class Container:
        class config:  # noqa: N801 - the container's own spelling
            @staticmethod
            def backend() -> str:
                return "aws"

            @staticmethod
            def data_dir() -> str:
                return "."

        @staticmethod
        def publish_tables():
            return lambda dates: report

    assert publishing.publish(argparse.Namespace(dates=None, json=False), Container()) == 1  # type: ignore[arg-type]
    assert capsys.readouterr().err.splitlines() == [
        "servicepipe publish: 2026-11-25 not published: output x is listed in its manifest but missing: "
        "replay its raw file",
        "servicepipe publish: the dimensions not rebuilt: another publish changed dim_dealer meanwhile: "
        "run servicepipe publish again",
        "servicepipe publish: the tables not tidied: another publish changed dim_parts_used meanwhile: "
        "run servicepipe publish again",
    ]
