"""The SDK's calls on experiments (runs, their logs, artifacts and metrics), templates and
pipelines.

Contract: a run has ended when its status is one of :data:`FINAL_STATES`; a template's
``ref`` is ``team/name``, a bare ``name`` being a global template (:func:`template_path`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .transport import SyncTransport

FINAL_STATES = ("succeeded", "failed", "killed")


def template_path(ref: str) -> str:
    """``team/name`` -> ``team/name``; a bare ``name`` is a global template."""
    return ref if "/" in ref else f"_global/{ref}"


class ExperimentsAPI(SyncTransport):
    """Runs: submit, list, follow, stop, and what they record."""

    def submit(self, spec: dict[str, Any], *, parent: int | None = None) -> dict[str, Any]:
        """Submit an experiment spec (see ``experiment-schema``); returns the queued run."""
        params = {"parent": parent} if parent is not None else None
        return self.request("POST", "experiments", json=spec, params=params)

    def experiments(self, **filters: Any) -> dict[str, Any]:
        """A page of runs, newest first: ``team``, ``owner``, ``status`` (comma-separated),
        ``tag``, ``since``, ``until``, ``parent``, ``pipeline``, ``before`` (the cursor
        ``next`` of the previous page), ``limit``, ``metrics``."""
        params = {k: v for k, v in filters.items() if v is not None}
        if isinstance(params.get("status"), list | tuple):
            params["status"] = ",".join(params["status"])
        return self.request("GET", "experiments", params=params)

    def experiment(self, run_id: int) -> dict[str, Any]:
        return self.request("GET", f"experiments/{run_id}")

    def kill(self, run_id: int) -> dict[str, Any]:
        return self.request("POST", f"experiments/{run_id}/kill")

    def rerun(self, run_id: int) -> dict[str, Any]:
        return self.request("POST", f"experiments/{run_id}/rerun")

    def wait(
        self, run_id: int, *, timeout: float | None = None, poll: float = 0.5
    ) -> dict[str, Any]:
        """Block until the run ends; return it. ``TimeoutError`` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.experiment(run_id)
            if run["status"] in FINAL_STATES:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout} s")
            time.sleep(poll)

    def logs(self, run_id: int, name: str | None = None, *, offset: int = 0) -> str:
        params: dict[str, Any] = {"offset": offset}
        if name:
            params["name"] = name
        return self.fetch(f"experiments/{run_id}/logs", params=params).text

    def follow_logs(self, run_id: int, name: str | None = None) -> Iterator[str]:
        """The log as it is written, until the run ends."""
        params: dict[str, Any] = {"follow": 1}
        if name:
            params["name"] = name
        with self.stream(f"experiments/{run_id}/logs", params=params) as resp:
            yield from resp.iter_text()

    def artifacts(self, run_id: int) -> list[dict[str, Any]]:
        return self.request("GET", f"experiments/{run_id}/artifacts")["items"]

    def download_artifact(self, run_id: int, path: str) -> bytes:
        return self.fetch(f"experiments/{run_id}/artifacts", params={"path": path}).content

    def log_metrics(
        self,
        run_id: int,
        metrics: list[dict[str, Any]] | None = None,
        params: dict[str, Any] | None = None,
        *,
        replay: bool = False,
    ) -> dict[str, Any]:
        """Store points; ``replay``: the batch may have been stored before (its answer was
        lost), the service skips the points the run has."""
        body: dict[str, Any] = {"metrics": metrics or [], "params": params or {}}
        if replay:
            body["replay"] = True
        return self.request("POST", f"experiments/{run_id}/metrics", json=body)

    def metrics(self, run_id: int, key: str | None = None) -> dict[str, Any]:
        params = {"key": key} if key else None
        return self.request("GET", f"experiments/{run_id}/metrics", params=params)

    def upload_run_artifact(
        self, run_id: int, source: str | os.PathLike[str], path: str | None = None
    ) -> dict[str, Any]:
        """Add a file to a live run's artifacts (as ``path``, default its name)."""
        return self.put_file(f"experiments/{run_id}/artifacts", source, path or Path(source).name)

    def compare(self, run_ids: list[int]) -> dict[str, Any]:
        return self.request(
            "GET", "experiments/compare", params={"ids": ",".join(map(str, run_ids))}
        )

    def search_runs(
        self,
        filter: str | None = None,
        *,
        order_by: list[str] | str | None = None,
        team: str | None = None,
        columns: list[str] | str | None = None,
        max_results: int = 50,
        page_token: str | None = None,
    ) -> dict[str, Any]:
        """A page of the runs table, searched with MLflow's syntax:
        ``search_runs("metrics.accuracy > 0.9 and params.model = 'rf'",
        order_by=["metrics.accuracy DESC"])`` -> ``{"items": [run + params, metrics,
        children], "keys": ..., "next_page_token": ...}`` (docs/run-explorer.md)."""
        params: dict[str, Any] = {"max_results": max_results}
        if filter:
            params["filter"] = filter
        if order_by:
            params["order_by"] = [order_by] if isinstance(order_by, str) else list(order_by)
        if team:
            params["team"] = team
        if columns:
            params["columns"] = columns if isinstance(columns, str) else ",".join(columns)
        if page_token:
            params["page_token"] = page_token
        return self.request("GET", "experiments/search", params=params)

    def iter_runs(
        self,
        filter: str | None = None,
        *,
        order_by: list[str] | str | None = None,
        team: str | None = None,
        page_size: int = 200,
    ) -> Iterator[dict[str, Any]]:
        """Every run :meth:`search_runs` finds, page after page."""
        token = None
        while True:
            page = self.search_runs(
                filter, order_by=order_by, team=team, max_results=page_size, page_token=token
            )
            yield from page["items"]
            token = page["next_page_token"]
            if not token:
                return


class TemplatesAPI(SyncTransport):
    """Experiment templates and runs of them."""

    def templates(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "templates", params=params)["items"]

    def template(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"templates/{template_path(ref)}")

    def create_template(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "templates", json=body)

    def update_template(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"templates/{template_path(ref)}", json=fields)

    def delete_template(self, ref: str) -> None:
        self.request("DELETE", f"templates/{template_path(ref)}")

    def run_template(
        self,
        ref: str,
        parameters: dict[str, Any] | None = None,
        *,
        parent: int | None = None,
        **spec: Any,
    ) -> dict[str, Any]:
        """Submit a run of a template; ``spec`` may set ``meta`` (name, team, tags) etc.
        ``parent``: the run this one is a child of (a sweep's trials)."""
        body = {"parameters": parameters or {}, **spec}
        params = {"parent": parent} if parent is not None else None
        return self.request(
            "POST", f"templates/{template_path(ref)}/runs", json=body, params=params
        )


class PipelinesAPI(SyncTransport):
    """Pipelines: submit, list, stop, retry."""

    def submit_pipeline(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "pipelines", json=body)

    def pipelines(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "pipelines", params=params)["items"]

    def pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("GET", f"pipelines/{pipeline_id}")

    def terminate_pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("POST", f"pipelines/{pipeline_id}/terminate")

    def retry_pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("POST", f"pipelines/{pipeline_id}/retry")
