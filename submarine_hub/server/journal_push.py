"""The task that sends a session's journal of saves to the platform: oldest first, with
backoff while the platform is away, each record's idempotency key sent with it (see
:mod:`.journal` for the journal itself and the delivery contract).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import httpx
from tornado import web

from ..client.errors import SubmarineAPIError, error_message
from ..core import contentaddr
from ..core.errors import InvalidInput
from .journal import Entry, JournalFolder

if TYPE_CHECKING:
    from .platform_files import PlatformFiles

# how far apart the session's and the service's clocks may be when a replayed record is
# looked for in history (versions created since it was saved)
CLOCK_SKEW = timedelta(seconds=5)
TRANSIENT = (401, 408, 425, 429)  # and every 5xx: retried, never dropped


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

        async def post(**kw: Any) -> httpx.Response:
            try:
                return await self.platform.post(
                    space,
                    path,
                    manifest,
                    parts,
                    len(data),
                    moved_from=entry.header.get("moved_from"),
                    idempotency_key=key,
                    **kw,
                )
            except SubmarineAPIError as e:
                self._maybe_sent(entry, e)
                raise _Transient(e.message) from None

        resp = await post(
            base=known["number"] if known else None,
            restored_from=entry.header.get("restored_from"),
        )
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
            resp = await post(message=message)
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
