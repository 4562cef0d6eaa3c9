"""REST handlers for datasets, lineage, run comparison and interactive tracking runs."""

from __future__ import annotations

from typing import Any

from ...core import datasets
from ...core.errors import InvalidInput
from ...core.experiments import metrics as run_metrics
from ...core.experiments import runs
from ...core.validation import parse_int
from .base import BaseHandler


class DatasetsHandler(BaseHandler):
    path = "/datasets"

    async def get(self) -> None:
        identity = await self.identity()
        team = self.get_query_argument("team", None)
        tag = self.get_query_argument("tag", None)
        async with self.core.db.session() as s:
            items = [
                datasets.to_json(d) for d in await datasets.list_visible(s, identity, team, tag)
            ]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            out = datasets.to_json(await datasets.create(s, identity, body))
        self.write_json(out, status=201)


class DatasetHandler(BaseHandler):
    path = "/datasets/{team}/{name}"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            out = datasets.to_json(await datasets.get(s, identity, f"{team}/{name}"))
        self.write_json(out)

    async def patch(self, team: str, name: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            out = datasets.to_json(await datasets.update(s, identity, f"{team}/{name}", body))
        self.write_json(out)

    async def delete(self, team: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await datasets.delete(s, identity, f"{team}/{name}")
        self.set_status(204)
        self.finish()


class LineageHandler(BaseHandler):
    path = "/lineage"

    async def get(self) -> None:
        identity = await self.identity()
        arg = self.get_query_argument
        wanted: dict[str, Any] = {
            "dataset": arg("dataset", None),
            "run": self.int_arg("run"),
            "model": arg("model", None),
            "version": arg("version", None),
            "endpoint": arg("endpoint", None),
        }
        if not any(v is not None for k, v in wanted.items() if k != "version"):
            raise InvalidInput("Name a 'dataset', 'run', 'model' (and 'version') or 'endpoint'.")
        async with self.core.db.session() as s:
            graph = await datasets.lineage(s, identity, **wanted)
        self.write_json(graph)


class CompareHandler(BaseHandler):
    """``GET /experiments/compare?ids=1,2,3``: params and latest metrics side by side."""

    path = "/experiments/compare"

    async def get(self) -> None:
        identity = await self.identity()
        raw = self.get_query_argument("ids", "")
        try:
            ids = [parse_int(x.strip(), "ids", minimum=1) for x in raw.split(",") if x.strip()]
        except InvalidInput:
            raise InvalidInput("'ids' must be run ids separated by commas, like 3,5,8.") from None
        if not 1 <= len(ids) <= 50:
            raise InvalidInput("Compare between 1 and 50 runs ('ids=3,5,8').")
        async with self.core.db.session() as s:
            rows = [await runs.get(s, identity, i) for i in ids]
            metrics = await run_metrics.metrics_summary(s, ids)
            items = [
                {
                    **runs.to_json(r, full=False),
                    "params": await run_metrics.params_of(s, r.id),
                    "metrics": metrics.get(r.id, {}),
                }
                for r in rows
            ]
        keys = {
            "params": sorted({k for i in items for k in i["params"]}),
            "metrics": sorted({k for i in items for k in i["metrics"]}),
        }
        self.write_json({"items": items, "keys": keys})


class TrackingRunsHandler(BaseHandler):
    """``POST /tracking/runs``: a run for tracking an interactive notebook session."""

    path = "/tracking/runs"

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await runs.start_interactive(s, identity, body)
            out = runs.to_json(row)
        # how often the tracking process says it is alive (it ends after 4 missed beats)
        out["heartbeat_interval"] = self.core.experiments.heartbeat_interval
        self.write_json(out, status=201)


class TrackingRunHeartbeatHandler(BaseHandler):
    """``POST /tracking/runs/{id}/heartbeat``: the tracking process is alive. An
    interactive run that stops beating is ended by the service (see
    ``SubmarineService.tracking_heartbeat``)."""

    path = "/tracking/runs/{run_id}/heartbeat"

    async def post(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await runs.heartbeat(s, identity, run_id)
            out = {"id": row.id, "status": row.status, "reason": row.reason}
        self.write_json(out)


class TrackingRunEndHandler(BaseHandler):
    path = "/tracking/runs/{run_id}/end"

    async def post(self, run_id: int) -> None:
        identity = await self.identity()
        body = self.get_json_body() if self.body else {}  # streamed: not request.body
        async with self.core.db.session() as s:
            row = await runs.end_interactive(s, identity, run_id, body.get("status", "succeeded"))
            out = runs.to_json(row)
        self.write_json(out)


CATALOG_HANDLERS: list[type[BaseHandler]] = [
    DatasetsHandler,
    DatasetHandler,
    LineageHandler,
    TrackingRunsHandler,
    TrackingRunHeartbeatHandler,
    TrackingRunEndHandler,
]
# must come before /experiments/{run_id}
COMPARE_HANDLERS: list[type[BaseHandler]] = [CompareHandler]
