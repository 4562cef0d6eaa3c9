"""Standalone mode: the platform service inside the single-user server, for one user.

Without a hub (``jupyter lab`` on a laptop, a Binder) the server extension mounts the
service's own REST handlers (:data:`~submarine_hub.service.handlers.API_ROUTES`) at
``<base_url>submarine/api/v1/``, the path the JupyterLab panels already use, so the
panels, the SDK and the CLI work unchanged. What differs from the hub service:

- who is calling is decided by *this server's* authentication (its identity provider:
  the token or the login cookie, with jupyter-server's host, origin and XSRF checks),
  not by JupyterHub; whoever it lets in is the one standalone user, admin of one team;
- users and teams come from :class:`StandaloneDirectory` instead of the hub's API;
- the metastore is SQLite in ``~/.submarine`` (``SubmarineServerExtension.data_dir``).

The handlers are the service's own classes with :class:`StandaloneAuthMixin` in front
and jupyter-server's ``APIHandler`` behind: their logic, JSON errors and body limits
stay the service's.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from jupyter_server.base.handlers import APIHandler, AuthenticatedHandler, JupyterHandler
from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join
from tornado import web

from ..backends.images import ImageEnvironmentBackend
from ..core.errors import Forbidden, InvalidInput, NotAuthenticated
from ..service.app import SubmarineService
from ..service.context import ServiceContext
from ..service.handlers import API_ROUTES
from ..service.handlers.base import BaseHandler, NotFoundHandler, route_pattern
from ..store import upgrade

if TYPE_CHECKING:
    from .extension import SubmarineServerExtension

API_PATH = "submarine/api/v1"

_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_LOOPBACK_OR_WILDCARD = ("", "*", "0.0.0.0", "::", "localhost", "127.0.0.1")


class StandaloneDirectory:
    """Users and teams in standalone mode: one user, admin of one team.

    Stands in for :class:`~submarine_hub.service.hub.HubClient`.
    """

    def __init__(self, user: str, team: str) -> None:
        self.user_name = user
        self.team = team

    def model(self) -> dict[str, Any]:
        """The user as JupyterHub models users."""
        return {
            "kind": "user",
            "name": self.user_name,
            "admin": True,
            "groups": [self.team],
            "scopes": [],
        }

    async def user(self, name: str) -> dict[str, Any] | None:
        return self.model() if name == self.user_name else None

    async def user_names(self) -> list[str]:
        return [self.user_name]

    async def groups(self) -> dict[str, list[str]]:
        return {self.team: [self.user_name]}

    async def stop_server(self, user: str, server_name: str = "") -> None:
        raise InvalidInput("There is no hub to stop sessions in standalone mode.")

    async def close(self) -> None:
        return None


class JupyterServerIdentity:
    """Standalone mode's identity provider for the service's handlers.

    Runs jupyter-server's checks on the request, as its own ``APIHandler`` does:
    the Host header and the Origin (:meth:`check_request`, for every caller, a run's
    token included), the user from the server's identity provider (token or login
    cookie), XSRF for cookie-authenticated writes, and the server's authorizer. Anyone
    it lets in is the standalone user.
    """

    login_hint = (
        "Authentication required: send this Jupyter server's token "
        "('Authorization: token <token>') or log in to JupyterLab first."
    )

    def __init__(self, directory: StandaloneDirectory) -> None:
        self.directory = directory

    async def check_request(self, handler: BaseHandler) -> None:
        """The Host and Origin checks, for every caller (a run's token too: only this
        server's own token skips the Origin check, as in jupyter-server)."""
        h = cast(StandaloneAuthMixin, handler)
        if not h.check_host():
            raise Forbidden(
                f"Requests for host {h.request.host!r} are refused by this Jupyter server "
                "(see ServerApp.allow_remote_access)."
            )
        got = h.identity_provider.get_user(h)  # whether it is token-authenticated
        user = await got if inspect.isawaitable(got) else got
        h.current_user = h._jupyter_current_user = user
        h.set_cors_headers()
        if not h.check_origin():
            raise Forbidden("Cross-origin request refused by this Jupyter server.")
        h._submarine_request_checked = True

    async def user_model(self, handler: BaseHandler) -> dict[str, Any] | None:
        h = cast(StandaloneAuthMixin, handler)
        if not h._submarine_request_checked:
            await self.check_request(handler)
        user = h._jupyter_current_user
        if h.request.method not in _SAFE_METHODS:
            # (JupyterHandler's method, borrowed by the mixin: mypy sees its self type)
            h.check_xsrf_cookie()  # type: ignore[misc]  # no-op for token-authenticated requests
        if user is None:
            if not h.settings.get("allow_unauthenticated_access", True):
                raise NotAuthenticated(self.login_hint)
            return None
        action = "read" if h.request.method in _SAFE_METHODS else "write"
        if not h.authorizer.is_authorized(h, user, action, "submarine"):
            raise Forbidden(f"This Jupyter server does not allow you to {action} Submarine data.")
        return self.directory.model()


class StandaloneAuthMixin:
    """In front of a service handler, with jupyter-server's ``APIHandler`` behind it.

    Undoes what the service's JupyterHub mixin would do in a jupyter server (its own
    XSRF check and login URL) and takes jupyter-server's instead; keeps the service's
    headers and JSON bodies, and records API activity for the server's idle culling.
    """

    # JupyterHub's HubAuthenticated has a hub_auth property; there is no hub here
    hub_auth: Any = None
    check_xsrf_cookie = JupyterHandler.check_xsrf_cookie
    xsrf_token = web.RequestHandler.xsrf_token
    get_login_url = APIHandler.get_login_url

    # what the identity provider uses, from jupyter-server's handlers (typing only)
    request: Any
    settings: dict[str, Any]
    current_user: Any
    _jupyter_current_user: Any
    _submarine_request_checked = False
    identity_provider: Any
    authorizer: Any
    check_host: Any
    check_origin: Any
    set_cors_headers: Any
    update_api_activity: Any

    def initialize(self) -> None:
        return None  # the service's handlers read hub_auth from the settings

    def set_default_headers(self) -> None:
        AuthenticatedHandler.set_default_headers(cast(AuthenticatedHandler, self))
        super().set_default_headers()  # type: ignore[misc]

    def finish(self, *args: Any, **kwargs: Any) -> Any:
        # APIHandler.finish would also force Content-Type: application/json
        self.update_api_activity()
        return web.RequestHandler.finish(cast(web.RequestHandler, self), *args, **kwargs)


def standalone_handler(handler: type[BaseHandler]) -> type[BaseHandler]:
    """``handler`` authenticated by the jupyter server it is mounted in."""
    return cast(
        type[BaseHandler],
        type(
            f"Standalone{handler.__name__}",
            (StandaloneAuthMixin, handler, APIHandler),
            {"__module__": __name__, "__doc__": handler.__doc__},
        ),
    )


def standalone_routes(base_url: str = "") -> list[tuple[str, type[BaseHandler]]]:
    """Every API route under ``<base_url>submarine/api/v1``, then a JSON 404 for the rest
    (relative to the server's base URL without ``base_url``, as an ExtensionApp's are)."""
    api = url_path_join(base_url, API_PATH)
    routes = [(api + route_pattern(h.path), standalone_handler(h)) for h in API_ROUTES]
    routes.append((api + "(?:/.*)?", standalone_handler(NotFoundHandler)))
    return routes


@dataclass
class Standalone:
    """Standalone mode in a jupyter server: the platform service's context for one user,
    made by :meth:`prepare` when the extension loads, started by :meth:`start` once the
    server's event loop runs."""

    service: SubmarineService
    context: ServiceContext
    directory: StandaloneDirectory
    export_api_env: bool

    @classmethod
    def prepare(cls, serverapp: ServerApp, extension: SubmarineServerExtension) -> Standalone:
        """Prepare the metastore (migrated to the newest revision) and the context."""
        base_url = serverapp.web_app.settings["base_url"]
        data_dir = Path(extension.data_dir).expanduser()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        service = SubmarineService(
            config=serverapp.config,  # c.SubmarineService.*, the backends' sections
            log=serverapp.log,
            data_dir=str(data_dir),
            db_url=extension.db_url,
            service_prefix=url_path_join(base_url, "submarine/"),
            environment_backend_class=ImageEnvironmentBackend,  # no sessions to build for
            run_as_owner=False,  # runs are the person's who started the server
        )
        revision = upgrade(service.db_url)
        directory = StandaloneDirectory(extension.user, extension.team)
        standalone = cls(
            service=service,
            context=service.make_context(directory),
            directory=directory,
            export_api_env=extension.export_api_env,
        )
        serverapp.log.info(
            "Submarine Hub standalone mode: the platform API at %s as user %r of team %r, "
            "metastore %s at revision %s",
            url_path_join(base_url, API_PATH),
            extension.user,
            extension.team,
            data_dir,
            revision,
        )
        return standalone

    def settings(self) -> dict[str, Any]:
        """What the service's handlers read from the web application's settings."""
        return {
            "submarine": self.context,
            "submarine_identity_provider": JupyterServerIdentity(self.directory),
            "submarine_max_body_size": self.service.max_body_size,
            "submarine_service_prefix": self.service.service_prefix,
        }

    def routes(self) -> list[tuple[str, type[BaseHandler]]]:
        return standalone_routes()

    async def start(self, serverapp: ServerApp) -> None:
        """Once the server listens: runs call back to its URL, the scheduler starts, and
        kernels and terminals are pointed at the API."""
        api_url = _api_url(serverapp)
        if api_url:
            self.context.experiments.api_url = api_url  # what runs get as SUBMARINE_API_URL
        await self.service.start_platform(self.context)
        if self.export_api_env and api_url:
            _export_api_env(serverapp, api_url)


def _api_url(serverapp: ServerApp) -> str | None:
    """The standalone API as processes on this machine reach it (None on a UNIX socket)."""
    if serverapp.sock:
        return None
    host = serverapp.ip
    if host in _LOOPBACK_OR_WILDCARD:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    scheme = "https" if serverapp.certfile else "http"
    return url_path_join(f"{scheme}://{host}:{serverapp.port}{serverapp.base_url}", API_PATH)


def _export_api_env(serverapp: ServerApp, api_url: str) -> None:
    """Give kernels and terminals the API and a token (variables already set are kept).

    The SDK sends this server's token; under a hub without one (Binder), the session's
    $JUPYTERHUB_API_TOKEN, which the client falls back to, authenticates as well.
    """
    token = serverapp.identity_provider.token
    if not (token or os.environ.get("JUPYTERHUB_API_TOKEN")):
        return
    os.environ.setdefault("SUBMARINE_API_URL", api_url)
    if token:
        os.environ.setdefault("SUBMARINE_TOKEN", token)
