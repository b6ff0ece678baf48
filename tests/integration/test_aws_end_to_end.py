"""The whole production path against a moto server over HTTP: Lambda handler in-process,
the Fargate worker and the Glue loader as subprocesses, then every store checked row by row.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import boto3
import orjson
import pyarrow.parquet as pq
import pytest

from entrypoints.api import lambda_handler as api_lambda
from entrypoints.sample_data import generate_records
from tests.factories import a_record
from tests.integration.aws_stack import create_stack
from tests.integration.lambda_events import LambdaContext, api_gateway_event

ROOT = Path(__file__).resolve().parents[2]
SERVICEPIPE = str(Path(sys.executable).parent / "servicepipe")


@pytest.fixture
def endpoint(moto_server) -> str:
    return moto_server


@pytest.fixture
def stack(endpoint, aws_env, monkeypatch):
    urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    stack = create_stack(endpoint_url=endpoint)
    for name, value in stack.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(api_lambda, "_adapter", None)
    return stack


def child_env(stack, endpoint: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, **stack.environment(), "AWS_ENDPOINT_URL": endpoint, "SERVICEPIPE_LOG_LEVEL": "INFO"}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def run_loader(stack, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    module = [sys.executable, "-m", "entrypoints.loader.glue_load_to_dynamo"]
    tables = ["--DYNAMODB_TABLE_NAME", stack.table_name, "--SOURCE_BUCKET_NAME", stack.cleaned_bucket]
    return run([*module, *tables, *extra], env)


def manifest_key(raw_key: str) -> str:
    date, name = raw_key.removeprefix("service-records/").split("/")
    return f"manifests/{date}/{name}.json"


def s3_lines(bucket: str, key: str) -> list[dict]:
    body = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return [orjson.loads(line) for line in body.splitlines() if line.strip()]


def keys(bucket: str, prefix: str = "") -> list[str]:
    pages = boto3.client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [o["Key"] for page in pages for o in page.get("Contents", [])]


def test_submit_process_load_over_http(stack, endpoint, tmp_path) -> None:
    s3 = boto3.client("s3")
    submission = [
        a_record("SR-1"),
        a_record("SR-2", {"vehicle.vin": "mhfxx12g3k12345"}),  # too short
        a_record("SR-3", {"dealer.dealer_location": "Jayapura", "vehicle.vin": " mhfxx12g3k7654321 "}),
        a_record("SR-1", {"vehicle.odometer_reading": 46_000}),  # SR-1 again: this one wins
    ]
    response = api_lambda.handler(api_gateway_event(orjson.dumps(submission), key=stack.admin_key), LambdaContext())
    assert response["statusCode"] == 202, response["body"]
    receipt = json.loads(response["body"])
    no_dealer = orjson.dumps([a_record(changes={"dealer": None})])
    refused = api_lambda.handler(api_gateway_event(no_dealer, key=stack.admin_key), LambdaContext())
    assert refused["statusCode"] == 422

    date = receipt["file_key"].split("date=")[1].split("/")[0]
    png_key = f"service-records/date={date}/photo.png"
    bulk_key = f"service-records/date={date}/dealer 7+march.jsonl"
    s3.put_object(Bucket=stack.raw_bucket, Key=png_key, Body=b"\x89PNG\r\n\x1a\n\x00\x00")
    bulk = [a_record("SR-10"), a_record("SR-11", {"vehicle.year": 1900})]
    s3.put_object(Bucket=stack.raw_bucket, Key=bulk_key, Body=b"\n".join(orjson.dumps(r) for r in bulk))

    env = child_env(stack, endpoint)
    worker = run([sys.executable, "-m", "entrypoints.worker.fargate", "--drain"], env)
    assert worker.returncode == 0, worker.stderr
    queue = boto3.client("sqs").get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
    assert queue["ApproximateNumberOfMessages"] == "0" and queue["ApproximateNumberOfMessagesNotVisible"] == "0"

    loader = run_loader(stack, env)
    assert loader.returncode == 0, loader.stderr
    report = json.loads(loader.stdout.strip().splitlines()[-1])
    assert (report["files_loaded"], report["records_loaded"], report["files_failed"]) == (2, 3, [])

    # The database: exactly the valid records, cleaned and typed.
    table = boto3.resource("dynamodb").Table(stack.table_name)
    items = {i["service_record_id"]: i for i in table.scan()["Items"]}
    assert sorted(items) == ["SR-1", "SR-10", "SR-3"]
    assert items["SR-1"]["vehicle"]["odometer_reading"] == 46_000
    assert items["SR-3"]["vin"] == "MHFXX12G3K7654321" and items["SR-3"]["dealer"]["timezone"] == "WIT"
    assert items["SR-1"]["service_date"] == "2026-11-20T03:30:00Z"
    assert items["SR-1"]["submission_id"] == receipt["submission_id"]
    history = table.query(
        IndexName="vin-history-index",
        KeyConditionExpression=boto3.dynamodb.conditions.Key("vin").eq("MHFXX12G3K1234567"),
    )
    assert sorted(i["service_record_id"] for i in history["Items"]) == ["SR-1", "SR-10"]

    # The star schema, row by row.
    name = receipt["file_key"].rsplit("/", 1)[1]
    fact_key = f"parquet/fact_service_records/date={date}/{name}.parquet"
    fact = pq.read_table(io.BytesIO(s3.get_object(Bucket=stack.cleaned_bucket, Key=fact_key)["Body"].read()))
    assert fact.column("service_record_id").to_pylist() == ["SR-3", "SR-1"]
    assert fact.column("record_index").to_pylist() == [2, 3]
    assert fact.column("local_timezone").to_pylist() == ["WIT", "WIB"]
    assert len([k for k in keys(stack.cleaned_bucket, "parquet/") if k.endswith(f"{name}.parquet")]) == 6

    # The error bucket: the rejected rows with their rules, and the unreadable file with its reason.
    rejected = s3_lines(stack.error_bucket, f"rejected/date={date}/{name}.jsonl")
    assert [(r["index"], r["service_record_id"], [e["rule"] for e in r["errors"]]) for r in rejected] == [
        (0, "SR-1", ["duplicate_id"]),
        (1, "SR-2", ["vin_format"]),
    ]
    assert rejected[1]["record"] == submission[1]
    bulk_rejected = [k for k in keys(stack.error_bucket, "rejected/") if "dealer_7_march" in k]
    assert [r["service_record_id"] for r in s3_lines(stack.error_bucket, bulk_rejected[0])] == ["SR-11"]
    assert s3.get_object(Bucket=stack.error_bucket, Key=f"unreadable/date={date}/photo.png")["Body"].read() == (
        b"\x89PNG\r\n\x1a\n\x00\x00"
    )
    reason = json.loads(
        s3.get_object(Bucket=stack.error_bucket, Key=f"unreadable/date={date}/photo.png.reason.json")["Body"].read()
    )
    assert reason["raw_key"] == png_key
    assert s3.get_object(Bucket=stack.raw_bucket, Key=png_key)["Body"].read().startswith(b"\x89PNG")

    # The CLI against the same AWS stack.
    status = run([SERVICEPIPE, "--backend", "aws", "status", "--json"], env)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == {
        "raw_files": 3,
        "queued": 0,
        "in_dlq": 0,
        "processed_files": 2,
        "valid_rows": 3,
        "rejected_rows": 3,
        "unreadable_files": 1,
        "loaded_records": 3,
        "loaded_records_exact": False,  # DescribeTable's ItemCount, not a Scan
    }
    again = run_loader(stack, env, "--PROCESS_DATE", date)
    assert json.loads(again.stdout.strip().splitlines()[-1])["files_loaded"] == 0

    # The insights report from the published tables (Iceberg in the Glue catalog, files in S3,
    # read through pyarrow's S3 client), after the daily publish.
    published = run([SERVICEPIPE, "--backend", "aws", "publish"], env)
    assert published.returncode == 0, published.stderr
    out = tmp_path / "insights"
    insights = run([SERVICEPIPE, "--backend", "aws", "insights", "--out", str(out)], env)
    assert insights.returncode == 0, insights.stderr
    assert "3 service records analysed" in insights.stdout
    rates = (out / "rejection_rates.csv").read_text()
    assert "vin_format" in rates and "year_range" in rates and "duplicate_id" in rates


def test_the_cli_submits_and_uploads_to_aws(stack, endpoint, tmp_path) -> None:
    env = child_env(stack, endpoint)
    batch = tmp_path / "batch.json"
    batch.write_bytes(orjson.dumps([a_record("SR-1")]))
    submitted = run([SERVICEPIPE, "--backend", "aws", "submit", str(batch)], env)
    assert submitted.returncode == 0, submitted.stderr
    uploaded = run([SERVICEPIPE, "--backend", "aws", "upload", str(batch)], env)
    assert uploaded.returncode == 0, uploaded.stderr
    worked = run([SERVICEPIPE, "--backend", "aws", "worker", "--drain"], env)
    assert json.loads(worked.stdout)["files_processed"] == 2, worked.stderr
    loaded = run([SERVICEPIPE, "--backend", "aws", "load"], env)
    assert json.loads(loaded.stdout)["files_loaded"] == 2, loaded.stderr
    status = json.loads(run([SERVICEPIPE, "--backend", "aws", "status", "--json"], env).stdout)
    assert status["loaded_records"] == 1  # the same record twice: one row, the newer


def test_the_cli_publishes_to_the_glue_catalog_once(stack, endpoint, tmp_path) -> None:
    """Processed files become the Glue database's Iceberg tables (what Athena queries): each
    file's version of a record once (the queries take the latest), its rejected row in none,
    and a second publish changes nothing and says so."""
    env = child_env(stack, endpoint)
    batch = tmp_path / "batch.json"
    batch.write_bytes(orjson.dumps([a_record("SR-1"), a_record("SR-2"), a_record("SR-3", {"vehicle.vin": "SHORT"})]))
    for _ in range(2):
        assert run([SERVICEPIPE, "--backend", "aws", "upload", str(batch)], env).returncode == 0
    assert run([SERVICEPIPE, "--backend", "aws", "worker", "--drain"], env).returncode == 0
    published = run([SERVICEPIPE, "--backend", "aws", "publish", "--json"], env)
    assert published.returncode == 0, published.stderr
    report = json.loads(published.stdout)
    assert len(report["dates_published"]) == 1 and report["tables"]["fact_service_records"]["files"] == 1
    again = run([SERVICEPIPE, "--backend", "aws", "publish"], env)
    assert again.stdout == "nothing to publish: 1 date already published as they are\n", again.stderr
    glue = boto3.client("glue")
    tables = {t["Name"]: t for t in glue.get_tables(DatabaseName=stack.analytics_database)["TableList"]}
    assert tables["fact_service_records"]["Parameters"]["table_type"] == "ICEBERG"
    from adapters.aws.glue_iceberg_catalog import glue_catalog
    from adapters.aws.session import AwsClients
    from adapters.iceberg_tables import IcebergTables

    read = IcebergTables(glue_catalog(AwsClients(), stack.cleaned_bucket), stack.analytics_database).read(
        "fact_service_records", ["service_record_id", "source_file"]
    )
    versions = sorted(
        zip(read.column("service_record_id").to_pylist(), read.column("source_file").to_pylist(), strict=True)
    )
    assert [record for record, _ in versions] == ["SR-1", "SR-1", "SR-2", "SR-2"] and len(set(versions)) == 4
    day = report["dates_published"][0]
    reconciled = run([SERVICEPIPE, "--backend", "aws", "reconcile", "--date", day, "--json"], env)
    checked = json.loads(reconciled.stdout)
    assert (checked["published_rows"], checked["awaiting_publish_rows"], checked["rejected_rows"]) == (4, 0, 2)


def test_sigterm_mid_file_exits_zero_within_30_seconds_and_loses_nothing(stack, endpoint) -> None:
    s3 = boto3.client("s3")
    body = b"\n".join(orjson.dumps(r) for r in generate_records(30_000, seed=5))
    key = "service-records/date=2026-11-25/big.jsonl"
    s3.put_object(Bucket=stack.raw_bucket, Key=key, Body=body)
    worker = subprocess.Popen(
        [sys.executable, "-m", "entrypoints.worker.fargate"],
        cwd=ROOT,
        env=child_env(stack, endpoint),
        stderr=subprocess.PIPE,
        text=True,
    )
    started = threading.Event()
    log_lines: list[str] = []

    def read_logs() -> None:
        for line in worker.stderr:
            log_lines.append(line)
            if "processing raw file" in line and "big.jsonl" in line:
                started.set()

    threading.Thread(target=read_logs, daemon=True).start()
    assert started.wait(120), "".join(log_lines)
    signalled = time.monotonic()
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=35) == 0, "".join(log_lines)
    assert time.monotonic() - signalled < 30
    # 30,000 records take a few seconds, well inside the 25 s grace: the file in hand is
    # finished and its message deleted. (Past the grace, the message is released instead:
    # tests/unit/test_worker_loop.py::test_stop_past_the_grace_period_releases_the_message.)
    manifest = json.loads(s3.get_object(Bucket=stack.cleaned_bucket, Key=manifest_key(key))["Body"].read())
    assert manifest["total_rows"] == 30_000
    queue = boto3.client("sqs").get_queue_attributes(QueueUrl=stack.queue_url, AttributeNames=["All"])["Attributes"]
    counts = (queue["ApproximateNumberOfMessages"], queue["ApproximateNumberOfMessagesNotVisible"])
    assert counts == ("0", "0"), "".join(log_lines)
