"""What the service reads from the JupyterHub REST API with its own token: users and groups."""

from __future__ import annotations

import time
from typing import Any, Protocol

import httpx

from ..core.errors import Unavailable

_PAGINATED = {"Accept": "application/jupyterhub-pagination+json"}


class HubDirectory(Protocol):
    """Where the service reads users and teams: the hub (:class:`HubClient`), or the
    single-user server's standalone mode with its one user and team."""

    async def user(self, name: str) -> dict[str, Any] | None: ...

    async def user_names(self) -> list[str]: ...

    async def groups(self) -> dict[str, list[str]]: ...

    async def stop_server(self, user: str, server_name: str = "") -> None: ...

    async def close(self) -> None: ...


class HubClient:
    """A small async client of the hub API with a short-lived cache.

    Team membership is JupyterHub group membership; the service reads it with the
    scopes of its role (``read:users``, ``list:groups``, ``read:groups``).
    """

    def __init__(
        self, api_url: str, token: str, *, cache_seconds: float = 5.0, timeout: float = 10.0
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.cache_seconds = cache_seconds
        self._http = httpx.AsyncClient(headers={"Authorization": f"token {token}"}, timeout=timeout)
        # answers by path, for cache_seconds; expired ones are dropped as time goes (a
        # request naming users that do not exist must not grow it for ever)
        self._cache: dict[str, tuple[float, Any]] = {}
        self._purged = time.monotonic()

    async def _get(
        self, path: str, headers: dict[str, str] | None = None, *, fresh: bool = False
    ) -> Any:
        now = time.monotonic()
        hit = self._cache.get(path)
        if hit and now - hit[0] < self.cache_seconds and not fresh:
            return hit[1]
        try:
            resp = await self._http.get(f"{self.api_url}{path}", headers=headers)
        except httpx.HTTPError as e:
            raise Unavailable(f"Could not reach JupyterHub at {self.api_url}: {e}") from e
        if resp.status_code == 404:
            value = None
        elif resp.is_success:
            value = resp.json()
        else:
            raise Unavailable(
                f"JupyterHub answered {resp.status_code} to GET {path}; "
                "check the role granted to the submarine service."
            )
        self._cache[path] = (now, value)
        if now - self._purged >= self.cache_seconds:  # keys not asked again go too
            self._cache = {k: v for k, v in self._cache.items() if now - v[0] < self.cache_seconds}
            self._purged = now
        return value

    async def user(self, name: str) -> dict[str, Any] | None:
        return await self._get(f"/users/{name}")

    async def _all(self, path: str, *, fresh: bool = False) -> list[dict[str, Any]]:
        """Every item of a paginated hub listing (``path`` may carry a query)."""
        items: list[dict[str, Any]] = []
        join = "&" if "?" in path else "?"
        while True:
            page = await self._get(
                f"{path}{join}offset={len(items)}&limit=200", headers=_PAGINATED, fresh=fresh
            )
            items += page["items"]
            if not page["_pagination"].get("next"):
                return items

    async def user_names(self) -> list[str]:
        """Names of all hub users."""
        return [u["name"] for u in await self._all("/users")]

    async def groups(self) -> dict[str, list[str]]:
        """All hub groups, as ``{name: [member, ...]}``."""
        return {g["name"]: list(g.get("users", [])) for g in await self._all("/groups")}

    async def running_servers(self) -> set[tuple[str, str]]:
        """``(user, server_name)`` of every server the hub runs or is starting or stopping
        (its "active" servers), read now (the service's role needs ``list:users`` and
        ``read:servers``, which ``servers`` includes)."""
        users = await self._all("/users?state=active", fresh=True)
        if any("servers" not in u for u in users):  # an active user always has one
            raise Unavailable(
                "JupyterHub does not show the service its users' servers; grant the "
                "submarine service's role the scope read:servers (or servers)."
            )
        return {(u["name"], name) for u in users for name in u["servers"]}

    async def stop_server(self, user: str, server_name: str = "") -> None:
        """Ask the hub to stop a user's server (the service's role needs ``servers``)."""
        path = f"/users/{user}/servers/{server_name}" if server_name else f"/users/{user}/server"
        try:
            resp = await self._http.delete(f"{self.api_url}{path}")
        except httpx.HTTPError as e:
            raise Unavailable(f"Could not reach JupyterHub at {self.api_url}: {e}") from e
        if resp.status_code not in (202, 204, 400, 404):  # 400/404: not running any more
            raise Unavailable(
                f"JupyterHub answered {resp.status_code} to stopping {user}'s server."
            )

    # --- team rooms (docs/collaboration.md) -------------------------------------------
    async def _send(
        self, method: str, path: str, json: Any = None, timeout: float | None = None
    ) -> httpx.Response:
        try:
            return await self._http.request(
                method,
                f"{self.api_url}{path}",
                json=json,
                timeout=timeout if timeout is not None else self._http.timeout,
            )
        except httpx.HTTPError as e:
            raise Unavailable(f"Could not reach JupyterHub at {self.api_url}: {e}") from e

    def _expect(self, resp: httpx.Response, ok: tuple[int, ...], what: str) -> None:
        if resp.status_code not in ok:
            raise Unavailable(
                f"JupyterHub answered {resp.status_code} to {what}: {resp.text[:300]} "
                "(the submarine service's role needs admin:users, groups, servers, "
                "access:servers and shares for team rooms)."
            )

    async def open_room(self, account: str, team: str) -> str:
        """Make the collaboration ``account`` (a member of group ``team``) if need be,
        start its server for the team and share it with the group (a share to the group:
        who joins or leaves the team gains or loses access at once); its state."""
        resp = await self._send("POST", f"/users/{account}")
        self._expect(resp, (201, 409), f"creating user {account}")  # 409: made before
        resp = await self._send("POST", f"/groups/{team}/users", json={"users": [account]})
        self._expect(resp, (200,), f"adding {account} to group {team}")
        # the hub answers once the server started, or after its slow_spawn_timeout (10 s)
        resp = await self._send("POST", f"/users/{account}/server", json={"team": team}, timeout=60)
        self._expect(resp, (201, 202, 400), f"starting {account}'s server")  # 400: running
        resp = await self._send(
            "POST",
            f"/shares/{account}/",
            # members reach it, and may start it again from the hub's pages once stopped
            json={
                "group": team,
                "scopes": [f"access:servers!server={account}/", f"servers!server={account}/"],
            },
        )
        self._expect(resp, (200,), f"sharing {account}'s server with group {team}")
        await self.sync_room(account, team)
        self._cache.clear()  # the account's groups and server changed
        return await self.room_state(account)

    async def sync_room(self, account: str, team: str) -> tuple[list[str], list[str]]:
        """Share the room with each member of ``team`` by name and revoke who left; the
        names granted and revoked. (JupyterHub gives a token only the shares made to its
        user, not those made to the user's groups: the OAuth tokens members reach the
        room with need a share of their own. The group share serves the hub's pages.)"""
        group = await self._get(f"/groups/{team}", fresh=True)
        members = set((group or {}).get("users") or ()) - {account}
        resp = await self._send("GET", f"/shares/{account}/")
        if resp.status_code == 404:  # the account or its server is gone
            return [], []
        self._expect(resp, (200,), f"listing the shares of {account}'s server")
        listed = resp.json()
        items = listed["items"] if isinstance(listed, dict) else listed
        shared = {i["user"]["name"] for i in items if i.get("user")}
        scopes = [f"access:servers!server={account}/", f"servers!server={account}/"]
        granted, revoked = sorted(members - shared), sorted(shared - members)
        for name in granted:
            resp = await self._send(
                "POST", f"/shares/{account}/", json={"user": name, "scopes": scopes}
            )
            self._expect(resp, (200,), f"sharing {account}'s server with {name}")
        for name in revoked:
            resp = await self._send("PATCH", f"/shares/{account}/", json={"user": name})
            self._expect(resp, (200,), f"revoking {name}'s share of {account}'s server")
        return granted, revoked

    async def room_state(self, account: str) -> str:
        """``stopped``, ``starting``, ``ready`` or ``stopping``: the collaboration account's
        server."""
        model = await self._get(f"/users/{account}", fresh=True)
        server = (model or {}).get("servers", {}).get("")
        if not server:
            return "stopped"
        if server.get("pending") == "stop":
            return "stopping"
        return "ready" if server.get("ready") else "starting"

    async def close(self) -> None:
        await self._http.aclose()
