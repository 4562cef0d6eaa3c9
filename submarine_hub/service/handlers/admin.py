"""The platform's admin page: teams, quotas and usage, sessions, experiments, serving
endpoints, notebook schedules, environments, credentials; it refreshes itself."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import jinja2
from tornado import web

from ...core import credentials, endpoints, environments, notebook_schedules, sessions, teams
from ...core.errors import Forbidden
from ...core.experiments import runs
from ...core.identity import Identity
from ...core.quotas import Quota
from ...core.resources import format_memory
from .base import BaseHandler

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parents[1] / "templates"),
    autoescape=True,
)


#: How often the open page reads itself again (usage, sessions, runs, endpoints...).
REFRESH_SECONDS = 10


class AdminPageHandler(BaseHandler):
    """An HTML page of the service for hub admins only (never cached)."""

    public = True  # browsers without a login are sent to the hub's login

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")

    async def require_admin(self, page: str) -> Identity:
        """The caller; 403 naming ``page`` unless they are a hub admin."""
        identity = await self.identity()
        if not identity.admin:
            raise Forbidden(f"The Submarine {page} page is for hub admins.")
        return identity


class AdminHandler(AdminPageHandler):
    """``/services/submarine/admin/``: hub admins only."""

    @web.authenticated
    async def get(self) -> None:
        identity = await self.require_admin("admin")
        groups = await self.core.hub_groups()
        defaults = self.core.quota_defaults
        async with self.core.db.session() as s:
            team_views = [
                await teams.get_team(s, identity, name, groups, defaults) for name in sorted(groups)
            ]
            envs = [
                {**environments.to_json(e), "build": self.core.builds.status(e)}
                for e in await environments.list_visible(s, identity)
            ]
            active = await sessions.list_active(s, identity)
            run_rows = await runs.active(s, limit=200)
            creds = [credentials.to_json(c) for c in await credentials.list_visible(s, identity)]
            serving = [endpoints.to_json(e) for e in await endpoints.list_endpoints(s, identity)]
            schedules = [
                notebook_schedules.to_json(r)
                for r in await notebook_schedules.list_visible(s, identity)
            ]
        prefix = self.settings["submarine_service_prefix"]
        page = TEMPLATES.get_template("admin.html").render(
            name=identity.name,
            teams=[
                {**t.to_json(), "overrides": t.overrides or {}, "quota": t.quota.to_json()}
                for t in team_views
                if t.quota is not None
            ],
            quota_keys=Quota.names(),
            sessions=active,
            runs=[runs.to_json(r, full=False) for r in run_rows],
            env_names={e["id"]: e["ref"] for e in envs},
            environments=envs,
            credentials=creds,
            endpoints=serving,
            schedules=schedules,
            refresh_seconds=REFRESH_SECONDS,
            now=datetime.now(timezone.utc).strftime("%H:%M:%S UTC"),
            fmt_memory=format_memory,
            api=prefix + "api/v1/",
            xsrf=self.xsrf_token.decode()
            if isinstance(self.xsrf_token, bytes)
            else self.xsrf_token,
            hub_prefix=self.hub_auth.hub_prefix,
        )
        self.finish(page)

    def write_error(self, status_code: int, **kwargs: object) -> None:
        exc_info = kwargs.get("exc_info")
        message = getattr(exc_info[1], "message", None) if exc_info else None  # type: ignore[index]
        self.set_header("Content-Type", "text/html; charset=UTF-8")
        self.finish(
            f"<!doctype html><title>{status_code}</title><h1>{status_code}</h1>"
            f"<p>{web.escape.xhtml_escape(message or self._reason)}</p>"
        )
