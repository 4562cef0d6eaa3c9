"""The artifact store: model files (and other large files) on a local folder or any
fsspec URL (``s3://bucket/prefix`` for S3-compatible storage, ``gs://``, ``abfs://``...).

Reads and writes stream in chunks, so files of several GB go through in bounded memory;
every write is hashed (SHA-256) on the way in.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec

from ..core.paths import contained, safe_relpath

CHUNK = 1024 * 1024


@dataclass
class Written:
    path: str
    size: int
    sha256: str


class ArtifactStore:
    """Files under ``base_url``; ``options`` go to the fsspec filesystem (``endpoint_url``,
    ``key``, ``secret``... for S3)."""

    def __init__(self, base_url: str, options: dict[str, Any] | None = None) -> None:
        if "://" not in base_url:
            base_url = Path(base_url).resolve().as_uri()
        self.base_url = base_url.rstrip("/")
        self.options = dict(options or {})
        self.fs, self.root = fsspec.core.url_to_fs(self.base_url, **self.options)
        if self.protocol == "file":
            self.fs.makedirs(self.root, exist_ok=True)

    @property
    def protocol(self) -> str:
        proto = self.fs.protocol
        return proto if isinstance(proto, str) else proto[0]

    def url(self, key: str) -> str:
        return f"{self.base_url}/{key}"

    def _path(self, key: str) -> str:
        """Where ``key`` is: checked by the one containment rule (``core.paths``), never
        normalised, so no key reaches outside the store (nor, on a local folder, out
        through a symbolic link). :class:`InvalidInput` (a ``ValueError``) otherwise."""
        if self.protocol == "file":
            return str(contained(self.root, key, what="key"))
        return f"{self.root.rstrip('/')}/{safe_relpath(key, what='key')}"

    def prefix_bytes(self, prefix: str) -> int:
        """Bytes of the objects under ``prefix`` (a listing: one request per page of
        keys on an object store); 0 when there are none. Blocking: run it in a thread."""
        path = self._path(prefix)
        try:
            if not self.fs.exists(path):
                return 0
            return int(self.fs.du(path, total=True, withdirs=False))
        except FileNotFoundError:
            return 0

    def open_write(self, key: str) -> Any:
        path = self._path(key)
        if self.protocol == "file":
            self.fs.makedirs(posixpath.dirname(path), exist_ok=True)
        return self.fs.open(path, "wb", block_size=8 * CHUNK)

    def write_stream(self, key: str, chunks: Iterator[bytes]) -> Written:
        digest = hashlib.sha256()
        size = 0
        with self.open_write(key) as f:
            for chunk in chunks:
                digest.update(chunk)
                size += len(chunk)
                f.write(chunk)
        return Written(key, size, digest.hexdigest())

    def copy_in(self, source: Path, key: str) -> Written:
        """Stream a local file into the store."""

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        return self.write_stream(key, chunks())

    def open_read(self, key: str) -> Any:
        return self.fs.open(self._path(key), "rb", block_size=8 * CHUNK)

    def read_chunks(self, key: str) -> Iterator[bytes]:
        with self.open_read(key) as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def exists(self, key: str) -> bool:
        return bool(self.fs.exists(self._path(key)))

    def move(self, source: str, key: str) -> None:
        """Put the file at ``source`` (a key) at ``key``, replacing what is there."""
        src, dst = self._path(source), self._path(key)
        if self.protocol == "file":
            self.fs.makedirs(posixpath.dirname(dst), exist_ok=True)
            os.replace(src, dst)
        else:
            self.fs.mv(src, dst)

    def delete(self, key: str) -> None:
        """Remove the file at ``key`` if it is there."""
        path = self._path(key)
        try:
            self.fs.rm_file(path)
        except FileNotFoundError:
            pass

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)

    def local_copy(self, prefix: str, cache_dir: Path) -> Path:
        """A local folder holding ``prefix``'s files (the folder itself on a local store)."""
        path = self._path(prefix)
        if self.protocol == "file":
            return Path(path)
        target = cache_dir / prefix
        if not target.exists():
            tmp = target.with_name(target.name + ".partial")
            self.fs.get(path.rstrip("/") + "/", str(tmp) + "/", recursive=True)
            tmp.rename(target)
        return target
