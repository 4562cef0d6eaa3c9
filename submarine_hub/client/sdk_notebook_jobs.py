"""The SDK's calls on notebook jobs (a notebook run with parameters, or a fan-out of such
runs) and on notebook schedules.

Contract: a notebook is named by its path in the session (made relative to the session's
root when it is a local file) and, optionally, its ``space`` and ``version``; or given as
``content``. ``with_files`` uploads the files beside it first.
"""

from __future__ import annotations

import os
from typing import Any

from .uploads import CodeUploadsAPI, folder_of


class NotebookJobsAPI(CodeUploadsAPI):
    """Notebook jobs and their cron schedules."""

    def _notebook_ref(
        self, notebook: str, space: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """A notebook path as the service reads it: a local path of your session becomes
        relative to its root; ``teams/<team>/...`` is in the team's space."""
        path = notebook
        if not space and (os.path.isabs(path) or os.path.exists(path)):
            root = os.path.realpath(
                os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
            )
            full = os.path.realpath(path)
            if full.startswith(root + os.sep):
                path = os.path.relpath(full, root)
        out: dict[str, Any] = {"notebook": path.strip("/")}
        if space:
            out["space"] = space
        if version is not None:
            out["version"] = version
        return out

    def _job_body(
        self,
        notebook: str | None,
        parameters: dict[str, Any] | None,
        *,
        version: int | None,
        space: str | None,
        content: dict[str, Any] | None,
        job: dict[str, Any],
    ) -> dict[str, Any]:
        body = {k: v for k, v in job.items() if v is not None}
        with_files = body.pop("with_files", None)
        if with_files:
            folder = with_files if not isinstance(with_files, bool) else folder_of(notebook)
            body["files"] = self.upload_code(folder)
        if content is not None:
            body["content"] = content
        elif notebook:
            body.update(self._notebook_ref(notebook, space, version))
        else:
            raise ValueError("Give a notebook path, or its content.")
        if parameters is not None:
            body["parameters"] = parameters
        return body

    def notebook_parameters(
        self, notebook: str, *, version: int | None = None, space: str | None = None
    ) -> dict[str, Any]:
        """The parameters of a notebook's cell tagged ``parameters``: name, type, default."""
        params = self._notebook_ref(notebook, space, version)
        return self.request("GET", "notebook-jobs/parameters", params=params)

    def run_notebook(
        self,
        notebook: str | None = None,
        parameters: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        space: str | None = None,
        content: dict[str, Any] | None = None,
        **job: Any,
    ) -> dict[str, Any]:
        """Run a notebook as a job; returns its run (``output`` names the executed notebook).

        ``job`` may set ``name``, ``team``, ``tags``, ``environment``, ``resources``,
        ``timeout``, ``env``, ``credentials``, and for a fan-out ``parameter_sets`` (a
        list) or ``grid`` (``{name: [values]}``). ``content``: a notebook to run instead
        of a stored one (it is kept in the team's jobs folder). ``with_files=True`` sends
        the files of the notebook's folder on this machine (or give a folder) to be
        beside it when it runs."""
        body = self._job_body(
            notebook, parameters, version=version, space=space, content=content, job=job
        )
        return self.request("POST", "notebook-jobs", json=body)

    def notebook_job(self, run_id: int) -> dict[str, Any]:
        """A notebook job: its run, notebook version, executed output, error cell, and a
        fan-out's children with a summary of their results."""
        return self.request("GET", f"notebook-jobs/{run_id}")

    def schedule_notebook(
        self,
        notebook: str | None,
        cron: str,
        parameters: dict[str, Any] | None = None,
        *,
        timezone: str = "UTC",
        catchup: str = "skip",
        name: str | None = None,
        paused: bool = False,
        version: int | None = None,
        space: str | None = None,
        content: dict[str, Any] | None = None,
        **job: Any,
    ) -> dict[str, Any]:
        """Run a notebook on a cron schedule (5 fields, or 6 with seconds first)."""
        body: dict[str, Any] = {
            "cron": cron,
            "timezone": timezone,
            "catchup": catchup,
            "paused": paused,
            "job": self._job_body(
                notebook, parameters, version=version, space=space, content=content, job=job
            ),
        }
        if name:
            body["name"] = name
        return self.request("POST", "notebook-schedules", json=body)

    def notebook_schedules(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "notebook-schedules", params=params)["items"]

    def notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.request("GET", f"notebook-schedules/{schedule_id}")

    def update_notebook_schedule(self, schedule_id: int, **changes: Any) -> dict[str, Any]:
        return self.request("PATCH", f"notebook-schedules/{schedule_id}", json=changes)

    def pause_notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.update_notebook_schedule(schedule_id, paused=True)

    def resume_notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.update_notebook_schedule(schedule_id, paused=False)

    def delete_notebook_schedule(self, schedule_id: int) -> None:
        self.request("DELETE", f"notebook-schedules/{schedule_id}")

    def notebook_schedule_runs(self, schedule_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """Its firings, newest first: the run each started, or why none was."""
        out = self.request("GET", f"notebook-schedules/{schedule_id}/runs", params={"limit": limit})
        return out["items"]
