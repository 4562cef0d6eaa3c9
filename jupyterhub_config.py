"""Submarine Hub's embedded default: a complete platform on 127.0.0.1.

    jupyterhub -f jupyterhub_config.py      # or: bash scripts/up

Everything that differs between a laptop and production is read from environment
variables (see "Configuration" in the README); put further settings in
``jupyterhub_config.local.py`` beside this file, or write your own config.
"""

import atexit
import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path

import submarine_spawner.mixin as _submarine_spawner

import submarine_hub as _submarine_hub
import submarine_hub.hub_rooms as _submarine_hub_rooms

c = get_config()  # type: ignore[name-defined]  # noqa: F821

env = os.environ.get
# As root, every user's sessions, runs and endpoints run as their own system account
# (docs/sessions.md, "Isolation"); the hub's and service's state is then private to root.
ISOLATE_USERS = env("SUBMARINE_ISOLATE_USERS", "1" if os.geteuid() == 0 else "0") == "1"
if ISOLATE_USERS:
    os.umask(0o077)  # what the hub and the service write is theirs alone
DATA_DIR = Path(env("SUBMARINE_DATA_DIR", ".submarine")).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)
if ISOLATE_USERS:
    # users pass through to their runs' folders but cannot list it; its secrets are 0600
    DATA_DIR.chmod(0o711)

BIND_URL = env("SUBMARINE_BIND_URL", "http://127.0.0.1:8000")
HUB_BIND_URL = env("SUBMARINE_HUB_BIND_URL", "http://127.0.0.1:8081")
PROXY_API_URL = env("SUBMARINE_PROXY_API_URL", "http://127.0.0.1:8001")
SERVICE_URL = env("SUBMARINE_SERVICE_URL", "http://127.0.0.1:10101")
HUB_DB_URL = env("SUBMARINE_HUB_DB_URL", f"sqlite:///{DATA_DIR / 'jupyterhub.sqlite'}")
DB_URL = env("SUBMARINE_DB_URL", f"sqlite:///{DATA_DIR / 'submarine.sqlite'}")
SERVICE_API_URL = SERVICE_URL.rstrip("/") + "/services/submarine/api/v1"

# --- the hub and its proxy -------------------------------------------------------------
# our page templates add a "Submarine admin" link to the hub's navigation bar for admins
c.JupyterHub.template_paths = [
    os.path.join(os.path.dirname(_submarine_hub.__file__), "hub_templates")
]
# ... and the hub's home page lists the user's team rooms (docs/collaboration.md)
c.JupyterHub.template_vars = {"submarine_rooms": _submarine_hub_rooms.team_rooms}
c.JupyterHub.bind_url = BIND_URL
c.JupyterHub.hub_bind_url = HUB_BIND_URL
c.ConfigurableHTTPProxy.api_url = PROXY_API_URL
c.ConfigurableHTTPProxy.pid_file = str(DATA_DIR / "proxy.pid")
c.JupyterHub.db_url = HUB_DB_URL
c.JupyterHub.cookie_secret_file = str(DATA_DIR / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(DATA_DIR / "jupyterhub.pid")


def _stop_left_proxy(pid_file: Path = DATA_DIR / "proxy.pid") -> None:
    """JupyterHub exits without stopping the proxy it started when a managed service
    cannot start (a bad database URL, say): stop it on the way out. (A hub that stopped
    normally removed the file already.)"""
    if c.JupyterHub.get("cleanup_proxy", True) is False:
        return
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    pid_file.unlink(missing_ok=True)


atexit.register(_stop_left_proxy)

# --- who can log in ---------------------------------------------------------------------
DEMO_ADMIN = "admin"
DEMO_TEAMS = {
    "data-science": ["alice", "bob"],
    "ml-platform": ["bob", "carol"],
}
c.JupyterHub.authenticator_class = env("SUBMARINE_AUTHENTICATOR", "submarine-demo")
if c.JupyterHub.authenticator_class == "submarine-demo":
    c.DemoAuthenticator.user_password = env("SUBMARINE_DEMO_PASSWORD", "submarine-demo")
    c.DemoAuthenticator.admin_password = env(
        "SUBMARINE_DEMO_ADMIN_PASSWORD", "submarine-demo-admin-password-change-me"
    )
    c.Authenticator.allowed_users = {u for members in DEMO_TEAMS.values() for u in members}
c.Authenticator.admin_users = {DEMO_ADMIN}

# Teams are JupyterHub groups.
c.JupyterHub.load_groups = {team: {"users": users} for team, users in DEMO_TEAMS.items()}

# --- sessions ---------------------------------------------------------------------------
c.JupyterHub.spawner_class = env("SUBMARINE_SPAWNER", "submarine-local")
c.Spawner.default_url = "/lab"
# who is in no team yet (a session needs one) lands on a page that helps: the admin page
# for admins, the hub's home for others
c.JupyterHub.default_url = _submarine_spawner.landing_url
# building a session's environment the first time happens during the spawn
c.Spawner.start_timeout = int(env("SUBMARINE_START_TIMEOUT", "900"))
c.Spawner.cmd = [sys.executable, "-m", "jupyterhub.singleuser"]
c.Spawner.submarine_api_url = SERVICE_API_URL
# The spawner admits sessions with the platform (quota, environment, credentials) as
# the "submarine-spawner" service below; a fresh token at every hub start.
SPAWNER_TOKEN = env("SUBMARINE_SPAWNER_TOKEN") or secrets.token_hex(32)
c.Spawner.submarine_token = SPAWNER_TOKEN
c.SubmarineLocalSpawner.home_dir_template = str(DATA_DIR / "home" / "{username}")
c.SubmarineLocalSpawner.isolate_users = ISOLATE_USERS
if not c.JupyterHub.spawner_class.startswith("submarine-"):
    # another spawner (e.g. JupyterHub's "simple", as bench/ compares): same homes and flags
    c.SimpleLocalProcessSpawner.home_dir_template = str(DATA_DIR / "home" / "{username}")
    if os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]
# The session's token may call the platform service as its user.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "access:services!service=submarine",
]

# --- the platform service ---------------------------------------------------------------
c.JupyterHub.services = [
    {
        "name": "submarine",
        "url": SERVICE_URL,
        "display": True,
        "oauth_no_confirm": True,
        # the supervisor restarts the service at once if it dies (the hub would only
        # notice on its next 30 s poll), and passes the hub's stop on to it
        "command": [
            sys.executable,
            "-m",
            "submarine_hub.service.supervisor",
            f"--SubmarineService.db_url={DB_URL}",
            f"--SubmarineService.data_dir={DATA_DIR}",
            f"--SubmarineService.log_style={env('SUBMARINE_LOG_STYLE', 'json')}",
            f"--SubmarineService.run_as_owner={ISOLATE_USERS}",
            # endpoints' URLs as users reach them, through the proxy
            f"--EndpointManager.public_url={env('SUBMARINE_PUBLIC_URL', BIND_URL)}",
        ],
        # the service's own settings (artifact store, keys...) and cloud credentials
        "environment": {
            k: v for k, v in os.environ.items() if k.startswith(("SUBMARINE_", "AWS_"))
        },
    },
    {"name": "submarine-spawner", "api_token": SPAWNER_TOKEN},
]
c.JupyterHub.custom_scopes = {
    "custom:submarine:sessions": {
        "description": "Admit notebook sessions against team quotas and receive their credentials",
    },
}
c.JupyterHub.load_roles = [
    {
        "name": "submarine-service",
        "description": "What the submarine service reads from the hub: users and teams",
        "scopes": [
            "list:users",
            "read:users",
            "list:groups",
            "read:groups",
            "servers",
            # serving endpoints: each is registered as a service the proxy routes to
            "admin:services",
            "proxy",
            # team rooms (docs/collaboration.md): the service makes each team's
            # collaboration account, adds it to the team's group, starts its server and
            # shares that server with the group (granting access needs access itself)
            "admin:users",
            "groups",
            "access:servers",
            "shares",
        ],
        "services": ["submarine"],
    },
    {
        "name": "submarine-spawner",
        "description": "What JupyterHub's spawner does on the platform",
        "scopes": ["custom:submarine:sessions", "access:services!service=submarine"],
        "services": ["submarine-spawner"],
    },
    {
        # the default user role plus access to the platform service
        "name": "user",
        "scopes": ["self", "access:services!service=submarine"],
    },
]

# Site-specific settings, kept out of version control.
_local = Path(__file__).with_name("jupyterhub_config.local.py")
if _local.exists():
    load_subconfig(str(_local))  # type: ignore[name-defined]  # noqa: F821
