"""Session admissions kept true to the hub's servers.

A spawner releases its session's admission when the server stops; when it cannot (the
service was down, or the hub stopped the service before its user servers, as JupyterHub
does at shutdown) the admission would hold a place in its team's quota forever. The
:class:`AdmissionReconciler` lists the hub's active servers at start and every
``interval`` seconds, and releases the admissions whose server is gone.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta, timezone
from typing import Any

from ..core import sessions
from ..store import Database
from .periodic import Periodic

log = logging.getLogger("submarine_hub.service")


class AdmissionReconciler(Periodic):
    """Release admissions of servers the hub is not running.

    ``hub`` answers ``running_servers()`` (:class:`~.hub.HubClient`). An admission younger
    than ``grace`` seconds is left alone: its spawn may not be listed by the hub yet.
    """

    def __init__(self, db: Database, hub: Any, *, interval: float, grace: float) -> None:
        self.db = db
        self.hub = hub
        self.grace = grace
        super().__init__(interval)

    what = "reconcile session admissions"

    async def run_once(self) -> list[int]:
        return await self.reconcile()

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
