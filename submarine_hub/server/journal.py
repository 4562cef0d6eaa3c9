"""A session's write-ahead journal of saves, and the task that pushes it to the platform.

A save in a session is acknowledged once its version record is in the journal: the
file's bytes as written, where (space and path), when and by whom. The journal is an
append-only log (segments of a few MiB): a record is appended with its length and CRC,
then ``fdatasync``'d while the file itself is written, both before the save returns, so
a kill -9, or a power cut, right after the acknowledgement loses nothing; a torn record
at a segment's end (a save that was never acknowledged) is ignored. A large file saved
again is stored as the span that changed since its previous record. Next to each
segment, ``<segment>.done`` lists the records the platform has; a segment whose records
are all done is deleted.

``JournalPusher`` runs on the server's event loop and sends the records to the platform
in the order they were saved, deriving each one's manifest and parts (content
addressing) then. While the platform cannot be reached, saves go on being acknowledged
and the push retries with backoff; records left when the server stops are replayed when
it starts again.

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
import bisect
import contextlib
import fcntl
import json
import logging
import os
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from tornado import web

from ..client.client import SubmarineAPIError, error_message
from ..core import contentaddr
from ..core.errors import InvalidInput

if TYPE_CHECKING:
    from .contents import PlatformFiles

LOCK = ".lock"
FAILED = "failed"
SEGMENT = ".log"
DONE = ".done"
SEGMENT_BYTES = 4 * 1024 * 1024  # a new segment after this much
DELTA_MIN = 16 * 1024  # a record this large may be stored as a change to the previous one
DELTA_BLOCK = 1024  # the granularity of the common prefix and suffix of such a change
TAILS = 16  # files whose last record's content is kept, to store the next as a change
CONTENTS = 8  # records' contents kept once rebuilt (the push reads them in order)
# how far apart the session's and the service's clocks may be when a replayed record is
# looked for in history (versions created since it was saved)
CLOCK_SKEW = timedelta(seconds=5)
TRANSIENT = (401, 408, 425, 429)  # and every 5xx: retried, never dropped


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


class _Transient(Exception):
    """The platform could not be reached or could not answer: try again later."""


def _aware(iso: str) -> datetime:
    """A time from its ISO form; without an offset, UTC (the platform's times are UTC, and
    an older service on SQLite returned them without one), never the session's zone."""
    when = datetime.fromisoformat(iso)
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _decode(data: bytes, fmt: str) -> Any:
    """A record's content in the contents API's form (a notebook as Jupyter reads it:
    multi-line strings joined back, as the lab sends them)."""
    if fmt == "notebook":
        from nbformat.reader import reads

        return reads(data.decode("utf-8"))
    if fmt == "text":
        return data.decode("utf-8")
    import base64

    return base64.b64encode(data).decode()


def _split(data: bytes, fmt: str) -> tuple[dict[str, Any], dict[str, bytes]]:
    return contentaddr.split(_decode(data, fmt), fmt)


class JournalPusher:
    """Sends the journal's records to the platform, oldest first, from one task."""

    def __init__(
        self,
        disk: JournalFolder,
        platform: PlatformFiles,
        log: logging.Logger,
        *,
        retry_interval: float = 1.0,
        retry_max: float = 30.0,
    ) -> None:
        self.disk = disk
        self.platform = platform
        self.log = log
        self.retry_interval = retry_interval
        self.retry_max = retry_max
        self.pending: list[Entry] = []  # oldest first
        self.inflight: set[int] = set()  # numbers reserved by saves still being written
        # per (space, path): the version record the platform returned for our last push
        self.latest: dict[tuple[str, str], dict[str, Any]] = {}
        self.failures = 0  # consecutive transient failures
        self._wake = asyncio.Event()  # a record was added, or a save gave its name back
        self._urgent = asyncio.Event()  # someone waits for history: retry now
        self._failed: asyncio.Future[None] | None = None
        self._started: asyncio.Task[None] | None = None
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        """Open the journal (replaying what is in it) and start pushing; idempotent."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
        try:
            await asyncio.shield(self._started)
        except OSError as e:
            self._started = None  # the next save tries again
            raise web.HTTPError(
                500, f"Could not open the journal of saves in {self.disk.root}: {e}"
            ) from e

    async def _start(self) -> None:
        found = await asyncio.to_thread(self.disk.open)
        for header in found:  # entries are made on the loop: they hold futures
            self.pending.append(Entry(header, maybe_sent=True))
        if found:
            self.log.info("Replaying %d save(s) from the journal in %s", len(found), self.disk.root)
        self._task = asyncio.create_task(self._run(), name="submarine-journal-push")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await asyncio.to_thread(self.disk.close)
        self.pending.clear()  # still in the journal: a start reads them again
        self.inflight.clear()
        self._started = None

    # --- what saves call ----------------------------------------------------------------
    def reserve(self) -> int:
        """A number for a record about to be written; the push waits for it (order)."""
        seq = self.disk.next_seq()
        self.inflight.add(seq)
        return seq

    def commit(self, header: dict[str, Any]) -> Entry:
        """The record is on disk and its save acknowledged: push it."""
        entry = Entry(header)
        bisect.insort(self.pending, entry, key=lambda e: e.seq)
        self.inflight.discard(entry.seq)
        self._wake.set()
        return entry

    def abandon(self, seq: int) -> None:
        self.inflight.discard(seq)
        self._wake.set()

    def pending_for(self, key: tuple[str, str] | None = None) -> list[Entry]:
        return [e for e in self.pending if key is None or e.key == key]

    async def flush(self, key: tuple[str, str] | None = None, within: float = 10.0) -> bool:
        """Wait until the records of ``key`` (a space and path; all records if None) are
        with the platform: True, or False when it could not be reached (one retry, now)
        or ``within`` seconds passed."""
        waiting: set[asyncio.Future[Any]] = {e.done for e in self.pending_for(key)}
        if not waiting:
            return True
        self._urgent.set()
        self._wake.set()
        failed = self._next_failure()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while waiting and (remaining := deadline - loop.time()) > 0:
            done, _ = await asyncio.wait(
                {*waiting, failed}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
            )
            waiting -= done
            if failed in done:
                break
        return not waiting

    def _next_failure(self) -> asyncio.Future[None]:
        if self._failed is None or self._failed.done():
            self._failed = asyncio.get_running_loop().create_future()
        return self._failed

    # --- the push -----------------------------------------------------------------------
    def _head(self) -> Entry | None:
        if not self.pending:
            return None
        head = self.pending[0]
        if self.inflight and min(self.inflight) < head.seq:
            return None  # an earlier save is still being written: keep the order
        return head

    @staticmethod
    async def _wait(event: asyncio.Event, delay: float | None) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), delay)
        event.clear()

    async def _run(self) -> None:
        delay = 0.0
        while True:
            entry = self._head()
            if entry is None:
                self._urgent.clear()
                await self._wait(self._wake, None)
                continue
            try:
                await self._push(entry)
            except _Transient as e:
                self.failures += 1
                delay = self.retry_interval if self.failures == 1 else delay * 2
                delay = min(delay, self.retry_max)
                self.log.warning(
                    "Could not record %d queued save(s) with the platform (%s); they are "
                    "safe in the journal, retrying in %.0f s",
                    len(self.pending),
                    e,
                    delay,
                )
                if self._failed is not None and not self._failed.done():
                    self._failed.set_result(None)
                await self._wait(self._urgent, delay)
                continue
            except Exception:  # a bug: keep the record, do not spin
                self.log.exception("Could not push record %d of the journal", entry.seq)
                self.failures += 1
                if self._failed is not None and not self._failed.done():
                    self._failed.set_result(None)
                await self._wait(self._urgent, self.retry_max)
                continue
            if self.failures:
                self.log.info("The platform is reachable again; pushing queued saves")
                self.failures = 0

    async def _send(self, entry: Entry, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self.platform.client.send(method, path, **kw)
        except SubmarineAPIError as e:
            self._maybe_sent(entry, e)
            raise _Transient(e.message) from None

    @staticmethod
    def _maybe_sent(entry: Entry, error: SubmarineAPIError) -> None:
        # connecting failed: the request never left; anything else may have arrived
        if not isinstance(error.__cause__, (httpx.ConnectError, httpx.ConnectTimeout)):
            entry.maybe_sent = True

    async def _push(self, entry: Entry) -> None:
        space, path = entry.key
        if entry.header["action"] == "delete":
            resp = await self._send(
                entry, "DELETE", "files/content", params={"space": space, "path": path}
            )
            if resp.status_code == 404:  # never versioned, or already recorded
                return await self._done(entry, None)
            return await self._answered(entry, resp)

        fmt = entry.header["format"]
        try:
            # asyncio's threads, not anyio's: an anyio worker started from this endless
            # task would live as long as it, and keep the server's process from exiting
            data, (manifest, parts) = await asyncio.to_thread(self._read_split, entry.seq, fmt)
        except (ValueError, InvalidInput) as e:
            return await self._refused(entry, f"its content is not a valid {fmt}: {e}")
        # a record with an id is sent again as it is: the platform knows it by its key
        key = entry.header.get("id")
        look = entry.maybe_sent and not key  # older records: looked for in history
        if look and await self._in_history(entry, manifest, len(data)):
            return await self._done(entry, None)
        known = self.latest.get(entry.key)
        base = known["number"] if known else None
        moved_from = entry.header.get("moved_from")
        try:
            resp = await self.platform.post(
                space,
                path,
                manifest,
                parts,
                len(data),
                base=base,
                moved_from=moved_from,
                restored_from=entry.header.get("restored_from"),
                idempotency_key=key,
            )
        except SubmarineAPIError as e:
            self._maybe_sent(entry, e)
            raise _Transient(e.message) from None
        if resp.status_code == 409 and "missing" not in resp.json():
            # another version came in while this one was queued
            if look and await self._in_history(entry, manifest, len(data)):
                return await self._done(entry, None)
            self.log.warning(
                "%s in %s changed on the platform while a save was queued (%s); recording "
                "the save on top",
                path,
                space,
                resp.json().get("message"),
            )
            message = (
                f"Saved at {entry.header['saved_at']}; recorded on top of a version that "
                "came in while this save was queued."
            )
            try:
                resp = await self.platform.post(
                    space,
                    path,
                    manifest,
                    parts,
                    len(data),
                    message=message,
                    moved_from=moved_from,
                    idempotency_key=key,
                )
            except SubmarineAPIError as e:
                self._maybe_sent(entry, e)
                raise _Transient(e.message) from None
        return await self._answered(entry, resp)

    def _read_split(
        self, seq: int, fmt: str
    ) -> tuple[bytes, tuple[dict[str, Any], dict[str, bytes]]]:
        data = self.disk.data(seq)
        return data, _split(data, fmt)

    async def _answered(self, entry: Entry, resp: httpx.Response) -> None:
        if resp.is_success:
            return await self._done(entry, resp.json())
        message = error_message(resp)
        if resp.status_code >= 500 or resp.status_code in TRANSIENT:
            if resp.status_code >= 500:
                entry.maybe_sent = True
            raise _Transient(f"HTTP {resp.status_code}: {message}")
        await self._refused(entry, f"HTTP {resp.status_code}: {message}")

    async def _in_history(self, entry: Entry, manifest: dict[str, Any], size: int) -> bool:
        """Whether the platform already has this record: a version of the file by us,
        created since the save, with the same content."""
        space, path = entry.key
        resp = await self._send(
            entry, "GET", "files/versions", params={"space": space, "path": path}
        )
        if resp.status_code >= 500 or resp.status_code in TRANSIENT:
            await self._answered(entry, resp)  # raises
        if not resp.is_success:  # no history (404), or not ours to read: let the save say
            return False
        since = _aware(entry.header["saved_at"]) - CLOCK_SKEW
        for version in resp.json()["items"]:  # newest first
            if _aware(version["created_at"]) < since:
                break
            if (
                version["author"] != self.platform.user
                or version["action"] not in ("save", "restore")
                or version["size"] != size
            ):
                continue
            found = await self._send(
                entry,
                "GET",
                "files/content",
                params={"space": space, "path": path, "version": version["number"]},
            )
            if found.is_success:
                body = found.json()
                if contentaddr.split(body["content"], body["format"])[0] == manifest:
                    self.log.info(
                        "A queued save of %s was already recorded as version %d",
                        path,
                        version["number"],
                    )
                    self.latest[entry.key] = version
                    return True
        return False

    async def _done(self, entry: Entry, version: dict[str, Any] | None) -> None:
        await asyncio.to_thread(self.disk.remove, entry.seq)
        self.pending.remove(entry)
        if version is not None:
            self.latest[entry.key] = version
        if not entry.done.done():
            entry.done.set_result(True)

    async def _refused(self, entry: Entry, reason: str) -> None:
        space, path = entry.key
        moved = await asyncio.to_thread(self.disk.fail, entry.seq, reason)
        self.log.error(
            "The platform refused a queued %s of %s in %s (%s); the record is kept in %s",
            entry.header["action"],
            path,
            space,
            reason,
            moved,
        )
        self.pending.remove(entry)
        if not entry.done.done():
            entry.done.set_result(False)
