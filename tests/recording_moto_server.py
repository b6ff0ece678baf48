"""A moto server in this process that records the S3 requests of clients other than boto3.

pyarrow's S3 client (which pyiceberg writes and reads the analytics tables' files with) speaks
HTTP from C++: neither in-process moto nor ``tests.iam_policy.recorded_calls`` sees it. Pointed
at this server, its requests are served from the same moto state as ``mock_aws`` (one process,
one set of backends) and recorded as the S3 operations they are, for the IAM map to judge like
any boto3 call. boto3's own requests (recorded where they are made) are left out.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, unquote

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

Call = tuple[str, str, dict[str, Any]]


def s3_operation(method: str, path: str, query: str) -> Call:
    """A path-style S3 request as (service, operation, parameters), as boto3 would name it."""
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    params = parse_qs(query, keep_blank_values=True)
    if not key:
        listing = "ListObjectsV2" if "list-type" in params else "ListObjects"
        listing = "ListObjectVersions" if "versions" in params else listing
        return "s3", {"HEAD": "HeadBucket", "GET": listing}[method], {"Bucket": bucket}
    if method == "PUT":
        operation = "UploadPart" if "partNumber" in params else "PutObject"
    elif method == "POST":
        operation = "CreateMultipartUpload" if "uploads" in params else "CompleteMultipartUpload"
    elif method == "DELETE":
        operation = "AbortMultipartUpload" if "uploadId" in params else "DeleteObject"
        if "versionId" in params:
            return "s3", operation, {"Bucket": bucket, "Key": key, "VersionId": params["versionId"][0]}
    else:
        operation = {"GET": "GetObject", "HEAD": "HeadObject"}[method]
    return "s3", operation, {"Bucket": bucket, "Key": key}


class _Recording(ThreadedMotoServer):
    def __init__(self, calls: list[Call]) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.calls = calls

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)

        def recording(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            if "botocore" not in environ.get("HTTP_USER_AGENT", ""):
                method, path = environ["REQUEST_METHOD"], environ["PATH_INFO"]
                self.calls.append(s3_operation(method, path, environ.get("QUERY_STRING", "")))
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, recording, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()


@contextlib.contextmanager
def recording_s3_server() -> Iterator[tuple[str, list[Call]]]:
    """(the server's URL, the S3 calls it served to non-boto3 clients so far)."""
    calls: list[Call] = []
    server = _Recording(calls)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}", calls
    finally:
        server.stop()
