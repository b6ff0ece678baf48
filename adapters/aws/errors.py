"""botocore errors in the application's terms: not found, worth retrying, or a deployment
whose settings name a bucket, queue or table that does not exist or refuses access."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from botocore.exceptions import ClientError, ConnectionError, HTTPClientError, NoCredentialsError, ReadTimeoutError

from application.errors import ConfigurationError, ObjectNotFound, TransientError

# A missing *object*. S3 answers a HEAD on a missing bucket with a bare 404 too, so the S3
# store tells the two apart itself (``S3ObjectStore.head``).
NOT_FOUND = {"404", "NoSuchKey", "NotFound"}
MISSING_RESOURCE = {
    "NoSuchBucket",
    "ResourceNotFoundException",
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
}
ACCESS_DENIED = {
    "403",
    "AccessDenied",
    "AccessDeniedException",
    "Forbidden",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredToken",
    "ExpiredTokenException",
    "AllAccessDisabled",
}
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


def missing(resource: str, setting: str) -> ConfigurationError:
    """The error for a bucket, queue or table that does not exist."""
    hint = f"; check {setting}" if setting else ""
    return ConfigurationError(f"{resource} does not exist{hint}", setting)


@contextlib.contextmanager
def translated(key: str = "", resource: str = "", setting: str = "") -> Iterator[None]:
    """Raise ObjectNotFound, TransientError or ConfigurationError for the AWS errors that
    mean those; ``resource`` ("bucket 'x'") and ``setting`` name the configuration."""
    try:
        yield
    except ClientError as err:
        code = error_code(err)
        if code in NOT_FOUND:
            raise ObjectNotFound(key) from err
        if code in MISSING_RESOURCE:
            raise missing(resource or "a resource", setting) from err
        if code in ACCESS_DENIED:
            hint = f" (named by {setting})" if setting else ""
            raise ConfigurationError(
                f"access to {resource or 'a resource'}{hint} was denied ({code}): check the IAM role's permissions",
                setting,
            ) from err
        if code in RETRYABLE:
            raise TransientError(f"AWS is busy ({code}); try again later") from err
        raise
    except NoCredentialsError as err:
        raise ConfigurationError("no AWS credentials found: set a role or AWS_PROFILE", "AWS credentials") from err
    except (ConnectionError, HTTPClientError, ReadTimeoutError) as err:
        raise TransientError(f"network error talking to AWS: {err}") from err
