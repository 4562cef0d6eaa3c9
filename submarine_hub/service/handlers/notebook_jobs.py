"""REST handlers for notebook jobs (parameterized notebook runs) and their schedules."""

from __future__ import annotations

from ...core import notebook_job_runs, notebook_jobs, notebook_schedules, spaces
from ...core.errors import InvalidInput
from ...core.experiments import runs
from .base import BaseHandler


class NotebookJobsBase(BaseHandler):
    def wake(self) -> None:
        self.core.experiments.wake()
        if self.core.notebook_jobs is not None:
            self.core.notebook_jobs.wake()


class NotebookParametersHandler(NotebookJobsBase):
    path = "/notebook-jobs/parameters"

    async def get(self) -> None:
        """The parameters a notebook's ``parameters`` cell defines: name, type, default."""
        identity = await self.identity()
        notebook = self.get_query_argument("notebook", None)
        if not notebook:
            raise InvalidInput("Give ?notebook=PATH (and optionally space, version).")
        async with self.core.db.session() as s:
            info, content = await notebook_jobs.load(
                s,
                identity,
                notebook,
                self.get_query_argument("space", None),
                self.int_arg("version"),
            )
        self.write_json(notebook_jobs.describe(info, content))


class NotebookJobsHandler(NotebookJobsBase):
    path = "/notebook-jobs"

    async def get(self) -> None:
        """The jobs of one notebook, newest first: ``?notebook=PATH[&space=][&limit=]``."""
        identity = await self.identity()
        async with self.core.db.session() as s:
            items = await notebook_job_runs.list_for_notebook(
                s,
                identity,
                self.get_query_argument("notebook", None),
                self.get_query_argument("space", None),
                self.int_arg("limit", 50, maximum=500),
            )
        self.write_json({"items": items})

    async def post(self) -> None:
        """Run a notebook: ``{notebook, version, parameters | parameter_sets | grid, ...}``."""
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row, children = await notebook_jobs.submit(
                s,
                identity,
                body,
                uploads=self.core.uploads,
                quota_defaults=self.core.quota_defaults,
            )
            out = runs.to_json(row)
            out["children"] = [runs.to_json(c, full=False) for c in children]
            where = notebook_job_runs.output_location(row)
            if where:
                out["output"] = {
                    "space": where[0],
                    "path": where[1],
                    "lab_path": spaces.lab_path(*where),
                }
        self.wake()
        self.write_json(out, status=201)


class NotebookJobHandler(NotebookJobsBase):
    path = "/notebook-jobs/{run_id}"

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            out = await notebook_job_runs.view(s, identity, run_id)
        self.write_json(out)


class NotebookSchedulesHandler(NotebookJobsBase):
    path = "/notebook-schedules"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            rows = await notebook_schedules.list_visible(
                s, identity, self.get_query_argument("team", None)
            )
            items = [notebook_schedules.to_json(r) for r in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await notebook_schedules.create(s, identity, body, self.core.quota_defaults)
            out = notebook_schedules.to_json(row)
        self.wake()
        self.write_json(out, status=201)


class NotebookScheduleHandler(NotebookJobsBase):
    path = "/notebook-schedules/{schedule_id}"

    async def get(self, schedule_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await notebook_schedules.get(s, identity, schedule_id)
            out = notebook_schedules.to_json(row)
            out["history"] = await notebook_schedules.history(s, identity, row.id, limit=10)
        self.write_json(out)

    async def patch(self, schedule_id: int) -> None:
        """Change it; ``{"paused": true}`` pauses, ``{"paused": false}`` resumes."""
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await notebook_schedules.update(
                s, identity, schedule_id, body, self.core.quota_defaults
            )
            out = notebook_schedules.to_json(row)
        self.wake()
        self.write_json(out)

    async def delete(self, schedule_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await notebook_schedules.delete(s, identity, schedule_id)
        self.set_status(204)
        self.finish()


class NotebookScheduleRunsHandler(NotebookJobsBase):
    path = "/notebook-schedules/{schedule_id}/runs"

    async def get(self, schedule_id: int) -> None:
        """The schedule's firings, newest first: the run each started, or why none."""
        identity = await self.identity()
        limit = self.int_arg("limit", 50, maximum=500)
        async with self.core.db.session() as s:
            items = await notebook_schedules.history(s, identity, schedule_id, limit)
        self.write_json({"items": items})


NOTEBOOK_JOB_HANDLERS: list[type[BaseHandler]] = [
    NotebookParametersHandler,  # before /notebook-jobs/{run_id}
    NotebookJobsHandler,
    NotebookJobHandler,
    NotebookSchedulesHandler,
    NotebookScheduleHandler,
    NotebookScheduleRunsHandler,
]
