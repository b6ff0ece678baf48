"""An Iceberg table's files: those its metadata still refers to, and those under its location
that nothing refers to any more (what ``IcebergTables.tidy`` deletes).

Listing and deleting go through the table's own pyarrow filesystem (local disk, or S3 with the
catalog's endpoint and credentials), so the same code serves both catalogs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyarrow.fs import FileSystem
    from pyiceberg.table import Table


@dataclass(frozen=True)
class StoredFile:
    path: str  # the filesystem's path (``bucket/key`` on S3)
    size: int
    written: datetime


def referenced(iceberg: Table) -> set[str]:
    """The paths of every file a snapshot still kept needs, and of the metadata files the
    table's log names (each manifest read once, however many snapshots share it)."""
    io, metadata = iceberg.io, iceberg.metadata
    uris = {iceberg.metadata_location, *(entry.metadata_file for entry in metadata.metadata_log)}
    seen: set[str] = set()
    for snapshot in metadata.snapshots:
        uris.add(snapshot.manifest_list)
        for manifest in snapshot.manifests(io):
            uris.add(manifest.manifest_path)
            if manifest.manifest_path in seen:
                continue
            seen.add(manifest.manifest_path)
            uris.update(entry.data_file.file_path for entry in manifest.fetch_manifest_entry(io, discard_deleted=True))
    return {_path(uri) for uri in uris}


def stored(iceberg: Table) -> Iterator[StoredFile]:
    """Every file under the table's location."""
    from pyarrow.fs import FileSelector, FileType

    filesystem, root = filesystem_of(iceberg)
    for info in filesystem.get_file_info(FileSelector(root, recursive=True, allow_not_found=True)):
        if info.type == FileType.File and info.mtime is not None:
            yield StoredFile(info.path, int(info.size or 0), info.mtime)


def filesystem_of(iceberg: Table) -> tuple[FileSystem, str]:
    """The table's filesystem, and its location's path on it."""
    from pyiceberg.io.pyarrow import PyArrowFileIO

    io = iceberg.io
    if not isinstance(io, PyArrowFileIO):
        raise TypeError(f"the table's files are read by {type(io).__name__}, not pyarrow: cannot list them")
    scheme, netloc, path = PyArrowFileIO.parse_location(iceberg.location(), io.properties)
    return io.fs_by_scheme(scheme, netloc), path.rstrip("/")


def _path(uri: str) -> str:
    from pyiceberg.io.pyarrow import PyArrowFileIO

    return PyArrowFileIO.parse_location(uri)[2]
