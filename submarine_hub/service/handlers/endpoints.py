"""REST handlers for serving endpoints: create, list, read (with live statistics),
update (a rolling update to new versions or weights), stop, and logs."""

from __future__ import annotations

import asyncio
from typing import Any

from ...core import endpoints
from ...core.errors import InvalidInput, Unavailable
from .base import BaseHandler

LOG_CHUNK = 256 * 1024
FOLLOW_POLL_S = 0.3


class EndpointsBase(BaseHandler):
    @property
    def manager(self) -> Any:
        manager = self.core.endpoints
        if manager is None or not manager.started:
            raise Unavailable(
                "Serving endpoints run under the hub's submarine service; they are not "
                "available here (standalone mode)."
            )
        return manager

    def endpoint_json(self, row: Any) -> dict[str, Any]:
        return endpoints.to_json(row, self.manager.public_url)


class EndpointsHandler(EndpointsBase):
    path = "/endpoints"

    async def get(self) -> None:
        identity = await self.identity()
        manager = self.manager
        async with self.core.db.session() as s:
            rows = await endpoints.list_endpoints(
                s, identity, self.get_query_argument("team", None), stopped=self.flag_arg("stopped")
            )
        self.write_json({"items": [endpoints.to_json(r, manager.public_url) for r in rows]})

    async def post(self) -> None:
        identity = await self.identity()
        manager = self.manager
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await endpoints.create(
                s,
                identity,
                body,
                service_prefix=manager.service_name_prefix,
                backend=manager.backend.name,
            )
        manager.wake()
        self.write_json(self.endpoint_json(row), status=201)


class EndpointHandler(EndpointsBase):
    path = "/endpoints/{team}/{name}"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        manager = self.manager
        async with self.core.db.session() as s:
            row = await endpoints.get(s, identity, team, name)
        out = self.endpoint_json(row)
        if row.status != endpoints.STOPPED:
            out["serving"], out["stats"] = await asyncio.gather(
                manager.serving(row), manager.stats(row)
            )
        self.write_json(out)

    async def patch(self, team: str, name: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        manager = self.manager
        async with self.core.db.session() as s:
            row = await endpoints.get(s, identity, team, name)
            row = await endpoints.update(s, identity, row, body)
        manager.wake()
        self.write_json(self.endpoint_json(row), status=202)

    async def delete(self, team: str, name: str) -> None:
        """Stop the endpoint (its record and logs stay); ``?purge=1`` also deletes them."""
        identity = await self.identity()
        manager = self.manager
        purge = self.flag_arg("purge")
        async with self.core.db.session() as s:
            row = await endpoints.get(s, identity, team, name)
            was_running = row.status != endpoints.STOPPED
            if was_running:
                endpoints.stop(row, identity)
            elif not purge:
                raise InvalidInput(f"Endpoint {team}/{name} is already stopped.")
        if was_running:
            await manager.stop_endpoint(row.id, row.config.get("service", ""))
        if purge:
            async with self.core.db.session() as s:
                fresh = await endpoints.get(s, identity, team, name)
                await endpoints.delete(s, identity, fresh)
            await manager.backend.remove(row.id)
            self.set_status(204)
            self.finish()
            return
        self.write_json(self.endpoint_json(row))


class EndpointLogsHandler(EndpointsBase):
    path = "/endpoints/{team}/{name}/logs"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        manager = self.manager
        async with self.core.db.session() as s:
            row = await endpoints.get(s, identity, team, name)
        offset = self._offset()
        follow = self.flag_arg("follow")
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_header("X-Accel-Buffering", "no")
        while True:
            chunk = await manager.backend.read_log(row.id, offset, LOG_CHUNK)
            if chunk:
                offset += len(chunk)
                self.write(chunk)
                await self.flush()
                continue
            if not follow or self.request.connection.stream.closed():  # type: ignore[union-attr]
                break
            async with self.core.db.session() as s:
                row = await endpoints.get(s, identity, team, name)
            if row.status == endpoints.STOPPED:
                break
            await asyncio.sleep(FOLLOW_POLL_S)
        self.set_header("X-Submarine-Log-Offset", str(offset))
        self.finish()

    def _offset(self) -> int:
        return self.int_arg("offset", 0, minimum=0) or 0


class EndpointMetricsHandler(EndpointsBase):
    """``GET /endpoints/{team}/{name}/metrics?window=3600&step=10``: requests, errors and
    latency over time, per step, as the endpoint's server process counted them (since it
    started, at most the last hour; a stopped endpoint has none)."""

    path = "/endpoints/{team}/{name}/metrics"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        manager = self.manager
        window = self.int_arg("window", 3600, minimum=60, maximum=3600)
        step = self.int_arg("step", 10, minimum=10, maximum=600)
        if step % 10:
            raise InvalidInput("'step' is a multiple of 10 (seconds).")
        if step > window:
            raise InvalidInput("'step' is at most 'window'.")
        async with self.core.db.session() as s:
            row = await endpoints.get(s, identity, team, name)
        out: dict[str, Any] = {"endpoint": f"{row.team}/{row.name}"}
        series = None
        if row.status != endpoints.STOPPED:
            series = await manager.series(row, window, step)
        if series is None:
            out.update(step_s=step, window_s=window, points=[], status=row.status)
            out["message"] = (
                f"{row.team}/{row.name} is stopped: no traffic to show."
                if row.status == endpoints.STOPPED
                else f"{row.team}/{row.name} does not answer now ({row.status}); retry shortly."
            )
        else:
            out.update(series, status=row.status)
        self.write_json(out)


ENDPOINT_HANDLERS: list[type[BaseHandler]] = [
    EndpointsHandler,
    EndpointHandler,
    EndpointLogsHandler,
    EndpointMetricsHandler,
]
