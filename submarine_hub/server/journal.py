"""A session's write-ahead journal of saves (the task that pushes it to the platform is
:mod:`.journal_push`).

A save in a session is acknowledged once its version record is in the journal: the
file's bytes as written, where (space and path), when and by whom. The journal is an
append-only log (segments of a few MiB): a record is appended with its length and CRC,
then ``fdatasync``'d while the file itself is written, both before the save returns, so
a kill -9, or a power cut, right after the acknowledgement loses nothing; a torn record
at a segment's end (a save that was never acknowledged) is ignored. A large file saved
again is stored as the span that changed since its previous record. Next to each
segment, ``<segment>.done`` lists the records the platform has; a segment whose records
are all done is deleted.

``JournalPusher`` (in :mod:`.journal_push`) runs on the server's event loop and sends
the records to the platform in the order they were saved, deriving each one's manifest
and parts (content addressing) then. While the platform cannot be reached, saves go on
being acknowledged and the push retries with backoff; records left when the server stops
are replayed when it starts again.

Delivery is at least once, made exactly once where it matters: each record carries an
id, sent as the save's idempotency key, and the platform answers a key it has with the
version that key made, so a record that may have reached the platform already (replayed
after a crash, or whose answer was lost) is simply sent again: a replay costs one request
per record. (Records journaled before ids existed are looked for in the file's history.) A record
the platform refuses as a conflict (another version came in while it was queued: a
restore from the CLI, another server) is recorded on top, with a message saying so,
never dropped. One the platform refuses for good (4xx) is copied to ``failed/`` in the
journal with the reason, and logged as an error.

Each server of a user journals in its own folder (``<journal>/<server name>``), locked
with ``flock`` while it runs; at start it also adopts folders no live server holds (a
server that was deleted with records left), so those reach history too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

LOCK = ".lock"
FAILED = "failed"
SEGMENT = ".log"
DONE = ".done"
SEGMENT_BYTES = 4 * 1024 * 1024  # a new segment after this much
DELTA_MIN = 16 * 1024  # a record this large may be stored as a change to the previous one
DELTA_BLOCK = 1024  # the granularity of the common prefix and suffix of such a change
TAILS = 16  # files whose last record's content is kept, to store the next as a change
CONTENTS = 8  # records' contents kept once rebuilt (the push reads them in order)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournalError(RuntimeError):
    """The journal could not keep a record (the save is not acknowledged)."""


@dataclass(frozen=True)
class Slot:
    """Where a record's stored bytes are: its segment, their offset and length."""

    segment: Path
    offset: int
    length: int


@dataclass
class Entry:
    """One save (or deletion) waiting in the journal."""

    header: dict[str, Any]
    # it may have reached the platform already: replayed after a restart, or sent and
    # its answer lost; such a record is looked for in history before it is sent again
    maybe_sent: bool = False
    done: asyncio.Future[bool] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def seq(self) -> int:
        return self.header["seq"]

    @property
    def key(self) -> tuple[str, str]:
        return self.header["space"], self.header["path"]


@dataclass
class _Segment:
    pending: int = 0  # records in it the platform does not have yet


def _common(a: bytes, b: bytes) -> tuple[int, int]:
    """Lengths (whole blocks) of a common prefix and a common suffix of ``a`` and ``b``,
    not overlapping."""
    n, block = min(len(a), len(b)), DELTA_BLOCK
    prefix = 0
    while prefix + block <= n and a[prefix : prefix + block] == b[prefix : prefix + block]:
        prefix += block
    suffix, room, la, lb = 0, n - prefix, len(a), len(b)
    while suffix + block <= room and (
        a[la - suffix - block : la - suffix] == b[lb - suffix - block : lb - suffix]
    ):
        suffix += block
    return prefix, suffix


class JournalFolder:
    """The journal on disk. Blocking calls, thread-safe: run them in a thread.

    A record of a large file saved again is stored as its change to the file's previous
    record in the same segment (a common prefix and suffix kept, the middle written), so
    saving one cell of a notebook with a big image appends kilobytes, not the image."""

    def __init__(self, root: Path, name: str, *, fsync: bool = True) -> None:
        self.root = root
        self.name = name or "default"
        self.fsync = fsync
        self.folder = root / self.name
        self._locks: dict[Path, int] = {}  # folder -> fd holding its flock
        self._segments: dict[Path, _Segment] = {}
        self._records: dict[int, tuple[dict[str, Any], Slot]] = {}  # of live segments
        # per file: its last record in the active segment (number and content), the base
        # of the next record's change
        self._tails: OrderedDict[tuple[str, str], tuple[int, bytes]] = OrderedDict()
        self._contents: OrderedDict[int, bytes] = OrderedDict()  # records rebuilt lately
        self._active: Path | None = None
        self._fd = -1
        self._size = 0
        self._last = 0
        self._mutex = threading.Lock()
        self._syncer: ThreadPoolExecutor | None = None

    # --- opening and replay ---------------------------------------------------------------
    def _lock(self, folder: Path) -> bool:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._locks[folder] = fd
        return True

    def open(self) -> list[dict[str, Any]]:
        """Lock this server's folder, adopt orphaned ones, start a new segment; the headers
        of the records waiting in the journal, oldest first."""
        self.root.mkdir(parents=True, exist_ok=True)
        if not self._lock(self.folder):  # another live process journals under this name
            self.folder = self.root / f"{self.name}.{os.getpid()}"
            if not self._lock(self.folder):
                raise RuntimeError(f"Could not lock a journal folder in {self.root}")
        found: list[dict[str, Any]] = []
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if folder != self.folder and not self._lock(folder):
                continue  # a live server's own
            found += self._load(folder)
        for folder in list(self._locks):
            self._release_if_drained(folder)
        found.sort(key=lambda h: h["seq"])
        if found:
            self._last = max(self._last, found[-1]["seq"])
        self._new_segment()
        return found

    def _load(self, folder: Path) -> list[dict[str, Any]]:
        found = []
        for done_file in folder.glob(f"*{SEGMENT}{DONE}"):
            if not done_file.with_suffix("").exists():  # its segment was deleted
                done_file.unlink(missing_ok=True)
        for segment in sorted(folder.glob(f"*{SEGMENT}")):
            records, done = self._parse(segment), self._done(segment)
            waiting = [h for h, _ in records if h["seq"] not in done]
            if waiting:
                self._segments[segment] = _Segment(pending=len(waiting))
                self._records.update((h["seq"], (h, slot)) for h, slot in records)
                found += waiting
            else:
                segment.unlink(missing_ok=True)
                segment.with_name(segment.name + DONE).unlink(missing_ok=True)
        return found

    @staticmethod
    def _done(segment: Path) -> set[int]:
        with contextlib.suppress(FileNotFoundError):
            text = segment.with_name(segment.name + DONE).read_text()
            return {int(x) for x in text.split() if x.isdigit()}
        return set()

    @staticmethod
    def _parse(segment: Path) -> list[tuple[dict[str, Any], Slot]]:
        """The whole records of a segment; a torn one at its end (a crash in the middle of
        an append: a save never acknowledged) ends it."""
        data = segment.read_bytes()
        records, pos = [], 0
        while pos < len(data):
            eol = data.find(b"\n", pos)
            try:
                header = json.loads(data[pos:eol]) if eol >= 0 else None
            except ValueError:
                header = None
            if not isinstance(header, dict) or not isinstance(header.get("length"), int):
                break
            start = eol + 1
            end = start + header["length"]
            if data[end : end + 1] != b"\n" or zlib.crc32(data[start:end]) != header.get("crc"):
                break
            records.append((header, Slot(segment, start, header["length"])))
            pos = end + 1
        return records

    # --- appending ------------------------------------------------------------------------
    def next_seq(self) -> int:
        """A record's number: microseconds since the epoch, strictly increasing, so numbers
        order records by time across folders."""
        self._last = max(time.time_ns() // 1000, self._last + 1)
        return self._last

    def _new_segment(self) -> None:
        """Start a segment (under the mutex, or before any write)."""
        previous = self._active
        if self._fd >= 0:
            if self.fsync:  # what was appended to it, before it is let go
                os.fdatasync(self._fd)
            os.close(self._fd)
        stamp = time.time_ns() // 1000
        while True:
            path = self.folder / f"{stamp:019d}{SEGMENT}"
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
                break
            except FileExistsError:
                stamp += 1
        if self.fsync:
            _fsync_dir(self.folder)
        self._active, self._fd, self._size = path, fd, 0
        self._segments[path] = _Segment()
        self._tails.clear()  # a change is stored against a record of the same segment
        if previous is not None:
            self._drop_if_drained(previous)

    def write(
        self,
        header: dict[str, Any],
        data: bytes,
        meanwhile: Callable[[], None] | None = None,
    ) -> Slot:
        """Append a record (``header`` has its ``seq``, ``space`` and ``path``) and make it
        durable. ``meanwhile`` (the file's own write) runs once the record is appended,
        while it is synced to disk: one wait for both. If it fails, the record is taken
        back. Errors of the journal itself are :class:`JournalError`."""
        try:
            slot = self._append(header, data)
        except OSError as e:
            raise JournalError(f"Could not append to the journal in {self.folder}: {e}") from e
        syncing = None
        if self.fsync:
            if self._syncer is None:
                self._syncer = ThreadPoolExecutor(1, thread_name_prefix="journal-sync")
            syncing = self._syncer.submit(self._sync, slot)
        try:
            if meanwhile is not None:
                meanwhile()
        except BaseException:
            if syncing is not None:
                with contextlib.suppress(OSError):
                    syncing.result()
            self.discard(header["seq"])
            raise
        if syncing is not None:
            try:
                syncing.result()
            except OSError as e:
                self.discard(header["seq"])
                raise JournalError(f"Could not sync the journal in {self.folder}: {e}") from e
        return slot

    def _append(self, header: dict[str, Any], data: bytes) -> Slot:
        key = (header["space"], header["path"])
        with self._mutex:
            if self._size >= SEGMENT_BYTES:
                self._new_segment()
            assert self._active is not None
            stored, change = data, {}
            tail = self._tails.get(key)
            if tail is not None and len(data) >= DELTA_MIN:
                base_seq, base = tail
                prefix, suffix = _common(base, data)
                if prefix + suffix >= len(data) // 2:
                    stored = data[prefix : len(data) - suffix]
                    change = {
                        "base": base_seq,
                        "prefix": prefix,
                        "suffix": suffix,
                        "size": len(data),
                        "full_crc": zlib.crc32(data),
                    }
            head = {**header, **change, "length": len(stored), "crc": zlib.crc32(stored)}
            line = json.dumps(head, ensure_ascii=False).encode() + b"\n"
            offset = self._size
            try:
                view = memoryview(b"".join((line, stored, b"\n")))
                while view:
                    view = view[os.write(self._fd, view) :]
            except OSError:
                with contextlib.suppress(OSError):
                    os.ftruncate(self._fd, offset)
                raise
            self._size += len(line) + len(stored) + 1
            self._segments[self._active].pending += 1
            slot = Slot(self._active, offset + len(line), len(stored))
            self._records[header["seq"]] = (head, slot)
            if header["action"] == "save":
                self._tails[key] = (header["seq"], data)
                self._tails.move_to_end(key)
                while len(self._tails) > TAILS:
                    self._tails.popitem(last=False)
            else:
                self._tails.pop(key, None)
            return slot

    def _sync(self, slot: Slot) -> None:
        """Make what is appended to ``slot``'s segment durable (a segment no longer
        written was synced when the next one started)."""
        with self._mutex:
            if slot.segment != self._active:
                return
            fd = os.dup(self._fd)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)

    # --- reading --------------------------------------------------------------------------
    @staticmethod
    def _read(slot: Slot) -> bytes:
        with open(slot.segment, "rb") as f:
            f.seek(slot.offset)
            return f.read(slot.length)

    def data(self, seq: int) -> bytes:
        """A record's content: the file's bytes as saved (rebuilt from its base records
        when it is stored as a change; ValueError if that fails its check)."""
        chain: list[tuple[dict[str, Any], Slot]] = []
        content = None
        with self._mutex:
            while content is None:  # back to a record at hand, or one stored whole
                content = self._contents.get(seq)
                if content is None:
                    header, slot = self._records[seq]
                    chain.append((header, slot))
                    if "base" not in header:
                        break
                    seq = header["base"]
        for header, slot in reversed(chain):
            stored = self._read(slot)
            if "base" not in header:
                content = stored
                continue
            assert content is not None
            content = b"".join(
                (content[: header["prefix"]], stored, content[len(content) - header["suffix"] :])
            )
            if len(content) != header["size"] or zlib.crc32(content) != header["full_crc"]:
                raise ValueError(f"record {header['seq']} does not rebuild from its base")
        assert content is not None
        with self._mutex:
            self._contents[chain[0][0]["seq"] if chain else seq] = content
            while len(self._contents) > CONTENTS:
                self._contents.popitem(last=False)
        return content

    # --- done with a record ---------------------------------------------------------------
    def remove(self, seq: int) -> None:
        """The platform has the record: mark it done (durably, so it is not sent twice)."""
        with self._mutex:
            _, slot = self._records[seq]
            with open(slot.segment.with_name(slot.segment.name + DONE), "a") as f:
                f.write(f"{seq}\n")
                f.flush()
                if self.fsync:
                    os.fdatasync(f.fileno())
            self._segments[slot.segment].pending -= 1
            self._drop_if_drained(slot.segment)

    def discard(self, seq: int) -> None:
        """Take back a record whose save failed before it was acknowledged."""
        self.remove(seq)

    def fail(self, seq: int, reason: str) -> Path:
        """Keep a record the platform refused, as a file of its own, with the reason."""
        header, slot = self._records[seq]
        try:
            content = self.data(seq)
        except ValueError as e:  # keep what there is
            content, reason = self._read(slot), f"{reason}; stored as a change: {e}"
        failed = slot.segment.parent / FAILED
        failed.mkdir(exist_ok=True)
        target = failed / f"{seq}.record"
        target.write_bytes(json.dumps(header).encode() + b"\n" + content)
        target.with_suffix(".reason").write_text(reason + "\n", encoding="utf-8")
        self.remove(seq)
        return target

    def _drop_if_drained(self, segment: Path) -> None:
        """Delete a segment no longer written whose records are all done (under the mutex)."""
        if segment == self._active or self._segments[segment].pending > 0:
            return
        del self._segments[segment]
        for seq in [q for q, (_, s) in self._records.items() if s.segment == segment]:
            del self._records[seq]
            self._contents.pop(seq, None)
        segment.unlink(missing_ok=True)
        segment.with_name(segment.name + DONE).unlink(missing_ok=True)
        self._release_if_drained(segment.parent)

    def _release_if_drained(self, folder: Path) -> None:
        """Let go of an adopted folder with nothing left to push (removed when empty)."""
        if folder == self.folder or folder not in self._locks:
            return
        if any(s.parent == folder for s in self._segments):
            return
        fd = self._locks.pop(folder)
        with contextlib.suppress(OSError):
            (folder / LOCK).unlink()
            folder.rmdir()
        os.close(fd)

    def close(self) -> None:
        """Let go of the journal (what is in it stays, for the next ``open``)."""
        with self._mutex:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1
            for folder in list(self._locks):
                os.close(self._locks.pop(folder))
            self._segments.clear()
            self._records.clear()
            self._tails.clear()
            self._contents.clear()
            self._active = None
            self.folder = self.root / self.name
        if self._syncer is not None:
            self._syncer.shutdown()
            self._syncer = None


def queued(folder: Path) -> list[dict[str, Any]]:
    """The headers of the records waiting in a journal folder, oldest first (diagnostics:
    reads the folder as it is, without locking it)."""
    found = []
    for segment in sorted(folder.glob(f"*{SEGMENT}")):
        with contextlib.suppress(FileNotFoundError):  # drained meanwhile
            done = JournalFolder._done(segment)
            found += [h for h, _ in JournalFolder._parse(segment) if h["seq"] not in done]
    return sorted(found, key=lambda h: h["seq"])
