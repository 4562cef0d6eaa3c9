"""REST handlers for team rooms (collaboration sessions): ``/teams/{team}/room``."""

from __future__ import annotations

import os
from typing import Any, Protocol, runtime_checkable

from tornado import web

from ...core import rooms
from ...core.errors import Unavailable
from .base import BaseHandler


@runtime_checkable
class RoomsHub(Protocol):
    """What a hub directory does for rooms (the real hub's client; not standalone mode)."""

    async def open_room(self, account: str, team: str) -> str: ...

    async def room_state(self, account: str) -> str: ...

    async def stop_server(self, user: str, server_name: str = "") -> None: ...


class _RoomBase(BaseHandler):
    def _hub(self) -> RoomsHub:
        hub: Any = self.core.hub
        if not isinstance(hub, RoomsHub):
            raise Unavailable("Team rooms need a JupyterHub; this server runs standalone.")
        return hub

    def _view(self, team: str, account: str, state: str, by: str | None) -> dict[str, Any]:
        base = os.environ.get("JUPYTERHUB_BASE_URL", "/")
        return rooms.RoomView(
            team, account, state, rooms.room_url(base, account, team), by
        ).to_json()

    async def open(self, team: str) -> dict[str, Any]:
        """Open the caller's team's room (made on first use); its view."""
        identity = await self.identity()
        hub = self._hub()
        groups = await self.core.hub_groups()
        names = await self.core.hub_user_names()
        async with self.core.db.session() as s:
            row = await rooms.ensure(s, identity, team, groups, names)
            account, by = row.account, row.created_by
        state = await hub.open_room(account, team)
        return self._view(team, account, state, by)


class TeamRoomHandler(_RoomBase):
    path = "/teams/{team}/room"

    async def get(self, team: str) -> None:
        identity = await self.identity()
        rooms.check_team(identity, team, await self.core.hub_groups())
        async with self.core.db.session() as s:
            row = await rooms.get(s, team)
        if row is None:
            self.write_json(self._view(team, rooms.account_name(team), "stopped", None))
            return
        state = await self._hub().room_state(row.account)
        self.write_json(self._view(team, row.account, state, row.created_by))

    async def post(self, team: str) -> None:
        self.write_json(await self.open(team), status=202)

    async def delete(self, team: str) -> None:
        """Stop the team's room (any member may, as the hub's share lets them): its
        kernels and collaboration sessions end, for everyone in it; saved work stays."""
        identity = await self.identity()
        rooms.check_team(identity, team, await self.core.hub_groups())
        async with self.core.db.session() as s:
            row = await rooms.get(s, team)
        if row is None:  # never opened: nothing runs
            self.write_json(self._view(team, rooms.account_name(team), "stopped", None), 202)
            return
        hub = self._hub()
        await hub.stop_server(row.account)
        state = await hub.room_state(row.account)
        self.write_json(self._view(team, row.account, state, row.created_by), status=202)


class RoomPageHandler(_RoomBase):
    """``/services/submarine/rooms/<team>``: the service's home page links here; opens
    the team's room, then sends the browser to it (the hub's page while it starts)."""

    public = True  # browsers without a login are sent to the hub's login

    @web.authenticated
    async def get(self, team: str) -> None:
        self.redirect((await self.open(team))["url"])


ROOM_HANDLERS: list[type[BaseHandler]] = [TeamRoomHandler]
