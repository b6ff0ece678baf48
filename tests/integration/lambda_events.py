"""A realistic API Gateway REST API proxy event (payload format 1.0)."""

from __future__ import annotations

import base64
from typing import Any


def api_gateway_event(
    body: bytes, path: str = "/service-records", method: str = "POST", base64_body: bool = False, key: str = ""
) -> dict[str, Any]:
    """``key`` goes in ``x-api-key`` (and the request context), as API Gateway forwards it."""
    headers = {
        "Accept": "*/*",
        "Content-Type": "application/json",
        "Host": "abc123.execute-api.ap-southeast-3.amazonaws.com",
        "User-Agent": "dealer-dms/4.2",
        "X-Amzn-Trace-Id": "Root=1-67891233-abcdef012345678912345678",
        "x-api-key": key,
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Port": "443",
        "X-Forwarded-Proto": "https",
    }
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "2gxmpl",
            "resourcePath": path,
            "httpMethod": method,
            "extendedRequestId": "JJbxmHc1oAMFTfA=",
            "requestTime": "25/Nov/2026:12:00:00 +0000",
            "path": f"/prod{path}",
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": "prod",
            "domainPrefix": "abc123",
            "requestTimeEpoch": 1795608000000,
            "requestId": "e0f2b1a4-7c9d-4d7e-9a55-3d2b8f0c1e11",
            "identity": {
                "sourceIp": "203.0.113.7",
                "userAgent": "dealer-dms/4.2",
                "apiKeyId": "k9x8y7",
                "apiKey": key,
            },
            "domainName": "abc123.execute-api.ap-southeast-3.amazonaws.com",
            "apiId": "abc123",
        },
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8", "replace"),
        "isBase64Encoded": base64_body,
    }


class LambdaContext:
    function_name = "servicepipe-api"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:ap-southeast-3:123456789012:function:servicepipe-api"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 29_000
