"""The SDK's calls on team rooms (docs/collaboration.md): a team's collaboration
session, where its members edit notebooks together in real time. Code in a room runs as
the team, never as the person who opened it."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote, urlsplit

from .transport import SyncTransport

#: the API's path under the hub's public URL
API_SUFFIX = "/services/submarine/api/v1"


class RoomsAPI(SyncTransport):
    """Team rooms: their state, opening (starting) and stopping them."""

    def _room_team(self, team: str | None) -> str:
        """``team``, else the default team, else the caller's only team."""
        if team:
            return team
        if self.default_team:
            return self.default_team
        teams = [t["name"] for t in self.me()["teams"]]
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise ValueError("You are in no team, so you have no team room.")
        raise ValueError(
            f"You are in several teams ({', '.join(teams)}): name one "
            "(or set a default: submarine config set team NAME)."
        )

    def _room_path(self, team: str | None) -> str:
        return f"teams/{quote(self._room_team(team), safe='')}/room"

    def room_link(self, room: dict[str, Any]) -> str:
        """The room's full address on the hub (its ``url`` is relative to the hub)."""
        api = self.api_url.rstrip("/")
        if not api.endswith(API_SUFFIX):
            return str(room["url"])
        parts = urlsplit(api[: -len(API_SUFFIX)])
        return f"{parts.scheme}://{parts.netloc}{room['url']}"

    def room(self, team: str | None = None) -> dict[str, Any]:
        """``team``'s room: ``state`` (stopped, starting, ready or stopping), ``account``
        (the team's collaboration account), ``url`` and ``runs_as`` ("team")."""
        return self.request("GET", self._room_path(team))

    def rooms(self) -> list[dict[str, Any]]:
        """The rooms of all your teams."""
        return [self.room(t["name"]) for t in self.me()["teams"]]

    def open_room(
        self, team: str | None = None, *, wait: bool = True, timeout: float = 300
    ) -> dict[str, Any]:
        """Open ``team``'s room (made on first use, started if stopped); with ``wait``,
        once it is ready. A room that stops while starting raises ``ValueError``; one not
        ready within ``timeout`` seconds ``TimeoutError``."""
        path = self._room_path(team)
        room = self.request("POST", path)
        deadline = time.monotonic() + timeout
        while wait and room["state"] != "ready":
            if room["state"] == "stopped":
                raise ValueError(
                    f"Team {room['team']}'s room did not start; the hub's page for "
                    f"{room['account']} says why."
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"Team {room['team']}'s room is not ready after {timeout:g} s.")
            time.sleep(1)
            room = self.request("GET", path)
        return room

    def stop_room(self, team: str | None = None) -> dict[str, Any]:
        """Stop ``team``'s room, for everyone in it (kernels and terminals end; what was
        saved stays)."""
        return self.request("DELETE", self._room_path(team))
