"""How much of a raw file is processed at a time. Its own module, free of the data libraries,
so that the settings of every entrypoint (the API's included) can name the default."""

from __future__ import annotations

DEFAULT_CHUNK_BYTES = 10 * 1024 * 1024  # about 12,500 records; bounds memory per batch
