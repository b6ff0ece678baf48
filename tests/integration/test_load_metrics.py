"""The loader's counts reach CloudWatch, and a failure to publish them never fails the load."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone

import boto3
from botocore.exceptions import ClientError

from adapters.aws.cloudwatch_load_metrics import CloudWatchLoadMetrics
from application.loading.load_batch import LoadReport

REPORT = LoadReport(
    files_loaded=3, records_loaded=120, records_skipped_older=4, files_failed=[{"key": "k", "error": "e"}]
)


def sums(environment: str) -> dict[str, float]:
    cloudwatch = boto3.client("cloudwatch")
    now = datetime.now(timezone.utc)
    found = {}
    for metric in cloudwatch.list_metrics(Namespace="servicepipe")["Metrics"]:
        if metric["Dimensions"] != [{"Name": "environment", "Value": environment}]:
            continue
        points = cloudwatch.get_metric_statistics(
            Namespace="servicepipe",
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=now - timedelta(hours=1),
            EndTime=now + timedelta(minutes=5),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        found[metric["MetricName"]] = sum(point["Sum"] for point in points)
    return found


def test_a_load_publishes_its_counts_by_environment(clients) -> None:
    assert CloudWatchLoadMetrics(clients, "prod").publish(REPORT) is True
    assert sums("prod") == {"RecordsLoaded": 120, "RecordsSkippedOlder": 4, "FilesLoaded": 3, "FilesFailed": 1}
    assert sums("staging") == {}


def test_a_refused_publish_is_logged_and_does_not_raise(clients, monkeypatch, caplog) -> None:
    cloudwatch = clients.client("cloudwatch")

    def refuse(**_: object) -> None:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed"}}, "PutMetricData")

    monkeypatch.setattr(cloudwatch, "put_metric_data", refuse)
    caplog.set_level(logging.ERROR)
    assert CloudWatchLoadMetrics(clients, "prod").publish(REPORT) is False
    (logged,) = caplog.records
    assert logged.event == "load_metrics_not_published" and "AccessDenied" in logged.error
    assert logged.RecordsLoaded == 120
