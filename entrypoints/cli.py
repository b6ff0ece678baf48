"""The ``servicepipe`` command line."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson

from application.errors import ConfigurationError
from application.submit_record import SubmissionError, SubmissionRejected
from application.upload_bulk_file import UploadBulkFile
from entrypoints.container import Container, build_container
from entrypoints.logging_setup import configure_logging
from entrypoints.memory import freeze_startup_objects, use_system_allocator
from entrypoints.readiness import EXIT_CONFIGURATION, refuse_to_start
from entrypoints.sample_data import generate_records
from entrypoints.settings import Settings
from entrypoints.worker_loop import run_worker

SUBMISSION_BATCH = 100


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="servicepipe", description="Vehicle service records: submit, clean, load and inspect."
    )
    parser.add_argument(
        "--backend", choices=["local", "aws"], help="adapters to use (env SERVICEPIPE_BACKEND; default local)"
    )
    parser.add_argument("--data-dir", help="local data folder (env SERVICEPIPE_DATA_DIR; default ./.servicepipe-data)")
    parser.add_argument(
        "--log-level",
        default=os.environ.get("SERVICEPIPE_LOG_LEVEL", "WARNING"),
        help="log level of the JSON logs on stderr (default WARNING)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the whole pipeline locally on generated sample data")
    run.add_argument("--records", type=int, default=1000, help="how many sample records (default 1000)")
    run.add_argument("--bad-fraction", type=float, default=0.05, help="share of broken records (default 0.05)")
    run.add_argument("--seed", type=int, default=None, help="random seed for the sample data")

    generate = commands.add_parser("generate", help="print sample records on stdout")
    generate.add_argument("count", type=int)
    generate.add_argument("--bad-fraction", type=float, default=0.05)
    generate.add_argument("--seed", type=int, default=None)
    generate.add_argument("--jsonl", action="store_true", help="JSON Lines instead of one JSON array")

    submit = commands.add_parser("submit", help="submit a JSON file through the API use-case")
    submit.add_argument("file", type=Path)

    upload = commands.add_parser("upload", help="drop a bulk file (JSON array or JSON Lines) into the raw store")
    upload.add_argument("file", type=Path)

    worker = commands.add_parser("worker", help="process queued raw files")
    worker.add_argument("--drain", action="store_true", help="exit when the queue is empty")

    load = commands.add_parser("load", help="load cleaned files into the database")
    which = load.add_mutually_exclusive_group()
    which.add_argument("--date", help="only files of this ingestion date (YYYY-MM-DD)")
    which.add_argument("--all-pending", action="store_true", help="every file not yet loaded (the default)")

    status = commands.add_parser("status", help="counts across stores, queue and database")
    status.add_argument("--json", action="store_true")

    serve = commands.add_parser("serve", help="serve the HTTP API locally")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    return parser


def _print_json(data: object) -> None:
    print(json.dumps(data, indent=2, default=str))


def cmd_generate(args: argparse.Namespace, _: Container) -> int:
    records = generate_records(args.count, args.bad_fraction, args.seed)
    out = sys.stdout.buffer
    if args.jsonl:
        for record in records:
            out.write(orjson.dumps(record) + b"\n")
    else:
        out.write(b"[")
        for i, record in enumerate(records):
            out.write((b",\n" if i else b"\n") + orjson.dumps(record))
        out.write(b"\n]\n")
    return 0


def cmd_submit(args: argparse.Namespace, container: Container) -> int:
    try:
        receipt = container.submit_record()(args.file.read_bytes())
    except SubmissionRejected as err:
        print(f"rejected: {err}; nothing was stored. Fix these and submit again:", file=sys.stderr)
        for problem in err.problems:
            where = "body" if problem.index is None else f"record {problem.index}"
            record_id = f" ({problem.service_record_id})" if problem.service_record_id else ""
            print(f"  {where}{record_id}: {problem.field}: {problem.message}", file=sys.stderr)
        return 1
    except SubmissionError as err:
        print(f"rejected: {err}; nothing was stored.", file=sys.stderr)
        return 1
    _print_json(receipt.to_dict())
    return 0


def cmd_upload(args: argparse.Namespace, container: Container) -> int:
    upload = UploadBulkFile(container.raw_store(), container.clock())
    with args.file.open("rb") as source:
        receipt = upload(source, args.file.name)
    _print_json(receipt.to_dict())
    return 0


def cmd_worker(args: argparse.Namespace, container: Container) -> int:
    resources = (container.raw_store(), container.cleaned_store(), container.error_store(), container.queue())
    if refuse_to_start("servicepipe worker", *resources):
        return EXIT_CONFIGURATION
    stats = run_worker(
        container.queue(),
        container.process_raw_file(),
        drain=args.drain,
        visibility_timeout=container.config.queue_visibility_timeout(),
        stop_on_signals=True,
    )
    _print_json(stats.summary())
    return 0 if not stats.failures else 1


def cmd_load(args: argparse.Namespace, container: Container) -> int:
    if refuse_to_start("servicepipe load", container.cleaned_store(), container.repository()):
        return EXIT_CONFIGURATION
    report = container.load_batch()(args.date)
    _print_json(report.to_dict())
    return 0 if report.ok else 1


def cmd_status(args: argparse.Namespace, container: Container) -> int:
    report = container.pipeline_status()()
    if args.json:
        _print_json(report.to_dict())
    else:
        for name, value in report.to_dict().items():
            print(f"{name:<18}{value:>10,}")
    return 0


def cmd_serve(args: argparse.Namespace, container: Container) -> int:
    import uvicorn

    from entrypoints.http_app import create_app

    app = create_app(container.submit_record, api_key=container.config.api_key())
    freeze_startup_objects()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def cmd_run(args: argparse.Namespace, container: Container) -> int:
    records = list(generate_records(args.records, args.bad_fraction, args.seed))
    submit = container.submit_record()
    receipts = [
        submit(orjson.dumps(records[start : start + SUBMISSION_BATCH]))
        for start in range(0, len(records), SUBMISSION_BATCH)
    ]
    stats = run_worker(container.queue(), container.process_raw_file(), drain=True)
    load = container.load_batch()()
    by_rule: Counter[str] = Counter()
    for result in stats.results:
        by_rule.update(result.rejected_by_rule)
    valid = sum(r.valid_rows for r in stats.results)
    rejected = sum(r.rejected_rows for r in stats.results)
    data = Path(container.config.data_dir())
    print(
        f"servicepipe run: {len(records):,} sample records ({args.bad_fraction:.0%} broken), "
        f"{len(receipts)} submissions accepted"
    )
    print(f"processed {stats.files_processed} files: {valid:,} valid rows, {rejected:,} rejected rows")
    if by_rule:
        print("rejected rows by rule (a row may break several):")
        for rule, count in by_rule.most_common():
            print(f"  {rule:<22}{count:>6,}")
    print(
        f"loaded {load.records_loaded:,} records from {load.files_loaded} files into the database"
        + (f"; {len(load.files_failed)} files failed" if load.files_failed else "")
    )
    print("outputs:")
    for label, path in (
        ("raw submissions", data / "raw" / "service-records"),
        ("star schema (Parquet)", data / "cleaned" / "parquet"),
        ("cleaned JSONL", data / "cleaned" / "dynamodb"),
        ("rejected rows", data / "error" / "rejected"),
        ("database", data / "service_records.sqlite"),
    ):
        print(f"  {label:<22}{path}")
    status = container.pipeline_status()()
    print(f"totals in {data}: " + ", ".join(f"{k}={v:,}" for k, v in status.to_dict().items()))
    return 0 if stats.failures == 0 and load.ok else 1


COMMANDS = {
    "run": cmd_run,
    "generate": cmd_generate,
    "submit": cmd_submit,
    "upload": cmd_upload,
    "worker": cmd_worker,
    "load": cmd_load,
    "status": cmd_status,
    "serve": cmd_serve,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging(args.log_level)
    use_system_allocator()
    settings = Settings.from_env(backend=args.backend, data_dir=args.data_dir)
    container = build_container(settings)
    try:
        return COMMANDS[args.command](args, container)
    except ConfigurationError as err:
        print(f"servicepipe {args.command}: {err}", file=sys.stderr)
        return EXIT_CONFIGURATION


if __name__ == "__main__":
    sys.exit(main())
