"""The pseudonym key in a file of the data folder, made on first use (readable by its owner only)."""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from pathlib import Path

KEY_BYTES = 32


class KeyFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def key(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError:
            pass
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Written whole under another name, then linked: of two processes making it at once,
        # one key wins and both read it whole.
        handle, draft = tempfile.mkstemp(dir=self.path.parent, prefix=".key-")  # mode 0600
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(secrets.token_bytes(KEY_BYTES))
            with contextlib.suppress(FileExistsError):  # another process's key won: it is read below
                os.link(draft, self.path)
        finally:
            os.unlink(draft)
        return self.path.read_bytes()
