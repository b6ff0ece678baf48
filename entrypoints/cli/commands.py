"""The commands of the ``servicepipe`` command line, one function each."""

from __future__ import annotations

import argparse
import errno
import json
import logging
import os
import socket
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import orjson

from application.access.api_keys import UnknownDealerId
from application.errors import BadPageToken
from application.history.vehicle_history import BadPageSize
from application.intake.submit_record import SubmissionError, SubmissionRejected
from application.intake.upload_bulk_file import UploadBulkFile, UploadRefused
from domain.dealer_access import OPERATOR
from entrypoints.cli.arguments import EXIT_INTERRUPTED, UsageError
from entrypoints.cli.progress import Progress, WorkerProgress
from entrypoints.cli.sample_fleet import SampleFleet
from entrypoints.memory import freeze_startup_objects
from entrypoints.readiness import EXIT_CONFIGURATION, refuse_to_start
from entrypoints.sample_data import generate_records

if TYPE_CHECKING:  # a command imports what only it needs when it runs (docs/performance.md)
    from entrypoints.container import Container
    from entrypoints.worker.loop import WorkerStats

log = logging.getLogger(__name__)

SUBMISSION_BATCH = 100


def print_json(data: object) -> None:
    """A command's result on stdout, as indented JSON (dates as text)."""
    print(json.dumps(data, indent=2, default=str))


@contextmanager
def _input(name: str) -> Iterator[BinaryIO]:
    """The file a user named, or stdin for ``-``; a name that is not a readable file is a
    UsageError that says why."""
    if name == "-":
        yield sys.stdin.buffer
        return
    path = Path(name)
    if path.is_dir():
        raise UsageError(f"{name} is a folder; give a JSON or JSON Lines file (or - for stdin)")
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        raise UsageError(f"no such file: {name}") from None
    except PermissionError:
        raise UsageError(f"cannot read {name}: permission denied") from None
    with stream:
        yield stream


def generate(args: argparse.Namespace, _: Container) -> int:
    # Ids unique to each run (the content repeats with a seed): records generated twice never
    # claim each other's ids.
    run_id = f"SR-{datetime.now(timezone.utc):%Y%m%d%H%M%S%f}"
    records = generate_records(args.count, args.bad_fraction, args.seed, id_prefix=run_id)
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


def submit(args: argparse.Namespace, container: Container) -> int:
    with _input(args.file) as source:
        body = source.read()
    try:
        receipt = container.submit_record()(body, OPERATOR)
    except SubmissionRejected as err:
        print(f"rejected: {err}; nothing was stored. Fix these and submit again:", file=sys.stderr)
        for problem in err.problems:
            where = "body" if problem.index is None else f"record {problem.index}"
            record_id = f" ({problem.service_record_id})" if problem.service_record_id else ""
            print(f"  {where}{record_id}: {problem.field}: {problem.message} [{problem.rule}]", file=sys.stderr)
        if len(err.problems) < err.found.problem_count:
            print(f"  ... and {err.found.problem_count - len(err.problems):,} more", file=sys.stderr)
        return 1
    except SubmissionError as err:
        print(f"rejected: {err}; nothing was stored.", file=sys.stderr)
        return 1
    print_json(receipt.to_dict())
    return 0


def upload(args: argparse.Namespace, container: Container) -> int:
    name = args.name or ("stdin.jsonl" if args.file == "-" else Path(args.file).name)
    with _input(args.file) as source:
        try:
            receipt = UploadBulkFile(container.raw_store(), container.clock())(source, name)
        except UploadRefused as err:
            raise UsageError(str(err)) from err
    print_json(receipt.to_dict())
    return 0


def _run_worker(container: Container, drain: bool) -> WorkerStats:
    from entrypoints.worker.loop import BuiltOnFirstFile, run_worker

    progress = WorkerProgress()
    try:
        return run_worker(
            container.queue(),
            BuiltOnFirstFile(container.process_raw_file),
            drain=drain,
            visibility_timeout=container.config.queue_visibility_timeout(),
            stop_on_signals=True,
            on_file=lambda result, seconds: progress(result.valid_rows, result.rejected_rows),
            files_in_flight=container.config.files_in_flight(),
        )
    finally:
        progress.done()


def worker(args: argparse.Namespace, container: Container) -> int:
    resources = (container.raw_store(), container.cleaned_store(), container.error_store(), container.queue())
    if refuse_to_start("servicepipe worker", *resources):
        return EXIT_CONFIGURATION
    stats = _run_worker(container, args.drain)
    print_json(stats.summary())
    if stats.interrupted:
        # Stop now means now: the files in hand may still be running in their threads (their
        # messages are already released, and its outputs appear only when complete).
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_INTERRUPTED)
    return 0 if not stats.failures else 1


def load(args: argparse.Namespace, container: Container) -> int:
    if refuse_to_start("servicepipe load", container.cleaned_store(), container.repository()):
        return EXIT_CONFIGURATION
    report = container.load_batch()(args.date)
    print_json(report.to_dict())
    return 0 if report.ok else 1


def require_data_folder(container: Container) -> None:
    """For the commands that only read (or act on what exists): a mistyped --data-dir must
    not become a new, empty data folder."""
    data = Path(container.config.data_dir())
    if container.config.backend() == "local" and not data.is_dir():
        raise UsageError(
            f"no data folder at {data}: check --data-dir (or SERVICEPIPE_DATA_DIR), or run something first"
        )


def status(args: argparse.Namespace, container: Container) -> int:
    require_data_folder(container)
    if args.submission:
        found = container.submission_status()(args.submission, OPERATOR)
        if found is None:
            print(f"no submission {args.submission!r}: check the id from the receipt", file=sys.stderr)
            return 1
        print_json(found.to_dict())
        return 0
    report = container.pipeline_status()()
    if args.json:
        print_json(report.to_dict())
    else:
        for name, value in report.to_dict().items():
            shown = ("yes" if value else "no (approximate)") if isinstance(value, bool) else f"{value:,}"
            print(f"{name:<22}{shown:>10}")
    return 0


def serve(args: argparse.Namespace, container: Container) -> int:
    import uvicorn

    from entrypoints.api.http_app import app_of

    app = app_of(container)
    if not container.api_key_store().entries():
        log.warning(
            "no API key issued yet: every submission gets 401; issue one with `servicepipe dealers add DEALER_ID`"
        )
    listening = _listening_socket(args.host, args.port)
    freeze_startup_objects()
    log.info(f"listening on http://{args.host}:{args.port}", extra={"host": args.host, "port": args.port})
    # Our own access lines (entrypoints.api.http_app) replace uvicorn's.
    config = uvicorn.Config(app, log_level="warning", access_log=False, log_config=None)
    uvicorn.Server(config).run(sockets=[listening])
    return 0


def _listening_socket(host: str, port: int) -> socket.socket:
    """The server's socket, bound before "listening" is said: a port in use is a UsageError."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        listening = socket.socket(family, socket.SOCK_STREAM)
    except OSError as err:
        raise UsageError(f"--host {host}: not an address this machine can listen on ({err}); try 127.0.0.1") from err
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        listening.bind((host, port))
    except OSError as err:
        listening.close()
        if err.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {port} on {host} is already in use (another serve?); choose another with --port"
            ) from err
        raise UsageError(f"cannot listen on {host}:{port} ({err.strerror}); choose another --host or --port") from err
    return listening


def _insights_folder(container: Container, out: str | None) -> Path:
    """Where the report goes: ``--out`` made ready (checked before any work is done), or the
    default folder."""
    if out:
        folder = Path(out)
        if folder.exists() and not folder.is_dir():
            raise UsageError(f"--out {out} is a file; give a folder for the report and its CSV files")
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"--out {out}: cannot make that folder ({err.strerror}); give another") from err
        return folder
    local = container.config.backend() == "local"
    return Path(container.config.data_dir()) / "insights" if local else Path("insights")


def _write_insights(container: Container, since: object, until: object, out: Path) -> Path:
    from entrypoints.cli.insights_report import summary_lines, write_report

    found = container.build_insights()(since, until)
    path = write_report(found, out)
    for line in summary_lines(found):
        print(line)
    return path


def insights(args: argparse.Namespace, container: Container) -> int:
    """``insights``: the HTML report and its CSV files; prints a summary and where to open it."""
    since, until = (date.fromisoformat(d) if d else None for d in (args.since, args.until))
    if since and until and since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    path = _write_insights(container, since, until, _insights_folder(container, args.out))
    print(f"report: {path.resolve()} (open it in a browser; CSV files beside it)")
    pending = container.publish_tables().pending()
    if pending:  # the report reads the published tables
        shown = ", ".join(pending[:3]) + (", ..." if len(pending) > 3 else "")
        print(
            f"servicepipe insights: {len(pending):,} processed date(s) not published yet ({shown}) "
            "are left out of the report: run servicepipe publish, then insights again",
            file=sys.stderr,
        )
    return 0


def history(args: argparse.Namespace, container: Container) -> int:
    """``history VIN``: the vehicle's loaded records, newest first, as JSON (unmasked: the
    operator's view)."""
    try:
        page = container.vehicle_history()(args.vin, OPERATOR, args.limit, args.page)
    except (BadPageSize, BadPageToken) as err:
        raise UsageError(str(err)) from err
    print_json(page.to_dict())
    return 0


def dealers(args: argparse.Namespace, container: Container) -> int:
    """``dealers add|revoke|list``: a new key is printed alone on stdout, the only time it is shown."""
    if args.action == "add":
        if args.admin == bool(args.dealer_id):
            raise UsageError("give a DEALER_ID, or --admin for a key that acts for every dealership (not both)")
        try:
            entry, key = container.issue_api_key()(args.dealer_id, admin=args.admin)
        except UnknownDealerId as err:
            raise UsageError(str(err)) from err
        print(key)
        who = "every dealership (admin)" if entry.admin else f"dealer {entry.dealer_id}"
        print(f"key {entry.key_id} issued for {who}; it is shown only this once", file=sys.stderr)
        return 0
    if args.action == "revoke":
        if not container.revoke_api_key()(args.key_id):
            print(f"no live key {args.key_id!r}: see `servicepipe dealers list`", file=sys.stderr)
            return 1
        print(f"key {args.key_id} revoked", file=sys.stderr)
        return 0
    print_json([entry.public() for entry in container.api_key_store().entries()])
    return 0


def run(args: argparse.Namespace, container: Container) -> int:
    # Ids unique to this run, content from the seed: a run can be repeated, and a second run
    # adds its records instead of replacing the first run's.
    run_id = f"SR-{datetime.now(timezone.utc):%Y%m%d%H%M%S}"
    fleet = SampleFleet.of(container, args.seed, args.records)
    records = list(
        generate_records(
            args.records,
            args.bad_fraction,
            args.seed,
            now=fleet.anchor,
            id_prefix=run_id,
            period=fleet.period,
            cars=fleet.cars,
        )
    )
    submit_record = container.submit_record()
    progress = Progress()
    receipts = []
    for start in range(0, len(records), SUBMISSION_BATCH):
        receipts.append(submit_record(orjson.dumps(records[start : start + SUBMISSION_BATCH]), OPERATOR))
        progress.show(f"submitted {min(start + SUBMISSION_BATCH, len(records)):,} of {len(records):,} records")
    progress.done()
    before = container.repository().count()
    stats = _run_worker(container, drain=True)
    loaded = container.load_batch()()
    _summary(args, container, len(records), len(receipts), stats, loaded.records_loaded, loaded.files_loaded)
    growth = container.repository().count() - before
    print(f"the database grew by {growth:,} records (seed {args.seed}: repeat with --seed {args.seed})")
    fleet.save()
    reconciled = _reconcile_days(
        container, {receipt.file_key.split("/")[1].removeprefix("date=") for receipt in receipts}
    )
    from entrypoints.cli.publishing import summary  # it imports this module's helpers

    published = container.publish_tables()()
    print(summary(published).splitlines()[0])
    for day, problem in sorted(published.problems.items()):
        print(f"{day} not published: {problem}", file=sys.stderr)
    print("insights from everything cleaned so far:")
    report = _write_insights(container, None, None, _insights_folder(container, None))
    print(f"insights report: {report.resolve()} (open it in a browser)")
    if loaded.files_failed:
        print(f"{len(loaded.files_failed)} files failed to load; run servicepipe load to retry", file=sys.stderr)
    return 0 if stats.failures == 0 and loaded.ok and reconciled and published.ok else 1


def _reconcile_days(container: Container, days: set[str]) -> bool:
    """``reconcile`` for the days the run wrote to: says that every row is in one place, or how
    many are not and where to look."""
    ok = True
    for day in sorted(days):
        report = container.reconcile()(day)
        if report.ok:
            print(f"reconcile {day}: each of {report.raw_rows:,} rows in exactly one place, loaded rows in the table")
        else:
            ok = False
            print(f"reconcile {day}: {len(report.problems):,} problems; see servicepipe reconcile --date {day}")
    return ok


def _summary(
    args: argparse.Namespace,
    container: Container,
    records: int,
    submissions: int,
    stats: WorkerStats,
    records_loaded: int,
    files_loaded: int,
) -> None:
    by_rule: Counter[str] = Counter()
    for result in stats.results:
        by_rule.update(result.rejected_by_rule)
    valid = sum(r.valid_rows for r in stats.results)
    rejected = sum(r.rejected_rows for r in stats.results)
    data = Path(container.config.data_dir())
    print(
        f"servicepipe run: {records:,} sample records ({args.bad_fraction:.0%} broken, seed {args.seed}), "
        f"{submissions} submissions accepted"
    )
    print(f"processed {stats.files_processed} files: {valid:,} valid rows, {rejected:,} rejected rows")
    if by_rule:
        print("rejected rows by rule (a row may break several):")
        for rule, number in by_rule.most_common():
            print(f"  {rule:<22}{number:>6,}")
    print(f"loaded {records_loaded:,} records from {files_loaded} files into the database")
    print("outputs:")
    for label, path in (
        ("raw submissions", data / "raw" / "service-records"),
        ("star schema (Parquet)", data / "cleaned" / "parquet"),
        ("cleaned JSONL", data / "cleaned" / "dynamodb"),
        ("rejected rows", data / "error" / "rejected"),
        ("database", data / "service_records.sqlite"),
        ("analytics tables", data / "cleaned" / "iceberg"),
    ):
        print(f"  {label:<22}{path}")
    totals = container.pipeline_status()().to_dict()
    counts = ", ".join(f"{k}={v:,}" for k, v in totals.items() if not isinstance(v, bool))
    print(f"totals in {data}: {counts}")
