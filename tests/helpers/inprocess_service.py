"""The platform service in the test's own process and event loop: one user, admin of one
team, no hub (the standalone mode's directory), every caller that user. For tests of
handlers that need no hub, and of what the event loop does meanwhile."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from submarine_hub.server.standalone import StandaloneDirectory
from submarine_hub.service.app import SubmarineService
from submarine_hub.service.handlers.base import BaseHandler
from submarine_hub.store import upgrade


class _OneUser:
    """The service's identity provider: every caller is the directory's one user."""

    login_hint = "no login here"

    def __init__(self, directory: StandaloneDirectory) -> None:
        self.directory = directory

    async def check_request(self, handler: BaseHandler) -> None:
        return None

    async def user_model(self, handler: BaseHandler) -> dict[str, Any] | None:
        return self.directory.model()


@asynccontextmanager
async def service_client(
    data_dir: Path, user: str = "alice", team: str = "ds", timeout: float = 60
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API of a service whose data is in ``data_dir`` (SQLite), served by
    the running event loop; ``user`` is admin of ``team``. Environments are not built, runs
    not started."""
    service = SubmarineService(
        data_dir=str(data_dir),
        service_prefix="/services/submarine/",
        api_token="unused",
        build_environments=False,
        run_as_owner=False,
    )
    upgrade(service.db_url)
    directory = StandaloneDirectory(user, team)
    context = service.make_context(directory)
    app = service.make_app(context)
    app.settings["submarine_identity_provider"] = _OneUser(directory)
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    base = f"http://127.0.0.1:{port}/services/submarine/api/v1/"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=timeout) as client:
            yield client
    finally:
        server.stop()
        await server.close_all_connections()
        await context.db.dispose()
