"""Erasure requests filed through the API, and their status: received until an operator's
``servicepipe forget --pending`` carries them out, then the status the audit trail gives.

A received request must hold the customer's id (it is carried out with it), under
``erasure-requests/`` in the raw store; once carried out it is deleted with every earlier
version, so the id is then nowhere: the audit entry names the customer by token only.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass

import orjson

from application.erasure.erasure_log import ErasureLog
from application.errors import ObjectNotFound
from application.ports import Clock, ObjectStore
from application.raw_formats import JSON
from domain.dealer_access import Caller
from domain.erasure import ErasureTarget

PENDING_PREFIX = "erasure-requests/"
RECEIVED = "received"
_REQUEST_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")


@dataclass(frozen=True)
class RequestStatus:
    request_id: str
    status: str  # received, then erased, traces_left or nothing_held
    requested_at: str
    finished_at: str | None = None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class PendingRequest:
    request_id: str
    requested_at: str
    requested_by: str
    target: ErasureTarget


class FileErasureRequest:
    def __init__(self, raw: ObjectStore, clock: Clock, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._raw, self._clock, self._new_id = raw, clock, new_id

    def __call__(self, target: ErasureTarget, caller: Caller) -> RequestStatus:
        """Note ``target`` to be erased (``ErasureTarget`` has already refused a bad request)."""
        request_id, now = self._new_id(), self._clock.now().isoformat()
        body = {
            "request_id": request_id,
            "requested_at": now,
            "requested_by": caller.name,
            "dealer_id": target.dealer,
            "customer_id": target.customer_id.strip() if target.customer_id else None,
            "service_record_id": target.service_record_id.strip() if target.service_record_id else None,
        }
        self._raw.put_bytes(f"{PENDING_PREFIX}{request_id}.json", orjson.dumps(body), content_type=JSON)
        return RequestStatus(request_id, RECEIVED, now)


class ErasureRequestStatus:
    def __init__(self, raw: ObjectStore) -> None:
        self._raw, self._log = raw, ErasureLog(raw)

    def __call__(self, request_id: str) -> RequestStatus | None:
        if not _REQUEST_ID.match(request_id):
            return None
        done = self._log.get(request_id)
        if done is not None:
            return RequestStatus(request_id, done.status, done.requested_at, done.finished_at)
        pending = read_pending(self._raw, request_id)
        return None if pending is None else RequestStatus(request_id, RECEIVED, pending.requested_at)


def read_pending(raw: ObjectStore, request_id: str) -> PendingRequest | None:
    try:
        body = orjson.loads(raw.read_bytes(f"{PENDING_PREFIX}{request_id}.json"))
    except ObjectNotFound:
        return None
    target = ErasureTarget(body["dealer_id"], body.get("customer_id"), body.get("service_record_id"))
    return PendingRequest(body["request_id"], body["requested_at"], body["requested_by"], target)


def pending_requests(raw: ObjectStore) -> Iterator[PendingRequest]:
    """Every request received and not carried out yet, oldest first."""
    found = []
    for key in raw.list_keys(PENDING_PREFIX):
        pending = read_pending(raw, key[len(PENDING_PREFIX) : -len(".json")])
        if pending is not None:
            found.append(pending)
    yield from sorted(found, key=lambda p: (p.requested_at, p.request_id))


def carried_out(raw: ObjectStore, request: PendingRequest) -> None:
    """The received request (with the customer's id) deleted, every version of it, once its
    audit entry is written."""
    key = f"{PENDING_PREFIX}{request.request_id}.json"
    raw.delete(key)
    raw.purge_versions(key)
