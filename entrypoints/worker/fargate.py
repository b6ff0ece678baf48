"""The ECS Fargate worker: ``python -m entrypoints.worker.fargate [--drain]``.

Environment: ``RAW_BUCKET_NAME``, ``CLEANED_BUCKET_NAME``, ``ERROR_BUCKET_NAME``,
``SQS_QUEUE_URL``; optional ``SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT`` (match the queue's),
``SERVICEPIPE_LOG_LEVEL``, ``SERVICEPIPE_ENVIRONMENT`` (the metrics' ``environment``
dimension), ``AWS_ENDPOINT_URL``. Metrics go to stdout in CloudWatch embedded metric format.
SIGTERM (ECS scale-in) stops it within 30 s. Exits 2 at once if a bucket or the queue does
not exist, naming the variable to fix.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from entrypoints.container import build_container
from entrypoints.process_start import start_process
from entrypoints.readiness import EXIT_CONFIGURATION, refuse_to_start
from entrypoints.settings import Settings, SettingsError
from entrypoints.worker.loop import BuiltOnFirstFile, run_worker
from entrypoints.worker.metrics import FileMetrics


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entrypoints.worker.fargate", description=__doc__)
    parser.add_argument("--drain", action="store_true", help="exit when the queue is empty")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(default_backend="aws", default_log_level="INFO")
    except SettingsError as err:
        print(f"fargate_worker: {err}", file=sys.stderr)
        return EXIT_CONFIGURATION
    start_process(settings.log_level)
    container = build_container(settings)
    resources = (container.raw_store(), container.cleaned_store(), container.error_store(), container.queue())
    if refuse_to_start("fargate_worker", *resources):
        return EXIT_CONFIGURATION
    stats = run_worker(
        container.queue(),
        BuiltOnFirstFile(container.process_raw_file),
        drain=args.drain,
        visibility_timeout=settings.queue_visibility_timeout,
        stop_on_signals=True,
        on_file=FileMetrics(settings.environment_name),
        files_in_flight=settings.files_in_flight,
    )
    return 1 if args.drain and stats.failures else 0


if __name__ == "__main__":
    sys.exit(main())
