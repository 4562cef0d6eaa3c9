"""REST handlers of ``/api/v1``: thin wrappers over the core."""

from __future__ import annotations

from datetime import datetime, timezone

from ... import __version__
from ...core import teams
from ...core.errors import Unavailable
from .base import BaseHandler


class HealthHandler(BaseHandler):
    path = "/health"
    public = True

    async def get(self) -> None:
        try:
            await self.core.db.ping()
        except Exception as e:
            self.log.error("health check: metastore unreachable: %s", e)
            raise Unavailable("The metastore is unreachable.") from None
        self.write_json({"status": "ok", "version": __version__, "database": "ok"})


class OpenAPIHandler(BaseHandler):
    path = "/openapi.json"
    public = True

    async def get(self) -> None:
        self.write_json(self.core.openapi)


class MeHandler(BaseHandler):
    path = "/me"

    async def get(self) -> None:
        identity = await self.identity()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as session:
            mine = await teams.list_teams(session, identity, groups, member_only=True)
        body = identity.to_json()
        body["teams"] = [{"name": t.name, "description": t.description} for t in mine]
        body["server_time"] = datetime.now(timezone.utc).isoformat()
        self.write_json(body)


class TeamsHandler(BaseHandler):
    path = "/teams"

    async def get(self) -> None:
        identity = await self.identity()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as session:
            found = await teams.list_teams(session, identity, groups)
        self.write_json({"items": [t.to_json() for t in found]})


class TeamHandler(BaseHandler):
    path = "/teams/{team}"

    async def get(self, team: str) -> None:
        identity = await self.identity()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as session:
            found = await teams.get_team(session, identity, team, groups, self.core.quota_defaults)
        self.write_json(found.to_json())

    async def patch(self, team: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as session:
            found = await teams.update_team(
                session, identity, team, body, groups, self.core.quota_defaults
            )
        self.write_json(found.to_json())


API_HANDLERS: list[type[BaseHandler]] = [
    HealthHandler,
    OpenAPIHandler,
    MeHandler,
    TeamsHandler,
    TeamHandler,
]
