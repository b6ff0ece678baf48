"""The worker's metrics, in CloudWatch embedded metric format through Powertools Metrics.

After each raw file, EMF documents go to stdout; on Fargate the awslogs driver ships them to
CloudWatch Logs, which extracts the metrics (namespace ``servicepipe``, dimension
``environment``): ``FilesProcessed``, ``FilesUnreadable``, ``RowsValid``, ``RowsRejected``,
``SecondsPerFile``, and ``RowsRejectedByRule`` with a ``rule`` dimension. The template's
rejection-rate alarm reads ``RowsValid`` and ``RowsRejected``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.metrics import Metrics, MetricUnit, single_metric

if TYPE_CHECKING:
    from application.processing.process_raw_file import ProcessResult

NAMESPACE = "servicepipe"


class FileMetrics:
    """Publishes one processed file's metrics; ``environment`` is the stack's name."""

    def __init__(self, environment: str) -> None:
        self._environment = environment
        self._metrics = Metrics(namespace=NAMESPACE)

    def __call__(self, result: ProcessResult, seconds: float) -> None:
        metrics = self._metrics
        metrics.add_dimension("environment", self._environment)
        if result.status == "unreadable":
            metrics.add_metric("FilesUnreadable", MetricUnit.Count, 1)
        else:
            metrics.add_metric("FilesProcessed", MetricUnit.Count, 1)
            metrics.add_metric("RowsValid", MetricUnit.Count, result.valid_rows)
            metrics.add_metric("RowsRejected", MetricUnit.Count, result.rejected_rows)
        metrics.add_metric("SecondsPerFile", MetricUnit.Seconds, seconds)
        metrics.flush_metrics()
        for rule, rows in result.rejected_by_rule.items():
            with single_metric(
                name="RowsRejectedByRule", unit=MetricUnit.Count, value=rows, namespace=NAMESPACE
            ) as metric:
                metric.add_dimension("environment", self._environment)
                metric.add_dimension("rule", rule)
