"""The analytics tables' catalog on AWS: pyiceberg's Glue catalog (the tables Athena queries,
in the stack's analytics database), its tables' files under ``iceberg/`` in the cleaned bucket.

Catalog calls go through the process's boto3 client for Glue (``AwsClients``: its region,
retries and ``AWS_ENDPOINT_URL_GLUE``); data and metadata files through pyarrow's S3 client,
which takes the same credentials from the environment or the task's role. Its region is
always given: without one pyiceberg asks S3 where the bucket is, a call a moto server cannot
answer and a role need not allow.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.catalog.glue import GlueCatalog

    from adapters.aws.session import AwsClients

WAREHOUSE_PREFIX = "iceberg"


def glue_catalog(aws: AwsClients, cleaned_bucket: str) -> GlueCatalog:
    from pyiceberg.catalog.glue import GlueCatalog

    glue = aws.client("glue")
    properties = {
        "warehouse": f"s3://{cleaned_bucket}/{WAREHOUSE_PREFIX}",
        "s3.region": glue.meta.region_name,
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:  # a moto server (or another S3-compatible endpoint)
        properties["s3.endpoint"] = endpoint
    return GlueCatalog("servicepipe", client=glue, **properties)
