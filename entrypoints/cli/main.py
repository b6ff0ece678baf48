"""The ``servicepipe`` command line: arguments, settings, then one command.

Every mistake a user can make in calling it ends in one line on stderr saying what to do,
and exit status 2; never in a traceback.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from application.errors import ConfigurationError, TransientError
from entrypoints.cli.arguments import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Help,
    Parser,
    UsageError,
    count,
    fraction,
    iso_date,
    level,
    port,
    seconds,
)
from entrypoints.process_start import end_process, start_process
from entrypoints.readiness import EXIT_CONFIGURATION
from entrypoints.settings import DEFAULT_DATA_DIR, LOG_LEVELS, Settings, SettingsError

EXIT_NETWORK = 1  # a failure a retry may mend

DEFAULT_SEED = 42


def _parser() -> Parser:
    parser = Parser(
        prog="servicepipe",
        description="Vehicle service records: submit, clean, load and inspect.",
        formatter_class=Help,
    )
    parser.add_argument("--backend", choices=["local", "aws"], help="adapters to use (env SERVICEPIPE_BACKEND)")
    parser.add_argument(
        "--data-dir", help=f"local data folder (env SERVICEPIPE_DATA_DIR; default ./{DEFAULT_DATA_DIR})"
    )
    parser.add_argument(
        "--log-level",
        type=level,
        help=f"level of the JSON logs on stderr: {', '.join(LOG_LEVELS)} "
        "(env SERVICEPIPE_LOG_LEVEL; default WARNING, INFO for serve)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)

    def command(name: str, help_text: str) -> Parser:
        return commands.add_parser(name, help=help_text, description=help_text, formatter_class=Help)

    run = command("run", "run the whole pipeline locally on generated sample data")
    run.add_argument("--records", type=count, default=1000, help="how many sample records")
    run.add_argument("--bad-fraction", type=fraction, default=0.05, help="share of broken records, 0 to 1")
    run.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed: the same seed, the same data")

    generate = command("generate", "print sample records on stdout")
    generate.add_argument("count", type=count, help="how many records")
    generate.add_argument("--bad-fraction", type=fraction, default=0.05, help="share of broken records, 0 to 1")
    generate.add_argument("--seed", type=int, default=None, help="random seed (default: a new one each time)")
    generate.add_argument("--jsonl", action="store_true", help="JSON Lines instead of one JSON array")

    submit = command("submit", "submit a JSON file through the API use-case")
    submit.add_argument("file", help="a JSON array of records or one record; - reads stdin")

    upload = command("upload", "drop a bulk file (JSON array or JSON Lines) into the raw store")
    upload.add_argument("file", help="the file to upload; - reads stdin")
    upload.add_argument("--name", help="the name to store it under (default: the file's name; stdin.jsonl for -)")

    worker = command("worker", "process queued raw files (Ctrl-C finishes the files in hand; twice stops now)")
    worker.add_argument("--drain", action="store_true", help="exit when the queue is empty")
    worker.add_argument(
        "--visibility-timeout",
        type=seconds,
        help="seconds a message stays hidden while a file is processed, heartbeats renewing it "
        "(env SERVICEPIPE_QUEUE_VISIBILITY_TIMEOUT; default 300)",
    )

    load = command("load", "load processed files into the database")
    which = load.add_mutually_exclusive_group()
    which.add_argument("--date", type=iso_date, help="only files of this ingestion date (YYYY-MM-DD)")
    which.add_argument("--all-pending", action="store_true", help="every file not yet loaded (what happens anyway)")

    status = command("status", "counts across stores, queue and database (never creates anything)")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.add_argument(
        "--submission", metavar="ID", help="what became of one API submission (JSON: status, counts, rejected rows)"
    )

    insights = command("insights", "write the insights report (HTML and CSV) from the published analytics tables")
    insights.add_argument("--since", type=iso_date, help="first service date (YYYY-MM-DD; default: the first)")
    insights.add_argument("--until", type=iso_date, help="last service date (YYYY-MM-DD; default: the last)")
    insights.add_argument("--out", help="folder to write to (default: <data dir>/insights, or ./insights on AWS)")

    history = command("history", "a vehicle's loaded service records, newest first (JSON)")
    history.add_argument("vin", help="the vehicle identification number")
    history.add_argument("--limit", type=count, default=50, help="records per page, 1 to 200")
    history.add_argument("--page", help="the next_page token a previous page printed")

    dealers = command("dealers", "issue, revoke and list dealerships' API keys")
    action = dealers.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)

    def dealer_action(name: str, help_text: str) -> Parser:
        return action.add_parser(name, help=help_text, description=help_text, formatter_class=Help)

    add = dealer_action("add", "issue a key (printed once, alone on stdout)")
    add.add_argument("dealer_id", nargs="?", help="the dealership the key acts for (omit with --admin)")
    add.add_argument("--admin", action="store_true", help="a key that acts for every dealership")
    revoke = dealer_action("revoke", "revoke a key by its id")
    revoke.add_argument("key_id", help="the key's id (see dealers list)")
    dealer_action("list", "the keys, without their secrets")

    dlq = command("dlq", "list the dead-letter queue, or send it back to the work queue")
    dlq_action = dlq.add_subparsers(dest="action", required=True, metavar="ACTION", parser_class=Parser)
    dlq_list = dlq_action.add_parser("list", help="the dead letters and the raw files they name", formatter_class=Help)
    dlq_list.add_argument("--limit", type=count, default=100, help="how many to show at most")
    dlq_list.add_argument("--json", action="store_true", help="print JSON")
    redrive = dlq_action.add_parser(
        "redrive", help="move every dead letter back to the work queue (on AWS: an SQS move task)", formatter_class=Help
    )
    redrive.add_argument("--json", action="store_true", help="print JSON")

    replay = command("replay", "queue raw files again, e.g. after a rule is fixed (their outputs are replaced)")
    replay.add_argument("--date", type=iso_date, help="every raw file that arrived on this date (YYYY-MM-DD)")
    replay.add_argument("keys", nargs="*", metavar="KEY", help="raw keys (service-records/date=.../...)")

    reconcile = command("reconcile", "account for every row of a date's raw files across the stores and the table")
    reconcile.add_argument("--date", type=iso_date, required=True, help="the raw files' arrival date (YYYY-MM-DD)")
    reconcile.add_argument("--json", action="store_true", help="print JSON (every problem)")

    publish = command("publish", "commit the cleaned star schema to the analytics tables (Iceberg), a date at a time")
    publish.add_argument(
        "--date",
        type=iso_date,
        action="append",
        dest="dates",
        help="publish this ingestion date (YYYY-MM-DD) as it is now; repeatable "
        "(default: every date whose processed files changed since it was last published)",
    )
    publish.add_argument("--json", action="store_true", help="print JSON")

    forget = command("forget", "erase a customer's (or a record's) personal data from every store, with proof")
    forget.add_argument("--dealer", metavar="DEALER_ID", help="the dealership the customer or record belongs to")
    person = forget.add_mutually_exclusive_group()
    person.add_argument("--customer", metavar="CUSTOMER_ID", help="the dealership's own id for the customer")
    person.add_argument("--record", metavar="SERVICE_RECORD_ID", help="one record (for records without a customer id)")
    person.add_argument("--status", metavar="REQUEST_ID", help="show an earlier request's audit entry (JSON)")
    person.add_argument("--pending", action="store_true", help="carry out every request received through the API")
    forget.add_argument("--json", action="store_true", help="print the audit entry as JSON")

    serve = command("serve", "serve the HTTP API locally")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=port, default=8000, help="port to listen on")
    return parser


# Each command's function, imported only when it runs: `--help` and the light commands never
# load the container's wiring or the worker's data libraries (tests/integration/test_cli_imports.py).
COMMANDS = {
    "run": "commands",
    "generate": "commands",
    "submit": "commands",
    "upload": "commands",
    "worker": "commands",
    "load": "commands",
    "status": "commands",
    "serve": "commands",
    "dealers": "commands",
    "history": "commands",
    "insights": "commands",
    "dlq": "recovery",
    "replay": "recovery",
    "reconcile": "recovery",
    "publish": "publishing",
    "forget": "erasure",
}


def _command(name: str) -> Callable[..., int]:
    return getattr(importlib.import_module(f"entrypoints.cli.{COMMANDS[name]}"), name)  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    program = f"servicepipe {args.command}"
    try:
        default_level = "INFO" if args.command == "serve" else "WARNING"
        settings = Settings.from_env(
            default_log_level=default_level,
            backend=args.backend,
            data_dir=args.data_dir,
            log_level=args.log_level,
            queue_visibility_timeout=getattr(args, "visibility_timeout", None),
        )
        missing = settings.missing_aws_variables(args.command)
        if missing:
            raise SettingsError(f"--backend aws needs {', '.join(missing)}: set them in the environment")
    except SettingsError as err:
        print(f"{program}: {err}", file=sys.stderr)
        return EXIT_USAGE
    start_process(settings.log_level)
    from entrypoints.container import build_container

    try:
        return _command(args.command)(args, build_container(settings))
    except BrokenPipeError:
        # The reader went away (`... | head`): say so once; stdout is pointed at /dev/null so
        # that Python's flush at exit does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(f"{program}: the output was closed before it was all written (a pager or head?)", file=sys.stderr)
        return EXIT_USAGE
    except UsageError as err:
        print(f"{program}: {err}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigurationError as err:
        print(f"{program}: {err}", file=sys.stderr)
        return EXIT_CONFIGURATION
    except TransientError as err:  # the network, or a store that kept refusing: worth a retry
        print(f"{program}: {err}; check the network (and AWS_ENDPOINT_URL), then try again", file=sys.stderr)
        return EXIT_NETWORK
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def run() -> NoReturn:
    """The ``servicepipe`` program: ``main`` with the process's arguments, then its exit."""
    end_process(main())


if __name__ == "__main__":
    run()
