"""The operators' recovery commands: ``dlq list|redrive``, ``replay`` and ``reconcile``.

Each works on both backends and is idempotent: running it twice ends as running it once
(``reconcile`` only reads). docs/operations.md says when to use which.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from application.operations.replay_raw_files import NothingToReplay
from entrypoints.cli.arguments import UsageError
from entrypoints.cli.commands import print_json, require_data_folder

if TYPE_CHECKING:
    from entrypoints.container import Container

PROBLEMS_SHOWN = 50


def dlq(args: argparse.Namespace, container: Container) -> int:
    """``dlq list``: what the workers gave up on; ``dlq redrive``: send it all back."""
    require_data_folder(container)
    queue = container.dead_letter_queue()
    if args.action == "redrive":
        redrive = queue.redrive()
        if args.json:
            print_json(redrive.to_dict())
        else:
            print(redrive.detail)
        return 0
    letters = queue.dead_letters(args.limit)
    if args.json:
        print_json([letter.to_dict() for letter in letters])
        return 0
    if not letters:
        print("the dead-letter queue is empty")
        return 0
    for letter in letters:
        sent = f"{letter.sent_at:%Y-%m-%d %H:%M:%S}Z" if letter.sent_at else "?"
        what = ", ".join(letter.raw_keys) or letter.problem
        print(f"{letter.message_id}  received {letter.receive_count}x  sent {sent}  {what}")
    more = " (more not shown: --limit)" if len(letters) == args.limit else ""
    print(
        f"{len(letters)} dead letters{more}. Why each failed: the worker's log lines with its message_id. "
        "Once the cause is fixed: servicepipe dlq redrive",
        file=sys.stderr,
    )
    return 0


def replay(args: argparse.Namespace, container: Container) -> int:
    """``replay --date D | KEY...``: put raw files back on the work queue."""
    if bool(args.date) == bool(args.keys):
        raise UsageError("give --date YYYY-MM-DD or one or more raw keys (not both)")
    require_data_folder(container)
    try:
        report = container.replay_raw_files()(date=args.date, keys=args.keys)
    except NothingToReplay as err:
        print(f"nothing replayed: {err}", file=sys.stderr)
        return 1
    print_json(report.to_dict())
    print(
        f"{report.files:,} raw files queued again; the workers replace their outputs, and the next load "
        "loads the records that changed",
        file=sys.stderr,
    )
    return 0


def reconcile(args: argparse.Namespace, container: Container) -> int:
    """``reconcile --date D``: every row of the date's raw files in exactly one place; exit 1
    naming the rows that are not."""
    require_data_folder(container)
    report = container.reconcile()(args.date)
    if args.json:
        print_json(report.to_dict())
        return 0 if report.ok else 1
    print(f"reconcile {report.date}: {report.raw_files:,} raw files, {report.raw_rows:,} rows")
    print(
        f"  cleaned {report.cleaned_rows:,}, rejected {report.rejected_rows:,}, "
        f"unreadable files {report.unreadable_files:,}, files not processed yet {report.unprocessed_files:,}"
    )
    print(f"  in the table {report.loaded_rows:,}, awaiting the loader {report.awaiting_load_rows:,}")
    if report.ok:
        print("ok: every row is in exactly one place")
        return 0
    print(f"{len(report.problems):,} problems:")
    for problem in report.problems[:PROBLEMS_SHOWN]:
        row = "whole file" if problem.record_index is None else f"row {problem.record_index}"
        record = f" ({problem.dealer_id} {problem.service_record_id})" if problem.service_record_id else ""
        print(f"  {problem.raw_key} {row}{record}: {problem.problem}")
    if len(report.problems) > PROBLEMS_SHOWN:
        print(f"  ... and {len(report.problems) - PROBLEMS_SHOWN:,} more (--json lists them all)")
    return 1
