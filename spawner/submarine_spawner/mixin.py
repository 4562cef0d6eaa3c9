"""What every Submarine spawner adds to a session, whatever runs it."""

from __future__ import annotations

import os
from typing import Any

from traitlets import Unicode, default
from traitlets.config import Configurable


class SubmarineSpawnerMixin(Configurable):
    """Connects a session to the platform: ``SUBMARINE_API_URL`` in its environment."""

    submarine_api_url = Unicode(
        help="""The platform API as sessions reach it, e.g.
        ``http://127.0.0.1:10101/services/submarine/api/v1``.

        Sessions find it in $SUBMARINE_API_URL; the SDK, CLI and server extension
        use it with the session's $JUPYTERHUB_API_TOKEN.
        Default: $SUBMARINE_API_URL of the hub's environment.""",
    ).tag(config=True)

    @default("submarine_api_url")
    def _default_submarine_api_url(self) -> str:
        return os.environ.get("SUBMARINE_API_URL", "")

    def get_env(self) -> dict[str, Any]:
        env = super().get_env()  # type: ignore[misc]
        if self.submarine_api_url:
            env["SUBMARINE_API_URL"] = self.submarine_api_url
        return env
