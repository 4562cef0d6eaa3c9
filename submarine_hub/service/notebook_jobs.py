"""The service's side of notebook jobs: executed notebooks kept when runs end, and the
loop that fires schedules (see ``core.notebook_job_runs`` and ``core.notebook_schedules``)."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ..core import notebook_job_runs, notebook_schedules
from ..core.errors import NotFound, SubmarineError
from ..core.identity import Identity
from ..store.models import Experiment, NotebookSchedule

if TYPE_CHECKING:
    from .context import ServiceContext

log = logging.getLogger("submarine_hub.service.notebook_jobs")

MIN_SLEEP_S = 0.05


class NotebookJobs:
    """Attached to the experiment scheduler: started and stopped with it."""

    def __init__(
        self, context: ServiceContext, *, misfire_grace: float = 60.0, schedule_poll: float = 5.0
    ) -> None:
        self.context = context
        self.misfire_grace = misfire_grace
        self.schedule_poll = schedule_poll
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        manager = context.experiments
        manager.on_final.append(self.keep_executed)
        manager.companions.append(self)

    # -- executed notebooks ---------------------------------------------------------------------

    async def keep_executed(self, session: Any, row: Experiment) -> None:
        if notebook_job_runs.source_of(row) is None:
            return
        location = self.context.experiments.artifacts_location(row.id)
        kept = await notebook_job_runs.keep_executed(session, row, location)
        if kept:
            log.info("kept the executed notebook of run %s as %s", row.id, kept["path"])

    # -- schedules ------------------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            wait = self.schedule_poll
            try:
                wait = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("schedule tick failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), max(MIN_SLEEP_S, wait))
            except TimeoutError:
                pass
            self._wake.clear()

    async def _owner(self, name: str) -> Identity | SubmarineError | None:
        """The owner as the hub knows them now; None when the hub cannot say (try later)."""
        try:
            return (await self.context.user_identity(name)).without_admin()
        except NotFound:
            return NotFound(f"{name} is no longer a hub user")
        except Exception as e:
            log.warning("cannot look up %s on the hub: %s; the schedule waits", name, e)
            return None

    async def tick(self, now: datetime | None = None) -> float:
        """Fire what is due; return how long to sleep until the next time."""
        now = now or notebook_schedules.utcnow()
        db = self.context.db
        async with db.session() as s:
            owners = {}
            for i in await notebook_schedules.due(s, now):
                row = await s.get(NotebookSchedule, i)
                if row is not None:
                    owners[i] = row.owner
        started = 0
        for schedule_id, name in owners.items():
            owner = await self._owner(name)
            if owner is None:
                continue
            async with db.session() as s:
                records = await notebook_schedules.fire(
                    s,
                    schedule_id,
                    owner,
                    now,
                    grace=self.misfire_grace,
                    uploads=self.context.uploads,
                    quota_defaults=self.context.quota_defaults,
                )
            for r in records:
                if r.experiment_id:
                    started += 1
                    log.info(
                        "schedule fired",
                        extra={"schedule": schedule_id, "run": r.experiment_id},
                    )
                elif r.error:
                    log.info("schedule %s: %s", schedule_id, r.error)
        if started:
            self.context.experiments.wake()
        async with db.session() as s:
            nxt = await notebook_schedules.earliest(s)
        if nxt is None:
            return self.schedule_poll
        return min(self.schedule_poll, (nxt - notebook_schedules.utcnow()).total_seconds())
