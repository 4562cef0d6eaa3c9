"""SQL and Spark runs from the SDK: a query as a run in one call, and a Spark run's
application (executors, UI)."""

from __future__ import annotations

import json
from typing import Any

from .sdk_experiments import ExperimentsAPI


def sql_spec(
    query: str,
    *,
    connection: str | None = None,
    engine: str | None = None,
    parameters: dict[str, Any] | None = None,
    name: str = "sql",
    team: str | None = None,
    dataset: str | None = None,
    max_rows: int | None = None,
    csv: bool = False,
    timeout: float | None = None,
) -> dict[str, Any]:
    """The experiment spec of a SQL run (``task: {sql: ...}``)."""
    task: dict[str, Any] = {"query": query, "parameters": dict(parameters or {})}
    optional = {"connection": connection, "engine": engine, "dataset": dataset,
                "max_rows": max_rows}  # fmt: skip
    task.update({k: v for k, v in optional.items() if v is not None})
    if csv:
        task["formats"] = ["parquet", "csv"]
    spec: dict[str, Any] = {"meta": {"name": name}, "task": {"sql": task}}
    if team:
        spec["meta"]["team"] = team
    if timeout:
        spec["timeout"] = timeout
    return spec


class SqlAPI(ExperimentsAPI):
    """SQL runs and Spark applications."""

    def sql(self, query: str, *, wait: bool = True, **options: Any) -> dict[str, Any]:
        """Run ``query`` (``:name`` parameters bound by the database, never formatted in)
        against a team's ``connection`` (or ``engine="spark"``); with ``wait``, return the
        ended run with its ``result`` (row count, schema, first rows) when it succeeded.
        Options: those of :func:`sql_spec`."""
        run = self.submit(sql_spec(query, **options))
        if not wait:
            return run
        run = self.wait(run["id"])
        if run["status"] == "succeeded":
            run["result"] = self.sql_result(run["id"])
        return run

    def sql_result(self, run_id: int) -> dict[str, Any]:
        """A SQL run's ``result.json``: ``rows``, ``columns``, ``schema``, ``preview``."""
        return dict(json.loads(self.download_artifact(run_id, "result.json")))

    def spark_application(self, run_id: int) -> dict[str, Any]:
        """A Spark run's application: ``running``, ``executors``, ``cores``, ``ui``."""
        return self.request("GET", f"experiments/{run_id}/spark")
