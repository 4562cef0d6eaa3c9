"""REST handlers of hyper-parameter tuning studies (``core.studies``)."""

from __future__ import annotations

from typing import Any

from ...core.errors import Unavailable
from ...core.studies import studies
from ..studies import StudyDriver
from .base import BaseHandler


class StudiesBase(BaseHandler):
    @property
    def driver(self) -> StudyDriver:
        if self.core.studies is None:
            raise Unavailable("This server runs no studies (the platform service does).")
        return self.core.studies

    def wake(self) -> None:
        self.driver.wake()


class StudiesHandler(StudiesBase):
    path = "/studies"

    async def get(self) -> None:
        """The studies of the caller's teams (or ``?team=``), newest first."""
        identity = await self.identity()
        async with self.core.db.session() as s:
            rows = await studies.search(
                s,
                identity,
                team=self.get_query_argument("team", None),
                status=self.get_query_argument("status", None),
                limit=self.int_arg("limit", 50, maximum=studies.MAX_PAGE),
            )
            items = [studies.to_json(r, await studies.trials_of(s, r.id)) for r in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        """Create a study: its trials start at once (see ``core/studies/spec.py``)."""
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await studies.create(s, identity, body, quota_defaults=self.core.quota_defaults)
            out = studies.to_json(row, [], full=True)
        self.wake()
        self.write_json(out, status=201)


async def _full(handler: StudiesBase, study_id: int) -> dict[str, Any]:
    identity = await handler.identity()
    async with handler.core.db.session() as s:
        row = await studies.get(s, identity, study_id)
        trials = await studies.trials_of(s, study_id)
        run_of = await studies._runs(s, [t.run_id for t in trials if t.run_id])
        return studies.to_json(row, trials, full=True, run_of=run_of)


class StudyHandler(StudiesBase):
    path = "/studies/{study_id}"

    async def get(self, study_id: int) -> None:
        """A study with its trials (params, value, state, run) and its best trial."""
        self.write_json(await _full(self, study_id))


class StudyStopHandler(StudiesBase):
    path = "/studies/{study_id}/stop"

    async def post(self, study_id: int) -> None:
        """No new trials; running trials are killed (counted as failed)."""
        identity = await self.identity()
        async with self.driver.lock(study_id):
            try:
                async with self.core.db.session() as s:
                    await studies.stop(s, identity, study_id)
            finally:
                self.driver.cache.drop(study_id)
        self.core.experiments.wake()
        self.write_json(await _full(self, study_id), status=202)


class StudyResumeHandler(StudiesBase):
    path = "/studies/{study_id}/resume"

    async def post(self, study_id: int) -> None:
        """Run a stopped or finished study again: ``{"trials": N}`` adds N trials."""
        identity = await self.identity()
        body = self.get_json_body() if self.body else {}
        async with self.driver.lock(study_id):
            try:
                async with self.core.db.session() as s:
                    await studies.resume(s, identity, study_id, body)
            finally:
                self.driver.cache.drop(study_id)
        self.wake()
        self.write_json(await _full(self, study_id), status=202)


class StudyImportancesHandler(StudiesBase):
    path = "/studies/{study_id}/importances"

    async def get(self, study_id: int) -> None:
        """Parameter importances (Optuna's fANOVA evaluator) over the completed trials."""
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await studies.get(s, identity, study_id)
            found = await studies.importances(s, row)
        self.write_json({"importances": found})


class StudyNextTrialHandler(StudiesBase):
    path = "/studies/{study_id}/trials/next"

    async def post(self, study_id: int) -> None:
        """A worker run of a function study: end its trial, take the next (or ``done``)."""
        identity = await self.identity()
        body = self.get_json_body() if self.body else {}
        async with self.driver.lock(study_id):
            try:
                async with self.core.db.session() as s:
                    out = await studies.next_trial(s, self.driver.cache, identity, study_id, body)
            except Exception:
                self.driver.cache.drop(study_id)
                raise
        if out.get("done"):
            self.wake()
        self.write_json(out)


class TrialReportHandler(StudiesBase):
    path = "/study-trials/{run_id}/report"

    async def post(self, run_id: int) -> None:
        """A trial's intermediate ``{value, step}``: stored, judged by the pruner; the answer
        says whether the trial should stop (``prune``)."""
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            study_id, _ = await studies.trial_ids(s, identity, run_id)
        async with self.driver.lock(study_id):
            try:
                async with self.core.db.session() as s:
                    out = await studies.report(s, self.driver.cache, identity, run_id, body)
            except Exception:
                self.driver.cache.drop(study_id)
                raise
        if out["prune"]:
            self.wake()
        self.write_json(out)


STUDY_HANDLERS: list[type[BaseHandler]] = [
    StudiesHandler,
    StudyHandler,
    StudyStopHandler,
    StudyResumeHandler,
    StudyImportancesHandler,
    StudyNextTrialHandler,
    TrialReportHandler,
]
