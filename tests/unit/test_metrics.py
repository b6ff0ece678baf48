"""The worker's metrics: CloudWatch embedded metric format documents, one set per file."""

from __future__ import annotations

import json

from application.processing.process_raw_file import ProcessResult
from entrypoints.worker.metrics import FileMetrics


def emitted(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def metric_values(documents: list[dict]) -> dict[tuple[str, tuple[str, ...]], float]:
    values = {}
    for document in documents:
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "servicepipe"
        (dimensions,) = directive["Dimensions"]
        for metric in directive["Metrics"]:
            key = (metric["Name"], tuple(f"{d}={document[d]}" for d in dimensions))
            value = document[metric["Name"]]
            values[key] = value[0] if isinstance(value, list) else value
    return values


def test_a_processed_file_publishes_rows_rules_and_seconds(capsys) -> None:
    result = ProcessResult("k", "processed", 10, 8, 2, {"vin_format": 2, "required": 1})
    FileMetrics("prod")(result, 1.5)
    values = metric_values(emitted(capsys))
    env = ("environment=prod",)
    assert values[("FilesProcessed", env)] == 1 and values[("RowsValid", env)] == 8
    assert values[("RowsRejected", env)] == 2 and values[("SecondsPerFile", env)] == 1.5
    assert values[("RowsRejectedByRule", ("environment=prod", "rule=vin_format"))] == 2
    assert values[("RowsRejectedByRule", ("environment=prod", "rule=required"))] == 1


def test_an_unreadable_file_is_counted_as_such(capsys) -> None:
    FileMetrics("prod")(ProcessResult("k", "unreadable", reason="not JSON"), 0.1)
    values = metric_values(emitted(capsys))
    assert values[("FilesUnreadable", ("environment=prod",))] == 1
    assert ("RowsValid", ("environment=prod",)) not in values
