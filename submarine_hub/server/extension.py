"""Settings of the single-user server extension (``c.SubmarineServerExtension.*``).

Kept free of heavy imports: jupyter-server imports the extension at every start.
"""

from __future__ import annotations

import getpass
import os
import re
from pathlib import Path

from traitlets import Bool, TraitError, Unicode, default, validate
from traitlets.config import LoggingConfigurable

#: Environment variables that say this server belongs to a platform it should relay to.
PLATFORM_ENV = ("JUPYTERHUB_API_TOKEN", "SUBMARINE_API_URL")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,254}")


class SubmarineServerExtension(LoggingConfigurable):
    """How the server extension serves ``<base_url>submarine/api/v1/``.

    In a hub session it relays to the hub's ``submarine`` service as the session's user.
    In *standalone* mode (no hub: ``jupyter lab`` on a laptop, a Binder) it runs the
    platform's REST API itself, for one user, with the metastore in ``data_dir``.
    """

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
