"""A bucket as a folder. Writes are atomic (a temporary file, then a rename)."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import BinaryIO

from application.errors import ObjectNotFound
from application.ports import ObjectInfo

_TMP_PREFIX = ".tmp-"
_META_DIR = ".meta"

OnCreated = Callable[[str, str, int], None]


class FolderObjectStore:
    """Objects are files under ``root``; metadata lives in ``root/.meta``.

    ``on_created(bucket, key, size)`` is called after each new object, as S3 notifies.
    """

    def __init__(self, root: Path, bucket: str | None = None, on_created: OnCreated | None = None) -> None:
        self.root = Path(root)
        self.bucket = bucket or self.root.name
        self._on_created = on_created
        self.root.mkdir(parents=True, exist_ok=True)

    def verify(self) -> None:
        """Remove temporary files that killed processes left behind (the folder itself is
        created on first use, so nothing else can be missing)."""
        remove_abandoned_temporary_files(self.root)

    def _path(self, key: str, base: Path | None = None) -> Path:
        parts = key.split("/")
        if not key or key.startswith("/") or any(p in ("", ".", "..") for p in parts) or parts[0] == _META_DIR:
            raise ValueError(f"invalid object key: {key!r}")
        return (base or self.root).joinpath(*parts)

    def _meta_path(self, key: str) -> Path:
        return self._path(key, self.root / _META_DIR).with_name(key.rsplit("/", 1)[-1] + ".json")

    def put_bytes(
        self, key: str, data: bytes, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> None:
        with self.open_write(key, metadata, content_type) as sink:
            sink.write(data)

    def read_bytes(self, key: str) -> bytes:
        with self.open_read(key) as stream:
            return stream.read()

    @contextlib.contextmanager
    def open_read(self, key: str) -> Iterator[BinaryIO]:
        try:
            stream = self._path(key).open("rb")
        except FileNotFoundError as err:
            raise ObjectNotFound(key) from err
        with stream:
            yield stream

    @contextlib.contextmanager
    def open_write(
        self, key: str, metadata: Mapping[str, str] | None = None, content_type: str | None = None
    ) -> Iterator[BinaryIO]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name tells a live writer's file from an abandoned one.
        fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=path.parent)
        try:
            # Atomic against a crashed or killed process (rename); no fsync, so not against a
            # power cut: this is the single-machine adapter, and fsync was most of a small write.
            with os.fdopen(fd, "wb") as sink:
                yield sink
            if metadata or content_type:
                self._write_meta(key, metadata or {}, content_type)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        if self._on_created:
            self._on_created(self.bucket, key, path.stat().st_size)

    def _write_meta(self, key: str, metadata: Mapping[str, str], content_type: str | None) -> None:
        meta = self._meta_path(key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        # A name of its own per write, not per process: two threads of one worker may commit
        # the same key at once (a duplicate delivery), and a shared name made one fail.
        fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{os.getpid()}-", dir=meta.parent)
        with os.fdopen(fd, "w") as sink:
            sink.write(json.dumps({"metadata": dict(metadata), "content_type": content_type}))
        os.replace(tmp, meta)

    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            stat = path.stat()
        except FileNotFoundError as err:
            raise ObjectNotFound(key) from err
        meta_path = self._meta_path(key)
        sidecar = json.loads(meta_path.read_text()) if meta_path.exists() else {"metadata": {}}
        if "metadata" not in sidecar:  # written before content types were kept: metadata alone
            sidecar = {"metadata": sidecar}
        return _info(key, stat, sidecar["metadata"], sidecar.get("content_type") or "")

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def delete(self, key: str) -> None:
        for path in (self._path(key), self._meta_path(key)):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def earlier_versions(self, key: str) -> int:
        return 0

    def purge_versions(self, key: str) -> int:
        """A folder keeps no versions: a replaced file is gone."""
        return 0

    def list_objects(self, prefix: str = "") -> Iterator[ObjectInfo]:
        for key in self.list_keys(prefix):
            with contextlib.suppress(FileNotFoundError):  # deleted since it was listed
                yield _info(key, self._path(key).stat())

    def list_keys(self, prefix: str = "") -> Iterator[str]:
        # Walk only the folder the prefix names, then filter on the rest of it.
        folder, _, _ = prefix.rpartition("/")
        start = self.root.joinpath(*folder.split("/")) if folder else self.root
        keys = []
        for dirpath, dirnames, filenames in os.walk(start):
            if Path(dirpath) == self.root and _META_DIR in dirnames:
                dirnames.remove(_META_DIR)
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith(_TMP_PREFIX):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        yield from sorted(keys)


def _info(key: str, stat: os.stat_result, metadata: dict[str, str] | None = None, content_type: str = "") -> ObjectInfo:
    # A write replaces the file by a rename: a new inode and modification time, so a new version.
    version = f"{stat.st_mtime_ns:x}-{stat.st_ino:x}-{stat.st_size:x}"
    modified = datetime.fromtimestamp(stat.st_mtime, timezone.utc)
    return ObjectInfo(key, stat.st_size, modified, metadata or {}, version, content_type)


def _writer_alive(name: str) -> bool:
    pid = name[len(_TMP_PREFIX) :].split("-", 1)[0]
    if not pid.isdigit():
        return False  # written before names carried a pid
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


def remove_abandoned_temporary_files(root: Path) -> list[Path]:
    """Delete ``.tmp-*`` files whose writing process no longer runs; returns them."""
    removed = []
    for dirpath, _, filenames in os.walk(root):
        for name in filenames:
            if name.startswith(_TMP_PREFIX) and not _writer_alive(name):
                path = Path(dirpath) / name
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    removed.append(path)
    return removed
