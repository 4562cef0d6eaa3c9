"""REST handlers for environments, credentials and sessions."""

from __future__ import annotations

from typing import Any

from ...core import credentials, environments, rooms, sessions
from ...core.identity import Identity
from ...core.usage import budgets
from ...store.db import reading
from ...store.models import EnvironmentProfile
from .base import BaseHandler


def env_json(handler: BaseHandler, env: EnvironmentProfile) -> dict[str, Any]:
    return {**environments.to_json(env), "build": handler.core.builds.status(env)}


class EnvironmentsHandler(BaseHandler):
    path = "/environments"

    async def get(self) -> None:
        identity = await self.identity()
        team = self.get_query_argument("team", None)
        async with self.core.db.session() as s:
            found = await environments.list_visible(s, identity, team)
            items = [env_json(self, e) for e in found]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as s:
            env = await environments.create(s, identity, body, groups)
            out = env_json(self, env)
        self.write_json(out, status=201)


class EnvironmentHandler(BaseHandler):
    path = "/environments/{scope}/{name}"

    async def get(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            env = await environments.get(s, identity, scope, name)
            out = env_json(self, env)
        self.write_json(out)

    async def patch(self, scope: str, name: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            env = await environments.update(s, identity, scope, name, body)
            out = env_json(self, env)
        self.write_json(out)

    async def delete(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await environments.delete(s, identity, scope, name)
        self.set_status(204)
        self.finish()


class EnvironmentBuildHandler(BaseHandler):
    path = "/environments/{scope}/{name}/build"

    async def get(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            env = await environments.get(s, identity, scope, name)
        out = self.core.builds.status(env)
        if self.flag_arg("log"):
            out["log"] = self.core.builds.log_text(env)
        self.write_json(out)

    async def post(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            env = await environments.get(s, identity, scope, name)
        self.write_json(self.core.builds.start(env), status=202)


class CredentialsHandler(BaseHandler):
    path = "/credentials"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            items = [credentials.to_json(c) for c in await credentials.list_visible(s, identity)]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.checked_body()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as s:
            cred = await credentials.create(s, self.core.crypt, identity, body, groups)
            out = credentials.to_json(cred)
        self.write_json(out, status=201)


class CredentialHandler(BaseHandler):
    path = "/credentials/{owner_kind}/{owner}/{name}"

    async def delete(self, owner_kind: str, owner: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await credentials.delete(s, identity, owner_kind, owner, name)
        self.set_status(204)
        self.finish()


async def grant_json(handler: BaseHandler, row: Any, env: EnvironmentProfile | None) -> dict:
    """What the spawner needs to start an admitted session, secrets included."""
    async with handler.core.db.session() as s:
        env_vars, files = await credentials.for_session(s, handler.core.crypt, row.user, row.team)
        room = await rooms.of_account(s, row.user)
    if room is not None and room.team == row.team:  # the team's room: RTC, the team's folder
        env_vars["SUBMARINE_ROOM"] = "1"
    env_vars.update(
        SUBMARINE_TEAM=row.team,
        SUBMARINE_SESSION_ID=str(row.id),
    )
    environment = None
    if env is not None:
        environment = {**environments.to_json(env), "build": handler.core.builds.status(env)}
        env_vars["SUBMARINE_ENVIRONMENT"] = f"{env.scope}/{env.name}"
    return {**sessions.to_json(row), "environment": environment, "env": env_vars, "files": files}


class SessionsHandler(BaseHandler):
    path = "/sessions"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            rows = await sessions.list_active(s, identity)
        self.write_json({"items": [sessions.to_json(r) for r in rows]})

    async def post(self) -> None:
        caller = await self.identity()
        sessions.check_spawner(caller)
        body = self.get_json_body()
        user = await self.core.user_identity(body.get("user"))
        async with self.core.db.session() as s:
            row, env = await sessions.admit(s, caller, body, user, self.core.quota_defaults)
            # admitted, but the team's budget is nearly or (policy allow) fully spent:
            # the spawner tells the user on the spawn page
            warning = (await budgets.warnings(s, [row.team])).get(row.team)
        if env is not None:
            self.core.builds.start(env, retry_failed=False)
        self.write_json({**await grant_json(self, row, env), "budget_warning": warning},
                        status=201)  # fmt: skip


class SessionHandler(BaseHandler):
    path = "/sessions/{session_id}"

    async def get(self, session_id: int) -> None:
        caller = await self.identity()
        sessions.check_spawner(caller)
        async with self.core.db.session() as s:
            row, env = await sessions.get_with_environment(s, session_id)
        self.write_json(await grant_json(self, row, env))

    async def delete(self, session_id: int) -> None:
        caller = await self.identity()
        async with self.core.db.session() as s:
            await sessions.stop(s, caller, session_id)
        self.set_status(204)
        self.finish()


class SpawnOptionsHandler(BaseHandler):
    path = "/spawn-options/{user}"

    async def get(self, user: str) -> None:
        caller = await self.identity()
        sessions.check_spawner(caller)
        identity: Identity = await self.core.user_identity(user)
        async with self.core.db.session() as s:
            envs = await environments.list_visible(s, identity.without_admin())
            items = [environments.to_json(e) for e in envs]
        reading(False)  # budgets are metered up to now: a GET that writes
        try:
            async with self.core.db.session() as s:
                warnings = await budgets.warnings(s, sorted(identity.teams))
        finally:
            reading(True)
        self.write_json({"user": user, "teams": sorted(identity.teams), "environments": items,
                         "budget_warnings": warnings})  # fmt: skip


PLATFORM_HANDLERS: list[type[BaseHandler]] = [
    EnvironmentsHandler,
    EnvironmentBuildHandler,
    EnvironmentHandler,
    CredentialsHandler,
    CredentialHandler,
    SessionsHandler,
    SessionHandler,
    SpawnOptionsHandler,
]


class SessionStopHandler(BaseHandler):
    path = "/sessions/{session_id}/stop"

    async def post(self, session_id: int) -> None:
        """Stop the session's server through the hub; its spawner then releases the quota."""
        caller = await self.identity()
        async with self.core.db.session() as s:
            row = await sessions.get_for_stop(s, caller, session_id)
        await self.core.hub.stop_server(row.user, row.server_name)
        self.write_json({"id": row.id, "state": "stopping"}, status=202)


PLATFORM_HANDLERS.append(SessionStopHandler)
