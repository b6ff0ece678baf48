"""The daily loader, an AWS Glue Python shell job: cleaned JSONL in S3 -> DynamoDB.

Arguments: ``--DYNAMODB_TABLE_NAME``, ``--SOURCE_BUCKET_NAME`` (the cleaned bucket), and
optionally ``--PROCESS_DATE YYYY-MM-DD`` (without it, every cleaned file not yet loaded) and
``--ENVIRONMENT_NAME`` (the stack's name: with it, the run's counts go to CloudWatch metrics).
Exits 1 if any file failed, after loading every file it could; exits 2 at once if the bucket
or the table does not exist.

Glue Python shell runs Python 3.9 with boto3 and none of our other dependencies, so this
module and everything it imports use only the standard library and boto3 (checked in
``make test``). It wires its few objects by hand instead of through the container.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import sys

from adapters.aws.cloudwatch_load_metrics import CloudWatchLoadMetrics
from adapters.aws.dynamodb_repository import DynamoRecordRepository
from adapters.aws.s3_object_store import S3ObjectStore
from adapters.aws.session import AwsClients
from adapters.clock import SystemClock
from application.loading.load_batch import LoadBatch
from entrypoints.logging_setup import configure_logging
from entrypoints.readiness import EXIT_CONFIGURATION, refuse_to_start

REQUIRED = ["DYNAMODB_TABLE_NAME", "SOURCE_BUCKET_NAME"]
OPTIONAL = ["PROCESS_DATE", "ENVIRONMENT_NAME"]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
EXIT_USAGE = 2


def parse_arguments(argv: list[str]) -> dict[str, str | None]:
    """Job arguments: Glue's ``getResolvedOptions`` when running in Glue, argparse elsewhere."""
    try:
        from awsglue.utils import getResolvedOptions  # type: ignore[import-not-found]
    except ImportError:
        getResolvedOptions = None
    if getResolvedOptions is not None:
        present = [name for name in OPTIONAL if f"--{name}" in argv]
        options: dict[str, str | None] = dict(getResolvedOptions(argv, REQUIRED + present))
    else:
        parser = argparse.ArgumentParser(prog="glue_load_to_dynamo", description=__doc__)
        for name in REQUIRED:
            parser.add_argument(f"--{name}", required=True)
        for name in OPTIONAL:
            parser.add_argument(f"--{name}")
        options = vars(parser.parse_known_args(argv[1:])[0])
    date = options.get("PROCESS_DATE")
    if date and not _is_date(date):
        print(f"glue_load_to_dynamo: --PROCESS_DATE must be a date written YYYY-MM-DD, got {date!r}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)
    return options


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        datetime.date.fromisoformat(text)
    except ValueError:  # 2026-13-45, 2026-02-30
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(list(sys.argv if argv is None else argv))
    configure_logging(os.environ.get("SERVICEPIPE_LOG_LEVEL", "INFO"))
    clients = AwsClients()
    source = S3ObjectStore(clients, str(options["SOURCE_BUCKET_NAME"]), setting="--SOURCE_BUCKET_NAME")
    table = DynamoRecordRepository(clients, str(options["DYNAMODB_TABLE_NAME"]))
    if refuse_to_start("glue_load_to_dynamo", source, table):
        return EXIT_CONFIGURATION
    report = LoadBatch(source, table, SystemClock())(options.get("PROCESS_DATE"))
    print(json.dumps(report.to_dict()))
    if options.get("ENVIRONMENT_NAME"):
        CloudWatchLoadMetrics(clients, str(options["ENVIRONMENT_NAME"])).publish(report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
