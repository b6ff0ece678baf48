"""The audit trail of erasure requests: what was asked, by whom, and what each store gave up.

No personal data in it: a customer is named by their token (``domain.erasure.customer_token``),
which recognises the same person asked for again without holding their id. One JSON object per
request, under ``erasures/`` in the raw store (beside the submissions' notes, and kept as long).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import orjson

from application.errors import ObjectNotFound
from application.ports import ObjectStore
from application.raw_formats import JSON

ERASURES_PREFIX = "erasures/"
_REQUEST_ID = re.compile(r"^[0-9a-fA-F-]{8,64}$")

# A request's status: erased (no trace left), traces_left (the proof found one: run it again),
# nothing_held (no store held the person: erased before, or never sent).
ERASED, TRACES_LEFT, NOTHING_HELD = "erased", "traces_left", "nothing_held"


@dataclass
class ErasureRecord:
    request_id: str
    requested_at: str
    requested_by: str
    dealer_id: str
    customer_token: str | None
    service_record_id: str | None
    status: str = ""
    finished_at: str | None = None
    changed: dict[str, object] = field(default_factory=dict)  # per store: what was changed
    traces: list[dict[str, object]] = field(default_factory=list)  # per store: where a trace is left
    earlier_requests: list[str] = field(default_factory=list)  # for the same person

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @property
    def person(self) -> tuple[str, str | None, str | None]:
        return self.dealer_id, self.customer_token, self.service_record_id


class ErasureLog:
    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def save(self, record: ErasureRecord) -> None:
        body = orjson.dumps(record.to_dict(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)
        self._store.put_bytes(f"{ERASURES_PREFIX}{record.request_id}.json", body, content_type=JSON)

    def get(self, request_id: str) -> ErasureRecord | None:
        if not _REQUEST_ID.match(request_id):
            return None
        try:
            body = orjson.loads(self._store.read_bytes(f"{ERASURES_PREFIX}{request_id}.json"))
        except ObjectNotFound:
            return None
        return ErasureRecord(**body)

    def for_person(self, record: ErasureRecord) -> list[str]:
        """The ids of earlier requests for the same person, oldest first."""
        found = []
        for key in self._store.list_keys(ERASURES_PREFIX):
            earlier = self.get(key[len(ERASURES_PREFIX) : -len(".json")])
            if earlier and earlier.request_id != record.request_id and earlier.person == record.person:
                found.append((earlier.requested_at, earlier.request_id))
        return [request_id for _, request_id in sorted(found)]
