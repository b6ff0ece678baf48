"""The daily load's counts as CloudWatch metrics, through ``PutMetricData``.

The worker writes embedded metric format through Powertools; the loader cannot: it runs on
Glue's Python 3.9 with the standard library and boto3 only, and Powertools needs 3.10. One
``PutMetricData`` call a run is boto3's own API, so no metric format is written by hand.
Namespace ``servicepipe``, dimension ``environment``: ``RecordsLoaded``,
``RecordsSkippedOlder``, ``FilesLoaded``, ``FilesFailed``.
"""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from adapters.aws.session import AwsClients
from application.loading.load_batch import LoadReport

NAMESPACE = "servicepipe"
log = logging.getLogger(__name__)


class CloudWatchLoadMetrics:
    """Publishes one load run's counts; ``environment`` is the stack's name."""

    def __init__(self, clients: AwsClients, environment: str) -> None:
        self._clients = clients
        self._environment = environment

    def publish(self, report: LoadReport) -> bool:
        """True once CloudWatch took the counts. A failure is logged, never raised: the
        records are already in the table, and the run's report says how many."""
        counts = {
            "RecordsLoaded": report.records_loaded,
            "RecordsSkippedOlder": report.records_skipped_older,
            "FilesLoaded": report.files_loaded,
            "FilesFailed": len(report.files_failed),
        }
        dimensions = [{"Name": "environment", "Value": self._environment}]
        data = [
            {"MetricName": name, "Dimensions": dimensions, "Value": value, "Unit": "Count"}
            for name, value in counts.items()
        ]
        try:
            self._clients.client("cloudwatch").put_metric_data(Namespace=NAMESPACE, MetricData=data)
        except (ClientError, BotoCoreError) as error:
            log.error(
                "the load's metrics were not published; the load itself is done",
                extra={"event": "load_metrics_not_published", "error": str(error), **counts},
            )
            return False
        return True
