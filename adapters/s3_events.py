"""The S3 "object created" event notification, as S3 sends it to SQS.

The local object store sends the same message, so that one worker understands both.
"""

from __future__ import annotations

import json
from urllib.parse import quote_plus


def object_created_event(bucket: str, key: str, size: int) -> str:
    """The JSON body S3 puts on the queue when ``key`` is created in ``bucket``."""
    record = {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": quote_plus(key), "size": size}},
    }
    return json.dumps({"Records": [record]})
