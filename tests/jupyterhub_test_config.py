"""The embedded default config plus what the test harness needs: an admin service token."""

import os
from pathlib import Path

load_subconfig(str(Path(__file__).parents[1] / "jupyterhub_config.py"))  # type: ignore[name-defined]  # noqa: F821

c = get_config()  # type: ignore[name-defined]  # noqa: F821
c.JupyterHub.services.append(
    {"name": "test-admin", "api_token": os.environ["SUBMARINE_TEST_ADMIN_TOKEN"]}
)
c.JupyterHub.load_roles.append(
    {
        "name": "test-admin",
        "scopes": [
            "admin:users",
            "admin:servers",
            "admin:server_state",
            "admin:groups",
            "tokens",
            "access:servers",
            "access:services",
        ],
        "services": ["test-admin"],
    }
)
# a machine shared by several test runs starts a session's server slowly
c.Spawner.http_timeout = 120
