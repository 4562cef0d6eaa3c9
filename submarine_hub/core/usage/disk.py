"""Disk a team holds: its files' history (the parts its saves stored), its registered
models' files, its runs' artifact folders on this machine (notebook jobs' outputs
included), and its team folder on this machine (where team folders are system folders:
users isolated)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Blob, BlobSpace, ModelVersion, RegisteredModel, UsageRecord
from .prices import DISK_KIND
from .records import aware


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


async def record_stored(session: AsyncSession, team: str, size: int, now: datetime) -> None:
    """The team stores ``size`` bytes from ``now``: its open ``disk`` record (bytes in
    ``memory``, no user) goes on if the size is the same, else it is closed at ``now`` and
    a new one opened. Reports price the bytes per GB-month over those intervals."""
    size = max(int(size), 0)
    rows = (
        await session.scalars(
            select(UsageRecord).where(UsageRecord.kind == DISK_KIND, UsageRecord.team == team)
        )
    ).all()
    current = [r for r in rows if r.ended_at is None]
    if current and all(r.memory == size for r in current):
        return
    for r in current:
        r.ended_at = max(now, aware(r.started_at))
    session.add(
        UsageRecord(
            key=f"{DISK_KIND}:{team}:{len(rows) + 1}",
            kind=DISK_KIND,
            object_id=0,
            team=team,
            user="",
            memory=size,
            started_at=now,
            ended_at=None,
        )
    )
    await session.flush()
