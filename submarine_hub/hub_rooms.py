"""What JupyterHub's own pages show of team rooms (docs/collaboration.md).

``c.JupyterHub.template_vars = {"submarine_rooms": team_rooms}``: the hub calls
:func:`team_rooms` with the signed-in user for every page it renders, and our
``hub_templates/home.html`` lists the result on the hub's home page, each room with a
link that opens it (the platform service's ``rooms/<team>`` page: it makes the room on
first use, starts it if it is stopped, and sends the browser on). This runs in the hub's
process and reads only the hub's own state (the user's groups, the collaboration
accounts' servers); who may open a room is still decided by the service.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .core.rooms import ACCOUNT_PREFIX, account_name

#: where the platform service's room page lives, under the hub's base URL
SERVICE_PREFIX = "services/submarine/"


def _state(users: Any, member: Any) -> str:
    """``stopped``, ``starting``, ``stopping`` or ``ready``: the account's default server,
    as the hub itself knows it (no API call)."""
    if member is None or users is None:
        return "stopped"
    spawner = users[member].spawners.get("")
    if spawner is None or not spawner.active:
        return "stopped"
    if spawner.pending == "stop":
        return "stopping"
    return "ready" if spawner.ready else "starting"


def team_rooms(user: Any) -> list[dict[str, str]]:
    """The rooms of ``user``'s teams (JupyterHub groups), by team name: ``team``,
    ``account``, ``state`` and ``url`` (the link that opens the room). Empty for no user
    (the login page) and for a collaboration account itself."""
    if user is None or getattr(user, "name", "").startswith(ACCOUNT_PREFIX):
        return []
    settings = getattr(user, "settings", None) or {}
    users = settings.get("users")
    base = settings.get("base_url", "/")
    rooms = []
    for group in sorted(user.groups, key=lambda g: g.name):
        account = account_name(group.name)
        member = next((u for u in group.users if u.name == account), None)
        rooms.append(
            {
                "team": group.name,
                "account": account,
                "state": _state(users, member),
                "url": f"{base}{SERVICE_PREFIX}rooms/{quote(group.name)}",
            }
        )
    return rooms
