"""The S3 "object created" event notification, as S3 sends it to SQS: made (the local object
store and ``replay`` send the same message) and read (the worker, ``dlq list``).
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote_plus, unquote_plus

from application.operations.dead_letters import DeadLetter


def object_created_event(bucket: str, key: str, size: int) -> str:
    """The JSON body S3 puts on the queue when ``key`` is created in ``bucket``."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key), "size": size}},
    }
    return json.dumps({"Records": [record]})


class NotAnS3Event(ValueError):
    """A queue message that is not an S3 event notification."""


def object_keys(body: str) -> list[str] | None:
    """Raw object keys named by an S3 event body; None for S3's test event.

    Raises ``NotAnS3Event`` for anything else.
    """
    objects = objects_of(body)
    return None if objects is None else [key for key, _ in objects]


def objects_of(body: str) -> list[tuple[str, int | None]] | None:
    """(key, size) of each raw object an S3 event body names; None for S3's test event."""
    try:
        event = json.loads(body)
    except json.JSONDecodeError as err:
        raise NotAnS3Event(f"message body is not JSON: {err}") from err
    if isinstance(event, dict) and event.get("Event") == "s3:TestEvent":
        return None
    records = event.get("Records") if isinstance(event, dict) else None
    if not isinstance(records, list) or not records:
        raise NotAnS3Event("message body has no S3 'Records'")
    try:
        return [(unquote_plus(r["s3"]["object"]["key"]), _size(r["s3"]["object"])) for r in records]
    except (KeyError, TypeError) as err:
        raise NotAnS3Event(f"S3 record without s3.object.key: {err}") from err


def _size(s3_object: dict[str, object]) -> int | None:
    size = s3_object.get("size")
    return size if isinstance(size, int) and not isinstance(size, bool) else None


def dead_letter_of(message_id: str, receive_count: int, sent_at: datetime | None, body: str) -> DeadLetter:
    """A dead letter, with the raw keys its body names or why it names none."""
    try:
        keys = object_keys(body)
    except NotAnS3Event as err:
        return DeadLetter(message_id, receive_count, sent_at, [], f"not an S3 event: {err}")
    return DeadLetter(message_id, receive_count, sent_at, keys or [], None if keys else "S3 test event")
