"""The logs the local backend's processes write (a run's replicas, an endpoint's server),
as the service reads them."""

from __future__ import annotations

import os
from pathlib import Path


def read_slice(path: Path, offset: int, limit: int) -> bytes:
    """Up to ``limit`` bytes of the file ``path`` from ``offset``; b"" past its end, or
    when there is no such file (yet). Blocking: call it in a worker thread."""
    try:
        with open(path, "rb") as f:
            if offset >= os.fstat(f.fileno()).st_size:
                return b""  # past the end (seeking there may fail: EINVAL)
            f.seek(offset)
            return f.read(limit)
    except FileNotFoundError:
        return b""
