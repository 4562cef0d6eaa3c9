"""The single-user server extension: lab-facing handlers.

Enabled automatically by ``etc/jupyter/jupyter_server_config.d/submarine_hub.json``
in the wheel. ``<base_url>submarine/api/v1/<path>`` relays a request to the platform
service's REST API on behalf of the session's user, with the session's token, so
the JupyterLab panels need no credentials of their own.

Without a hub (``SubmarineServerExtension.standalone``, see :mod:`.standalone`) the
same path is served by the platform service itself, running in this server.
"""

from __future__ import annotations

from typing import Any

from jupyter_server.serverapp import ServerApp
from jupyter_server.utils import url_path_join

from .code import CodeArchiveHandler
from .extension import SubmarineServerExtension
from .handlers import ForwardHandler, PredictHandler
from .session_info import SessionInfoHandler


def _load_jupyter_server_extension(serverapp: ServerApp) -> None:
    extension = SubmarineServerExtension(parent=serverapp)
    # both modes: the lab's submit form packs a folder of the session with the code
    # archive; the session's team and environment are its forms' defaults
    base = serverapp.web_app.settings["base_url"]
    archive = url_path_join(base, "submarine", "code-archive")
    session = url_path_join(base, "submarine", "session")
    team = extension.team if extension.standalone else ""
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (archive, CodeArchiveHandler),
            (session, SessionInfoHandler, {"standalone_team": team}),
        ],
    )
    if extension.standalone:
        from .standalone import load_standalone  # the whole service: only when needed

        load_standalone(serverapp, extension)
        return
    web_app = serverapp.web_app
    base_url = web_app.settings["base_url"]
    pattern = url_path_join(base_url, "submarine", "api", "v1", "(.*)")
    web_app.add_handlers(".*$", [(pattern, ForwardHandler)])
    predict = url_path_join(base_url, "submarine", "predict", "([^/]+)", "([^/]+)")
    web_app.add_handlers(".*$", [(predict, PredictHandler)])
    serverapp.log.info("Submarine Hub server extension loaded at %s", pattern)


async def _start_jupyter_server_extension(serverapp: ServerApp) -> None:
    """Once the event loop runs: replay saves a previous run of the server left queued."""
    start = getattr(serverapp.contents_manager, "start_journal", None)
    if start is not None:
        await start()


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "submarine_hub.server"}]
