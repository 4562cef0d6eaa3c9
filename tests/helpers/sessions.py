"""Sessions of the shared test hub: started for the team a test needs."""

from __future__ import annotations

import requests

from .hub import Hub


def ensure_session(hub: Hub, user: str, team: str | None = None, environment: str = "") -> None:
    """``user``'s session runs for ``team`` (default: their first team) and ``environment``
    (default: the hub's), restarting it if another test left it running for another."""
    if team is None:
        teams = hub.api("GET", "me", user=user).json()["teams"]
        team = sorted(t["name"] for t in teams)[0]
    if user in hub._spawned:
        r = requests.get(
            hub.user_url(user, "submarine/session"),
            headers={"Authorization": f"token {hub.token_for(user)}"},
            timeout=30,
        )
        wanted = {"team": team, "environment": environment.removeprefix("_global/") or None}
        if r.status_code == 200 and r.json() == wanted:
            return
        hub.stop_server(user)
    hub.spawn(user, {"team": team, "environment": environment})
