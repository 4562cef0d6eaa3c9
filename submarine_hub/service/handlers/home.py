"""The service's landing page, reached from the hub's Services menu."""

from __future__ import annotations

import html

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
</ul></body></html>
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
            )
        )
