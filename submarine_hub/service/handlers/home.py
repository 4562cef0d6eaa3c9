"""The service's landing page, reached from the hub's Services menu."""

from __future__ import annotations

import html
from urllib.parse import quote

from tornado import web

from ... import __version__
from .base import BaseHandler

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Submarine Hub</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}
code{{background:#f3f3f3;padding:0 .2em}}</style></head>
<body><h1>Submarine Hub <small>{version}</small></h1>
<p>Signed in as <strong>{name}</strong>{admin}. Teams: {teams}.</p>
<ul>
<li><a href="{hub}">Back to the hub</a> to start your JupyterLab session.</li>
<li>REST API: <a href="{api}openapi.json"><code>{api}</code></a> (OpenAPI document).</li>
<li>Command line, inside a session: <code>submarine whoami</code>.</li>
</ul>{rooms}</body></html>
"""


class HomeHandler(BaseHandler):
    public = True  # unauthenticated browsers are sent to the hub's login

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")

    @web.authenticated
    async def get(self) -> None:
        identity = await self.identity()
        prefix = self.settings["submarine_service_prefix"]
        self.finish(
            PAGE.format(
                version=__version__,
                name=html.escape(identity.name),
                admin=" (hub admin)" if identity.admin else "",
                teams=html.escape(", ".join(sorted(identity.teams)) or "none"),
                hub=html.escape(self.hub_auth.hub_prefix),
                api=html.escape(prefix + "api/v1/"),
                rooms=self._rooms(sorted(identity.teams)),
            )
        )

    def _rooms(self, teams: list[str]) -> str:
        """Links to the caller's teams' rooms (docs/collaboration.md): code there runs
        as the team; a stopped room starts from the hub's page once it was opened."""
        if not teams:
            return ""
        prefix = self.settings["submarine_service_prefix"]
        links = "".join(
            f'<li><a class="submarine-room" href="{html.escape(prefix)}rooms/{quote(t)}">'
            f"{html.escape(t)}</a></li>"
            for t in teams
        )
        return (
            "<h2>Team rooms</h2><p>Edit notebooks together in real time; code in a room "
            f"runs as the team, not as you.</p><ul>{links}</ul>"
        )
