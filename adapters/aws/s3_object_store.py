"""A bucket in S3. A PUT is atomic: an object appears whole or not at all."""

from __future__ import annotations

import contextlib
import io
import tempfile
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO

from botocore.exceptions import ClientError

from adapters.aws.errors import error_code, missing, translated
from adapters.aws.session import AwsClients
from application.errors import ObjectNotFound
from application.ports import ObjectInfo

# Outputs are written to a spooled file first (memory, then local disk past this size),
# then uploaded in one managed (multipart for large files) transfer.
_SPOOL_BYTES = 32 * 1024 * 1024


class S3ObjectStore:
    """``setting`` names the variable that configured the bucket, for error messages."""

    def __init__(self, clients: AwsClients, bucket: str, setting: str = "") -> None:
        if not bucket:
            raise ValueError(
                "no bucket name configured: set RAW_BUCKET_NAME, CLEANED_BUCKET_NAME and ERROR_BUCKET_NAME"
            )
        self._clients = clients
        self.bucket = bucket
        self.setting = setting

    def _translated(self, key: str = "") -> contextlib.AbstractContextManager[None]:
        return translated(key, f"bucket {self.bucket!r}", self.setting)

    def verify(self) -> None:
        """Raise ConfigurationError unless the bucket exists and this role may use it."""
        with self._translated():
            try:
                self._s3.head_bucket(Bucket=self.bucket)
            except ClientError as err:
                if error_code(err) in ("404", "NotFound"):  # HEAD has no body: a bare 404
                    raise missing(f"bucket {self.bucket!r}", self.setting) from err
                raise

    @property
    def _s3(self):  # type: ignore[no-untyped-def]
        return self._clients.client("s3")

    def put_bytes(
        self, key: str, data: bytes, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> None:
        with self._translated(key):
            self._s3.put_object(Bucket=self.bucket, Key=key, Body=data, **_headers(metadata, content_type))

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as stream:
            return stream.read()

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        with self._translated(key):
            body = self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        try:
            with self._translated(key):
                # A real buffered file: line iteration and readline work, as on a local file.
                yield io.BufferedReader(_BodyReader(body), buffer_size=1 << 20)  # type: ignore[arg-type]
        finally:
            body.close()

    @contextlib.contextmanager
    def open_write(
        self, key: str, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> Iterator[BinaryIO]:
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            yield spool  # type: ignore[misc]
            spool.seek(0)
            with self._translated(key):
                self._s3.upload_fileobj(spool, self.bucket, key, ExtraArgs=_headers(metadata, content_type))

    def head(self, key: str) -> ObjectInfo:
        try:
            with self._translated(key):
                answer = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ObjectNotFound:
            # S3 answers a HEAD on a missing bucket with the same bare 404 as a missing key.
            self.verify()
            raise
        return ObjectInfo(
            key=key,
            size=int(answer["ContentLength"]),
            last_modified=answer["LastModified"],
            metadata=dict(answer.get("Metadata") or {}),
            version=str(answer.get("ETag", "")).strip('"'),
            content_type=str(answer.get("ContentType") or ""),
        )

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except KeyError:
            return False
        return True

    def delete(self, key: str) -> None:
        with self._translated(key):
            self._s3.delete_object(Bucket=self.bucket, Key=key)

    def earlier_versions(self, key: str) -> int:
        return len(self._earlier(key))

    def purge_versions(self, key: str) -> int:
        """Each noncurrent version and delete marker of ``key`` deleted by its version id
        (deleting a version is permanent; the bucket's noncurrent-version expiry would take
        days)."""
        earlier = self._earlier(key)
        with self._translated(key):
            for version_id in earlier:
                self._s3.delete_object(Bucket=self.bucket, Key=key, VersionId=version_id)
        return len(earlier)

    def _earlier(self, key: str) -> list[str]:
        """The version ids of ``key``'s noncurrent versions and delete markers."""
        found = []
        paginator = self._s3.get_paginator("list_object_versions")
        with self._translated(key):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=key):
                for entry in [*page.get("Versions", []), *page.get("DeleteMarkers", [])]:
                    current = entry.get("IsLatest") and "Size" in entry  # the current object, not a marker
                    if entry["Key"] == key and not current:
                        found.append(str(entry["VersionId"]))
        return found

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        for info in self.list_objects(prefix):
            yield info.key

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        paginator = self._s3.get_paginator("list_objects_v2")
        with self._translated(prefix):
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield ObjectInfo(
                        key=item["Key"],
                        size=int(item["Size"]),
                        last_modified=item["LastModified"],
                        version=str(item.get("ETag", "")).strip('"'),  # changes with every PUT's content
                    )


def _headers(metadata: Mapping[str, str] | None, content_type: str | None) -> dict[str, Any]:
    headers: dict[str, Any] = {"Metadata": dict(metadata or {})}
    if content_type:
        headers["ContentType"] = content_type
    return headers


class _BodyReader(io.RawIOBase):
    """botocore's StreamingBody as a raw stream (its own iteration yields chunks, not lines)."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)
