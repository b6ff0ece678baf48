"""``servicepipe forget``: a customer's (or one record's) personal data erased from every store,
with proof (docs/operations.md, "Erasure requests"); ``--status`` shows a request's audit entry."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from application.erasure.erasure_log import ERASED, NOTHING_HELD, ErasureRecord
from application.erasure.erasure_requests import carried_out, pending_requests
from domain.erasure import ErasureRequestError, ErasureTarget
from entrypoints.cli.arguments import UsageError
from entrypoints.cli.commands import print_json, require_data_folder

if TYPE_CHECKING:
    from entrypoints.container import Container


def forget(args: argparse.Namespace, container: Container) -> int:
    target = None
    if not (args.status or args.pending):  # the request is checked before anything is opened
        try:
            target = ErasureTarget(args.dealer or "", customer_id=args.customer, service_record_id=args.record)
        except ErasureRequestError as err:
            raise UsageError(f"{err} (--dealer DEALER_ID with --customer CUSTOMER_ID or --record ID)") from None
    require_data_folder(container)
    if args.status:
        return _status(args.status, container)
    if args.pending:
        return _pending(args, container)
    assert target is not None
    request = container.forget_person()(target, requested_by=f"operator:{_user()}")
    if args.json:
        print_json(request.to_dict())
    else:
        print(summary(request))
    if request.traces:
        places = ", ".join(f"{t['store']} {t['place']}" for t in request.traces[:5])
        print(
            f"servicepipe forget: traces left in {len(request.traces)} place(s) ({places}): "
            f"run the same request again, then see docs/operations.md if they stay",
            file=sys.stderr,
        )
        return 1
    return 0


def _status(request_id: str, container: Container) -> int:
    """A request's audit entry; one filed through the API and not carried out yet: received."""
    found = container.erasure_log().get(request_id)
    if found is not None:
        print_json(found.to_dict())
        return 0
    received = container.erasure_request_status()(request_id)
    if received is None:
        raise UsageError(f"no erasure request {request_id!r}: give the request id forget printed")
    print_json(received.to_dict())
    return 0


def _pending(args: argparse.Namespace, container: Container) -> int:
    """Every request received through the API, oldest first; each one's received copy (which
    holds the customer's id) is deleted once its audit entry says it left no trace."""
    raw, forget_person = container.raw_store(), container.forget_person()
    left = 0
    requests = list(pending_requests(raw))
    for request in requests:
        done = forget_person(request.target, request.requested_by, request.request_id, request.requested_at)
        if args.json:
            print_json(done.to_dict())
        else:
            print(summary(done))
        if done.traces:
            left += 1
            continue
        carried_out(raw, request)
    if not requests:
        print("no erasure request waiting")
    if left:
        print(
            f"servicepipe forget: {left} request(s) left traces and stay pending: run --pending again", file=sys.stderr
        )
    return 1 if left else 0


def summary(request: ErasureRecord) -> str:
    """What a request did, in a few lines for a person (no personal data: the request names it)."""
    if request.status == NOTHING_HELD:
        earlier = f" (erased by {', '.join(request.earlier_requests)})" if request.earlier_requests else ""
        return f"request {request.request_id}: nothing held the person{earlier}; nothing changed"
    changed = request.changed
    raw, table = changed.get("raw", {}), changed.get("table", {})
    analytics, index = changed.get("analytics", {}), changed.get("index", {})
    lines = [
        f"request {request.request_id}: {'erased' if request.status == ERASED else 'traces left'}",
        f"  raw files rewritten        {len(_get(raw, 'files_rewritten')):>8,}"
        f"  (earlier versions deleted: {_get(raw, 'earlier_versions_deleted'):,})",
        f"  cleaned files rewritten    {len(_get(changed.get('cleaned', {}), 'files_rewritten')):>8,}",
        f"  error files rewritten      {len(_get(changed.get('errors', {}), 'files_rewritten')):>8,}",
        f"  table items erased         {_get(table, 'items_erased'):>8,}",
        f"  analytics rows erased      {_get(analytics, 'rows_erased'):>8,}"
        f"  (old table files deleted: {_get(analytics, 'old_files_deleted'):,})",
        f"  index rows forgotten       {_get(index, 'rows_forgotten'):>8,}",
        f"see it again: servicepipe forget --status {request.request_id}",
    ]
    return "\n".join(lines)


def _get(store: object, name: str):  # type: ignore[no-untyped-def]
    return store.get(name, 0) if isinstance(store, dict) else 0


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a container)
        return "unknown"
