"""A folder of artifacts, wherever it is: a run's local artifacts folder, or a prefix of
the artifact store (a local folder or S3). What the MLflow artifacts proxy reads and
writes; every path passes the one containment rule (``core.paths``).
"""

from __future__ import annotations

import os
import posixpath
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..core.paths import contained, safe_relpath
from .artifacts import CHUNK, ArtifactStore, Written


@dataclass
class Entry:
    path: str  # relative to the folder
    is_dir: bool
    size: int | None


class Folder(Protocol):
    def listing(self, rel: str) -> list[Entry]: ...
    def files(self) -> list[Entry]: ...
    def is_file(self, rel: str) -> bool: ...
    def read_chunks(self, rel: str) -> Iterator[bytes]: ...
    def write_stream(self, rel: str, chunks: Iterator[bytes]) -> Written: ...


class LocalFolder:
    """A folder on this machine (a run's artifacts on the local backend)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def listing(self, rel: str) -> list[Entry]:
        base = contained(self.root, rel) if rel else self.root
        if not base.is_dir():
            return []
        out = []
        for p in sorted(base.iterdir()):
            if p.name.startswith(".upload-"):
                continue
            r = str(p.relative_to(self.root))
            out.append(Entry(r, p.is_dir(), None if p.is_dir() else p.stat().st_size))
        return out

    def files(self) -> list[Entry]:
        if not self.root.is_dir():
            return []
        return [
            Entry(str(p.relative_to(self.root)), False, p.stat().st_size)
            for p in sorted(self.root.rglob("*"))
            if p.is_file() and not p.name.startswith(".upload-")
        ]

    def is_file(self, rel: str) -> bool:
        return contained(self.root, rel).is_file()

    def read_chunks(self, rel: str) -> Iterator[bytes]:
        with contained(self.root, rel).open("rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk

    def write_stream(self, rel: str, chunks: Iterator[bytes]) -> Written:
        import hashlib

        target = contained(self.root, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.parent / f".upload-{uuid.uuid4().hex}"
        digest, size = hashlib.sha256(), 0
        try:
            with tmp.open("wb") as f:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    f.write(chunk)
            os.replace(tmp, contained(self.root, rel))  # checked again: links on the way
        finally:
            tmp.unlink(missing_ok=True)
        return Written(rel, size, digest.hexdigest())


class StoreFolder:
    """A prefix of the artifact store (local folder or an fsspec URL such as S3)."""

    def __init__(self, store: ArtifactStore, prefix: str) -> None:
        self.store = store
        self.prefix = prefix.strip("/")

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{safe_relpath(rel)}" if rel else self.prefix

    def listing(self, rel: str) -> list[Entry]:
        path = self.store._path(self._key(rel))
        fs: Any = self.store.fs
        try:
            found = fs.ls(path, detail=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        out = []
        root = self.store._path(self.prefix).rstrip("/")
        for info in sorted(found, key=lambda i: i["name"]):
            name = str(info["name"]).rstrip("/")
            if name == path.rstrip("/"):
                continue
            r = posixpath.relpath(name, root)
            is_dir = info.get("type") == "directory"
            out.append(Entry(r, is_dir, None if is_dir else int(info.get("size") or 0)))
        return out

    def files(self) -> list[Entry]:
        root = self.store._path(self.prefix).rstrip("/")
        fs: Any = self.store.fs
        if not fs.exists(root):
            return []
        found = fs.find(root, detail=True)
        return [
            Entry(posixpath.relpath(str(name), root), False, int(info.get("size") or 0))
            for name, info in sorted(found.items())
        ]

    def is_file(self, rel: str) -> bool:
        fs: Any = self.store.fs
        return bool(fs.isfile(self.store._path(self._key(rel))))

    def read_chunks(self, rel: str) -> Iterator[bytes]:
        return self.store.read_chunks(self._key(rel))

    def write_stream(self, rel: str, chunks: Iterator[bytes]) -> Written:
        written = self.store.write_stream(self._key(rel), chunks)
        return Written(rel, written.size, written.sha256)


def copy_files(source: Folder, target: Folder) -> list[Written]:
    """Every file of ``source`` into ``target`` (streamed), in path order."""
    return [target.write_stream(e.path, source.read_chunks(e.path)) for e in source.files()]
