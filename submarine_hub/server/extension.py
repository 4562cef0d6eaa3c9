"""The single-user server extension (``c.SubmarineServerExtension.*``), a jupyter-server
:class:`~jupyter_server.extension.application.ExtensionApp` named ``submarine_hub``.

Its handlers (:meth:`SubmarineServerExtension.initialize_handlers`), all below
``<base_url>submarine/``, are authorized by the server's authorizer as actions on the
resource ``submarine`` (:data:`AUTH_RESOURCE`): ``read`` for GET, ``write`` for the rest.

Kept free of heavy imports: jupyter-server imports this module at every start; the
handlers and standalone mode's service are imported when the extension loads.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, TraitError, Unicode, default, validate

if TYPE_CHECKING:
    from jupyter_server.serverapp import ServerApp

    from .standalone import Standalone

#: Environment variables that say this server belongs to a platform it should relay to.
PLATFORM_ENV = ("JUPYTERHUB_API_TOKEN", "SUBMARINE_API_URL")

#: What the extension's handlers ask the server's authorizer about.
AUTH_RESOURCE = "submarine"

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,254}")


class SubmarineServerExtension(ExtensionApp):
    """How the server extension serves ``<base_url>submarine/api/v1/``.

    In a hub session it relays to the hub's ``submarine`` service as the session's user.
    In *standalone* mode (no hub: ``jupyter lab`` on a laptop, a Binder) it runs the
    platform's REST API itself, for one user, with the metastore in ``data_dir``.
    Either way it serves ``submarine/code-archive`` and ``submarine/session``.
    """

    name = "submarine_hub"
    description = "Submarine Hub's single-user server extension."
    load_other_extensions = True

    _standalone: Standalone | None = None

    standalone = Bool(
        help="""Run the platform service in this server, for one user and no hub, instead
        of relaying to a hub's ``submarine`` service. The API keeps its paths
        (``<base_url>submarine/api/v1/...``) and is protected by this server's own
        authentication (its token or login cookie, with XSRF checks).

        Default: on unless $JUPYTERHUB_API_TOKEN or $SUBMARINE_API_URL is set (a hub
        session, or a server pointed at a platform).""",
    ).tag(config=True)

    @default("standalone")
    def _default_standalone(self) -> bool:
        return not any(os.environ.get(var) for var in PLATFORM_ENV)

    data_dir = Unicode(
        help="""Standalone mode's state: the SQLite metastore and the credentials key.
        Default: ~/.submarine.""",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return str(Path.home() / ".submarine")

    db_url = Unicode(
        help="""Standalone mode's metastore URL (``sqlite:///PATH`` or ``postgresql://...``).
        Default: ``submarine.sqlite`` in ``data_dir``.""",
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self) -> str:
        return f"sqlite:///{Path(self.data_dir, 'submarine.sqlite')}"

    user = Unicode(
        help="""Who the standalone user is: everyone this server authenticates acts as
        this user, an admin. Default: the name of the account running the server.""",
    ).tag(config=True)

    @default("user")
    def _default_user(self) -> str:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (some containers)
            name = ""
        return name if _NAME.fullmatch(name) else "jovyan"

    team = Unicode(
        help="""The standalone user's one team (what the hub would call a group).
        Default: named after ``user``.""",
    ).tag(config=True)

    @default("team")
    def _default_team(self) -> str:
        return self.user

    @validate("user", "team")
    def _valid_name(self, proposal: dict) -> str:
        value = proposal["value"]
        if not _NAME.fullmatch(value):
            raise TraitError(
                f"{proposal['trait'].name} {value!r} must be 1-255 letters, digits, "
                "'.', '_', '@' or '-', starting with a letter or digit."
            )
        return value

    export_api_env = Bool(
        True,
        help="""In standalone mode, give kernels and terminals $SUBMARINE_API_URL and
        $SUBMARINE_TOKEN (this server's URL and token), so the ``submarine`` CLI, the
        SDK and the magics talk to the standalone API with no login. Variables already
        set are kept.""",
    ).tag(config=True)

    # -- the extension -----------------------------------------------------------------

    def initialize_settings(self) -> None:
        """In standalone mode: prepare the metastore and the service the API runs on."""
        if self.standalone:
            from .standalone import Standalone  # the whole service: only when needed

            assert self.serverapp is not None
            self._standalone = Standalone.prepare(self.serverapp, self)
            self.settings.update(self._standalone.settings())

    def initialize_handlers(self) -> None:
        """Both modes: the lab's submit form packs a folder of the session with the code
        archive; the session's team and environment are its forms' defaults. Then the
        platform's API: relayed to the hub's service, or served here (standalone)."""
        from .code import CodeArchiveHandler
        from .handlers import ForwardHandler, PredictHandler
        from .session_info import SessionInfoHandler

        handlers: list[tuple[Any, ...]] = [
            ("submarine/code-archive", CodeArchiveHandler),
            ("submarine/session", SessionInfoHandler),
        ]
        if self._standalone is not None:
            handlers += self._standalone.routes()
        else:
            handlers += [
                ("submarine/api/v1/(.*)", ForwardHandler),
                ("submarine/predict/([^/]+)/([^/]+)", PredictHandler),
            ]
            assert self.serverapp is not None
            self.serverapp.log.info(
                "Submarine Hub server extension loaded at %ssubmarine/api/v1/",
                self.serverapp.base_url,
            )
        self.handlers.extend(handlers)

    async def _start_jupyter_server_extension(self, serverapp: ServerApp) -> None:
        """Once the event loop runs: replay saves a previous run of the server left
        queued; in standalone mode, start the platform (its scheduler) and point kernels
        and terminals at the API."""
        start = getattr(serverapp.contents_manager, "start_journal", None)
        if start is not None:
            await start()
        if self._standalone is not None:
            await self._standalone.start(serverapp)
