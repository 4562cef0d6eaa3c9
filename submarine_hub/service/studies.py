"""The service's side of studies: the loop that steps every running study (asks Optuna
for trials, starts their runs, judges what they report, tells Optuna how they ended),
woken when a run ends; and the studies' Optuna cache (see ``core.studies``)."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from ..core.errors import Conflict, NotFound, SubmarineError
from ..core.identity import Identity
from ..core.studies import studies
from ..store.models import Experiment, Study

if TYPE_CHECKING:
    from .context import ServiceContext

log = logging.getLogger("submarine_hub.service.studies")

POLL_S = 1.0  # how often running studies look at their trials' new intermediate values
IDLE_S = 5.0
STOP_WAIT_S = 10.0


class StudyCacheUnavailable:
    """Stands in for the Optuna cache where Optuna is not installed: every use says so."""

    def __getattr__(self, name: str) -> Any:
        studies._engine()  # raises Unavailable with the install hint
        raise AttributeError(name)


def make_cache() -> Any:
    try:
        from ..core.studies.engine import StudyCache
    except ImportError:
        return StudyCacheUnavailable()
    return StudyCache()


class StudyDriver:
    """Attached to the experiment scheduler: started and stopped with it."""

    def __init__(self, context: ServiceContext) -> None:
        self.context = context
        self.cache = make_cache()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._locks: dict[int, asyncio.Lock] = {}
        self._stopping = False
        manager = context.experiments
        manager.on_final.append(self._run_ended)
        manager.companions.append(self)

    def lock(self, study_id: int) -> asyncio.Lock:
        return self._locks.setdefault(study_id, asyncio.Lock())

    async def _run_ended(self, session: Any, row: Experiment) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Let the step under way commit (a step cut in its transaction could leave
        SQLite's write lock taken until the process ends), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        try:
            await asyncio.wait_for(asyncio.shield(self._task), STOP_WAIT_S)
        except TimeoutError:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    def wake(self) -> None:
        self._wake.set()

    async def _loop(self) -> None:
        while not self._stopping:
            wait = IDLE_S
            try:
                if await self.tick():
                    wait = POLL_S
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("study tick failed; retrying")
            try:
                await asyncio.wait_for(self._wake.wait(), wait)
            except TimeoutError:
                pass
            self._wake.clear()

    async def _owner(self, name: str) -> Identity | None:
        try:
            return (await self.context.user_identity(name)).without_admin()
        except NotFound:
            return None
        except Exception as e:
            log.warning("cannot look up %s on the hub: %s; the study waits", name, e)
            raise

    async def tick(self) -> bool:
        """Step every running study; True while any runs."""
        async with self.context.db.session() as s:
            running = list(
                (
                    await s.execute(
                        select(Study.id, Study.owner).where(Study.status == studies.RUNNING)
                    )
                ).all()
            )
        started = False
        for study_id, owner_name in running:
            try:
                owner = await self._owner(owner_name)
            except Exception:
                continue
            started |= await self.step(study_id, owner)
        if started:
            self.context.experiments.wake()
        return bool(running)

    async def step(self, study_id: int, owner: Identity | None) -> bool:
        async with self.lock(study_id):
            try:
                async with self.context.db.session() as s:
                    study = await s.get(Study, study_id)
                    if study is None or study.status != studies.RUNNING:
                        return False
                    if owner is None or not owner.is_member(study.team):
                        study.status, study.reason = (
                            studies.FAILED,
                            (f"{study.owner} is no longer a member of team {study.team!r}"),
                        )
                        return False
                    progress = await studies.advance(
                        s,
                        self.cache,
                        study,
                        owner,
                        quota_defaults=self.context.quota_defaults,
                        uploads=self.context.uploads,
                    )
            except Conflict as e:  # the cache was out of step: built again next time
                self.cache.drop(study_id)
                log.warning("study %s: %s", study_id, e.message)
                return True
            except SubmarineError as e:
                self.cache.drop(study_id)
                log.warning("study %s: %s", study_id, e.message)
                await self._fail(study_id, e.message)
                return False
            except Exception:
                self.cache.drop(study_id)  # what Optuna holds may be ahead of the metastore
                raise
        if progress.started:
            log.info("study trials started", extra={"study": study_id, "runs": progress.started})
        return bool(progress.started)

    async def _fail(self, study_id: int, message: str) -> None:
        async with self.context.db.session() as s:
            study = await s.get(Study, study_id)
            if study is not None and study.status == studies.RUNNING:
                study.status, study.reason = studies.FAILED, f"a trial could not start: {message}"
                study.finished_at = studies.utcnow()
