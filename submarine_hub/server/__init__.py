"""The single-user server extension: lab-facing handlers.

Enabled automatically by ``etc/jupyter/jupyter_server_config.d/submarine_hub.json``
in the wheel; the extension is the jupyter-server ``ExtensionApp``
:class:`~.extension.SubmarineServerExtension` (``c.SubmarineServerExtension.*``).
``<base_url>submarine/api/v1/<path>`` relays a request to the platform service's REST
API on behalf of the session's user, with the session's token, so the JupyterLab panels
need no credentials of their own.

Without a hub (``SubmarineServerExtension.standalone``, see :mod:`.standalone`) the
same path is served by the platform service itself, running in this server.
"""

from __future__ import annotations

from typing import Any

from .extension import SubmarineServerExtension

__all__ = ["SubmarineServerExtension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    return [{"module": "submarine_hub.server", "app": SubmarineServerExtension}]
