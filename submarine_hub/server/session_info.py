"""``GET <base_url>submarine/session``: what this session runs for.

The lab shows it (a status-bar item) and uses it as the default team and environment of
its forms, as the CLI, SDK and magics do inside a session.
"""

from __future__ import annotations

import json
import os

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import SubmarineHandler


def session_info(standalone_team: str = "") -> dict[str, str | None]:
    """The session's team and environment profile (``team/name``, or a global one's name), from
    what the spawner gave it (``$SUBMARINE_TEAM``, ``$SUBMARINE_ENVIRONMENT``); in
    standalone mode the one team."""
    environment = os.environ.get("SUBMARINE_ENVIRONMENT") or None
    if environment and environment.startswith("_global/"):
        environment = environment[len("_global/") :]  # a global profile goes by its name
    return {
        "team": os.environ.get("SUBMARINE_TEAM") or standalone_team or None,
        "environment": environment,
    }


class SessionInfoHandler(SubmarineHandler):
    """The session's team and environment, for the lab."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        extension = self.extension
        team = extension.team if extension.standalone else ""
        self.finish(json.dumps(session_info(team)))
