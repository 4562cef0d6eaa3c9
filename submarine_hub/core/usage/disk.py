"""Disk a team holds: its files' history (the parts its saves stored), its registered
models' files, its runs' artifact folders on this machine (notebook jobs' outputs
included), its team folder on this machine (where team folders are system folders:
users isolated), and its members' homes (each user's home split evenly between their
teams; a record per user and team, so reports by user show each user's home)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Blob, BlobSpace, ModelVersion, RegisteredModel, UsageRecord
from .prices import DISK_KIND
from .records import aware

#: ``replica`` of the disk records of users' homes
HOME = "home"


async def stored_bytes(session: AsyncSession, team: str) -> dict[str, int]:
    """``history``: bytes of the parts saves into the team's space stored (uncompressed,
    each part once); ``models``: bytes of its model versions' files."""
    history = await session.scalar(
        select(func.coalesce(func.sum(Blob.size), 0))
        .join(BlobSpace, BlobSpace.hash == Blob.hash)
        .where(BlobSpace.space == f"team:{team}")
    )
    models = await session.scalar(
        select(func.coalesce(func.sum(ModelVersion.size), 0))
        .join(RegisteredModel, RegisteredModel.id == ModelVersion.model_id)
        .where(RegisteredModel.team == team)
    )
    return {"history": int(history or 0), "models": int(models or 0)}


def folder_bytes(root: Path) -> int | None:
    """Bytes of the files under ``root`` (symbolic links not followed); None if it is
    not there. Blocking: run it in a thread."""
    if not root.is_dir():
        return None
    total = 0
    stack = [str(root)]
    while stack:
        try:
            with os.scandir(stack.pop()) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        continue
        except OSError:
            continue
    return total


def runs_bytes(where: Callable[[int], Path | None], run_ids: Iterable[int]) -> int:
    """Bytes of the runs' artifact folders on this machine (``where``: a run's folder, or
    None where the backend keeps it elsewhere). Blocking: run it in a thread."""
    total = 0
    for run_id in run_ids:
        root = where(run_id)
        if root is not None:
            total += folder_bytes(root) or 0
    return total


async def record_stored(
    session: AsyncSession, team: str, size: int, now: datetime, user: str = ""
) -> None:
    """The team (``user``: that member's home, the team's share of it) stores ``size``
    bytes from ``now``: its open ``disk`` record (bytes in ``memory``) goes on if the size
    is the same, else it is closed at ``now`` and a new one opened. Reports price the
    bytes per GB-month over those intervals."""
    size = max(int(size), 0)
    rows = (
        await session.scalars(
            select(UsageRecord).where(
                UsageRecord.kind == DISK_KIND, UsageRecord.team == team, UsageRecord.user == user
            )
        )
    ).all()
    current = [r for r in rows if r.ended_at is None]
    if current and all(r.memory == size for r in current):
        return
    for r in current:
        r.ended_at = max(now, aware(r.started_at))
    if size == 0 and user:  # a home no longer counted: nothing to open
        await session.flush()
        return
    key = f"{DISK_KIND}:{team}:{len(rows) + 1}"
    if user:
        key = f"{DISK_KIND}:{team}:{HOME}:{user}:{len(rows) + 1}"
    session.add(
        UsageRecord(
            key=key,
            kind=DISK_KIND,
            object_id=0,
            replica=HOME if user else "",
            team=team,
            user=user,
            memory=size,
            started_at=now,
            ended_at=None,
        )
    )
    await session.flush()


async def record_home(
    session: AsyncSession, user: str, size: int | None, teams: Iterable[str], now: datetime
) -> None:
    """``user``'s home holds ``size`` bytes (None: no home): each of their ``teams`` is
    metered its share; a team they left (an open share of another team) is closed."""
    parts = shares(size or 0, teams) if size is not None else {}
    open_teams = (
        await session.scalars(
            select(UsageRecord.team).where(
                UsageRecord.kind == DISK_KIND,
                UsageRecord.user == user,
                UsageRecord.ended_at.is_(None),
            )
        )
    ).all()
    for team in sorted(set(open_teams) - set(parts)):
        await record_stored(session, team, 0, now, user=user)
    for team, part in parts.items():
        await record_stored(session, team, part, now, user=user)


async def homes_bytes(session: AsyncSession, team: str) -> int:
    """The team's share of its members' homes, as last measured."""
    value = await session.scalar(
        select(func.coalesce(func.sum(UsageRecord.memory), 0)).where(
            UsageRecord.kind == DISK_KIND,
            UsageRecord.team == team,
            UsageRecord.user != "",
            UsageRecord.ended_at.is_(None),
        )
    )
    return int(value or 0)


class FolderScan:
    """``du -x``-like, but resumable: measures the bytes of the files under ``root`` a
    bounded number of entries at a time (:meth:`step`), so a huge home never holds the
    meter up; the walk goes on where it stopped at the next step.

    Counts each file's size once (hard links: once per inode), follows no symbolic link,
    stays on ``root``'s filesystem (no other mounts), and before it opens a directory it
    found, checks it is still the one it found (same device and inode; a directory swapped
    for a link by its owner while the walk went on is skipped, not followed)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.total = 0
        self.entries = 0
        self._stack: list[tuple[str, int, int]] = []
        self._seen: set[tuple[int, int]] = set()
        self._dev = -1
        self._started = False
        self._dir: Any = None  # the directory being read (an os.scandir iterator)
        self._fd = -1  # ... and its descriptor (its entries' stat() use it)
        self._path = ""
        self.done = False
        self.missing = False

    def close(self) -> None:
        if self._dir is not None:
            self._dir.close()
            self._dir = None
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:
        self.close()

    def _enter(self) -> bool:
        """Open the next directory found (False: none left)."""
        while self._stack:
            path, dev, ino = self._stack.pop()
            try:
                fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                st = os.fstat(fd)
                if (st.st_dev, st.st_ino) == (dev, ino):  # else replaced meanwhile: skipped
                    self._dir, self._fd, self._path = os.scandir(fd), fd, path
                    return True
            except OSError:
                pass
            os.close(fd)
        return False

    def step(self, budget: int) -> int:
        """Look at up to ``budget`` entries (a big directory is read over several steps);
        returns how many were looked at. ``done`` once the walk is over (``total``: the
        bytes; ``missing``: no such folder). Blocking: run it in a thread."""
        if not self._started:
            self._started = True
            try:
                st = os.lstat(self.root)
            except OSError:
                st = None
            if st is None or not stat.S_ISDIR(st.st_mode):
                self.done = self.missing = True
                return 0
            self._dev = st.st_dev
            self._stack.append((str(self.root), st.st_dev, st.st_ino))
        visited = 0
        while visited < budget and not self.done:
            if self._dir is None and not self._enter():
                self.done = True
                break
            try:
                entry = next(self._dir)
            except (StopIteration, OSError):
                self.close()
                continue
            visited += 1
            try:
                est = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if est.st_dev != self._dev:
                continue  # another filesystem mounted inside
            if stat.S_ISDIR(est.st_mode):
                self._stack.append((os.path.join(self._path, entry.name), est.st_dev, est.st_ino))
            elif stat.S_ISREG(est.st_mode):
                if est.st_nlink > 1:
                    key = (est.st_dev, est.st_ino)
                    if key in self._seen:
                        continue
                    self._seen.add(key)
                self.total += est.st_size
        self.entries += visited
        if self.done:
            self.close()
        return visited


class HomeScanner:
    """Measures users' homes round after round: a round starts every ``interval``
    seconds (at the earliest) and measures every home, at most ``max_entries`` directory
    entries per :meth:`tick` across all homes; a home's size is known when its walk ends
    (the rest of the round goes on at the next ticks). So the cost per tick is bounded
    whatever the homes hold, and a home of N entries is measured in about
    N / ``max_entries`` ticks."""

    def __init__(self, home: Callable[[str], Path | None], *, interval: float = 600.0,
                 max_entries: int = 50_000) -> None:  # fmt: skip
        self.home = home
        self.interval = interval
        self.max_entries = max(int(max_entries), 1)
        self._scans: dict[str, FolderScan] = {}
        self._round_started: float | None = None
        self.rounds = 0

    def tick(self, users: Iterable[str], now: float) -> dict[str, int | None]:
        """Go on measuring; returns the homes measured in this tick (user -> bytes, None:
        no home). Blocking: run it in a thread."""
        if not self._scans:
            if self._round_started is not None and now < self._round_started + self.interval:
                return {}
            self._round_started = now
            self.rounds += 1
            for user in sorted(set(users)):
                root = self.home(user)
                if root is not None:
                    self._scans[user] = FolderScan(root)
        finished: dict[str, int | None] = {}
        budget = self.max_entries
        for user in list(self._scans):
            if budget <= 0:
                break
            scan = self._scans[user]
            budget -= max(scan.step(budget), 1)
            if scan.done:
                finished[user] = None if scan.missing else scan.total
                del self._scans[user]
        return finished


def shares(size: int, teams: Iterable[str]) -> dict[str, int]:
    """A user's home split between their teams (evenly; the bytes left over go to the
    first teams by name), so the teams' figures add up to the home's size."""
    names = sorted(set(teams))
    if not names:
        return {}
    each, rest = divmod(max(int(size), 0), len(names))
    return {t: each + (1 if i < rest else 0) for i, t in enumerate(names)}
