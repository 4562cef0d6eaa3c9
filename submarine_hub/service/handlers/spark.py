"""A Spark run's application through the hub: its state and executors, and its live UI.

``GET /experiments/{run_id}/spark`` says where the run's application is and how many
executors it holds; ``GET /experiments/{run_id}/spark/ui/{subpath}`` relays the driver's
own web UI (started with ``spark.ui.proxyBase`` set to that path, so its links come back
here). Only members of the run's team (and hub admins) reach either; the relay goes only
to the UI the platform gave the run's driver, with none of the caller's credentials.
"""

from __future__ import annotations

from typing import Any

import httpx

from ...core.errors import Conflict, NotFound
from ...core.experiments import runs
from ...core.experiments.backend import FINAL_STATES
from .base import BaseHandler

#: headers of the UI's answers passed on to the caller
PASSED_HEADERS = ("Content-Type", "Location", "Cache-Control", "Last-Modified", "ETag")
UI_TIMEOUT_S = 10.0


class SparkBase(BaseHandler):
    async def spark_application(self, run_id: int) -> tuple[Any, dict[str, Any]]:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await runs.get(s, identity, run_id)
        info = await self.core.experiments.backend.spark_info(run_id) if row.launched_at else None
        if info is None:
            if row.kind in ("spark", "sql") and not row.launched_at:
                raise Conflict(
                    f"Run {run_id} has not started yet: its Spark application is not up."
                )
            raise NotFound(f"Run {run_id} has no Spark application on this backend.")
        return row, info


class SparkRunHandler(SparkBase):
    path = "/experiments/{run_id}/spark"

    async def get(self, run_id: int) -> None:
        row, info = await self.spark_application(run_id)
        live = row.status not in FINAL_STATES and bool(info.get("running"))
        self.write_json(
            {
                "run_id": row.id,
                "name": info.get("name"),
                "master": info.get("master"),
                "app_id": info.get("app_id"),
                "running": live,
                "executors": info.get("executors", 0) if live else 0,
                "cores": info.get("cores", 0) if live else 0,
                # the driver's UI through the service (while it runs), relative to api/v1
                "ui": f"experiments/{row.id}/spark/ui/" if live else None,
                "event_log": "spark-events/",
            }
        )


class SparkUIHandler(SparkBase):
    path = "/experiments/{run_id}/spark/ui/{subpath}"

    async def get(self, run_id: int, subpath: str = "") -> None:
        row, info = await self.spark_application(run_id)
        if row.status in FINAL_STATES or not info.get("ui"):
            raise Conflict(
                f"Run {run_id} has ended ({row.status}): its Spark UI is gone; replay its event "
                "log (artifacts spark-events/) in a Spark history server."
            )
        query = self.request.query
        url = f"{info['ui']}/{subpath.lstrip('/')}" + (f"?{query}" if query else "")
        try:
            async with httpx.AsyncClient(timeout=UI_TIMEOUT_S, follow_redirects=False) as client:
                answer = await client.get(
                    url, headers={"Accept": self.request.headers.get("Accept", "*/*")}
                )
        except httpx.HTTPError:
            raise Conflict(
                f"Run {run_id}'s Spark UI does not answer (is the driver up yet?)."
            ) from None
        self.set_status(answer.status_code if answer.status_code < 500 else 502)
        for name in PASSED_HEADERS:
            if name in answer.headers:
                self.set_header(name, answer.headers[name])
        self.finish(answer.content)


SPARK_HANDLERS: list[type[BaseHandler]] = [SparkRunHandler, SparkUIHandler]
