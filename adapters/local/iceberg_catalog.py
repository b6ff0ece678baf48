"""The analytics tables' catalog on one machine: pyiceberg's SQL catalog in a SQLite file,
its tables' files in a folder (the local cleaned zone's ``iceberg/``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.catalog.sql import SqlCatalog


def sqlite_catalog(catalog_path: str, warehouse_dir: str) -> SqlCatalog:
    from pyiceberg.catalog.sql import SqlCatalog

    Path(catalog_path).parent.mkdir(parents=True, exist_ok=True)
    warehouse = Path(warehouse_dir).resolve()
    warehouse.mkdir(parents=True, exist_ok=True)
    return SqlCatalog("servicepipe", uri=f"sqlite:///{Path(catalog_path).resolve()}", warehouse=warehouse.as_uri())
