"""Session admissions kept true to the hub's servers.

A spawner releases its session's admission when the server stops; when it cannot (the
service was down, or the hub stopped the service before its user servers, as JupyterHub
does at shutdown) the admission would hold a place in its team's quota forever. The
:class:`AdmissionReconciler` lists the hub's active servers at start and every
``interval`` seconds, and releases the admissions whose server is gone.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core import sessions
from ..core.errors import Unavailable
from ..store import Database

log = logging.getLogger("submarine_hub.service")


class AdmissionReconciler:
    """Release admissions of servers the hub is not running.

    ``hub`` answers ``running_servers()`` (:class:`~.hub.HubClient`). An admission younger
    than ``grace`` seconds is left alone: its spawn may not be listed by the hub yet.
    """

    def __init__(self, db: Database, hub: Any, *, interval: float, grace: float) -> None:
        self.db = db
        self.hub = hub
        self.interval = interval
        self.grace = grace
        self._task: asyncio.Task[None] | None = None

    async def reconcile(self) -> list[int]:
        """One pass; returns the ids of the admissions released."""
        running = await self.hub.running_servers()
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=self.grace)
        async with self.db.session() as s:
            released = await sessions.release_missing(s, running, cutoff)
            out = [(r.id, r.user, r.server_name, r.team) for r in released]
        for sid, user, server, team in out:
            log.info(
                "released the admission of a server the hub is not running",
                extra={"session": sid, "user": user, "server": server, "team": team},
            )
        return [sid for sid, *_ in out]

    async def _loop(self) -> None:
        while True:
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Unavailable as e:
                log.warning("cannot reconcile session admissions now: %s", e.message)
            except Exception:
                log.exception("reconciling session admissions failed; trying again later")
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        if self.interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
