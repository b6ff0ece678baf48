"""The analytics tables on Iceberg in each catalog the tests run them in: a SQLite catalog
(one machine) and the Glue Data Catalog of a stack on the moto server (pyarrow's S3 client
writes the files over HTTP, which in-process moto cannot intercept)."""

from __future__ import annotations

import urllib.request
from pathlib import Path

from adapters.aws.glue_iceberg_catalog import glue_catalog
from adapters.aws.session import AwsClients
from adapters.iceberg_tables import IcebergTables
from adapters.local.iceberg_catalog import sqlite_catalog
from tests.integration.aws_stack import AwsStack, create_stack


def local_tables(folder: Path, **options: int) -> IcebergTables:
    return IcebergTables(sqlite_catalog(str(folder / "catalog.sqlite"), str(folder / "warehouse")), **options)


def glue_tables(stack: AwsStack, **options: int) -> IcebergTables:
    catalog = glue_catalog(AwsClients(), stack.cleaned_bucket)
    return IcebergTables(catalog, namespace=stack.analytics_database, creates_namespace=False, **options)


def fresh_glue_stack(moto_server: str) -> AwsStack:
    """A fresh stack on the moto server; its Glue database made by the stack, as the template's is."""
    urllib.request.urlopen(urllib.request.Request(f"{moto_server}/moto-api/reset", method="POST"))  # nosec B310: loopback moto
    return create_stack(endpoint_url=moto_server)
