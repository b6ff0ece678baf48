"""botocore errors in the application's terms: not found, or worth retrying."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, ReadTimeoutError

from application.errors import ObjectNotFound, TransientError

NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket", "ResourceNotFoundException"}
RETRYABLE = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "503",
    "500",
}


def error_code(err: ClientError) -> str:
    return str(err.response.get("Error", {}).get("Code", ""))


@contextlib.contextmanager
def translated(key: str = "") -> Iterator[None]:
    """Raise ObjectNotFound or TransientError for the AWS errors that mean those."""
    try:
        yield
    except ClientError as err:
        code = error_code(err)
        if code in NOT_FOUND:
            raise ObjectNotFound(key) from err
        if code in RETRYABLE:
            raise TransientError(f"AWS is busy ({code}); try again later") from err
        raise
    except (ConnectionError, HTTPClientError, ReadTimeoutError) as err:
        raise TransientError(f"network error talking to AWS: {err}") from err
