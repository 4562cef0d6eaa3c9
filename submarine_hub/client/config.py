"""Where the client finds the platform and its token, and which team it works in.

In order: explicit arguments; ``SUBMARINE_API_URL`` with ``SUBMARINE_TOKEN`` or
``JUPYTERHUB_API_TOKEN`` (set in every session by the Submarine spawners); the file
written by ``submarine login`` (``$SUBMARINE_CONFIG``, default
``~/.config/submarine-hub/config.json``).

The default team (what a request naming no team works in, for a user of several
teams) is, in order: ``$SUBMARINE_TEAM`` (set in every session and run by the
platform: the session's team), then ``team`` in the config file
(``submarine config set team data-science``). The default environment profile is
``$SUBMARINE_ENVIRONMENT`` (a session's), then ``environment`` in the file. The client
sends both with every request (:data:`DEFAULT_TEAM_HEADER`,
:data:`DEFAULT_ENVIRONMENT_HEADER`); the service uses them only when a request names
no team or environment of its own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

API_PATH = "/services/submarine/api/v1"
DEFAULT_TEAM_HEADER = "X-Submarine-Team"
DEFAULT_ENVIRONMENT_HEADER = "X-Submarine-Environment"
#: What ``submarine config set`` may change, and the variable that overrides each.
SETTINGS = {"team": "SUBMARINE_TEAM", "environment": "SUBMARINE_ENVIRONMENT"}


class NotConfigured(Exception):
    pass


@dataclass(frozen=True)
class Endpoint:
    api_url: str
    token: str


def config_path() -> Path:
    if "SUBMARINE_CONFIG" in os.environ:
        return Path(os.environ["SUBMARINE_CONFIG"])
    base = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(base, "submarine-hub", "config.json")


def api_url_for_hub(hub_url: str) -> str:
    """``http://host:8000`` (or ``.../hub/``) -> the platform API base URL."""
    base = hub_url.rstrip("/")
    if base.endswith("/hub"):
        base = base[: -len("/hub")]
    return base + API_PATH


def stored() -> dict[str, str]:
    """The config file's settings ({} without one)."""
    path = config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as e:
        raise NotConfigured(f"{path} is not valid JSON ({e}); run 'submarine login' again.") from e
    return data if isinstance(data, dict) else {}


def default(setting: str) -> str | None:
    """A default of :data:`SETTINGS` (``team``, ``environment``): the session's (its
    environment variable), else the config file's; None when neither says."""
    value = os.environ.get(SETTINGS[setting]) or stored().get(setting)
    return value.strip() or None if isinstance(value, str) else None


def default_headers() -> dict[str, str]:
    """The defaults the client sends with every request."""
    out = {}
    for setting, header in (
        ("team", DEFAULT_TEAM_HEADER),
        ("environment", DEFAULT_ENVIRONMENT_HEADER),
    ):
        value = default(setting)
        if value:
            out[header] = value
    return out


def resolve(api_url: str | None = None, token: str | None = None) -> Endpoint:
    env = os.environ
    stored_settings = stored()
    url = api_url or env.get("SUBMARINE_API_URL") or stored_settings.get("api_url")
    tok = (
        token
        or env.get("SUBMARINE_TOKEN")
        or env.get("JUPYTERHUB_API_TOKEN")
        or stored_settings.get("token")
    )
    if not url:
        raise NotConfigured(
            "No Submarine Hub to talk to: run 'submarine login <hub url>' "
            "or set SUBMARINE_API_URL and SUBMARINE_TOKEN."
        )
    if not tok:
        raise NotConfigured("No API token: run 'submarine login <hub url>' or set SUBMARINE_TOKEN.")
    return Endpoint(api_url=url.rstrip("/"), token=tok)


def _write(data: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)
    return path


def save(api_url: str, token: str, user: str) -> Path:
    """Store a login (settings such as the default team are kept)."""
    return _write({**stored(), "api_url": api_url, "token": token, "user": user})


def set_setting(setting: str, value: str | None) -> Path:
    """Set (or, with None, unset) a setting of :data:`SETTINGS` in the config file."""
    if setting not in SETTINGS:
        raise ValueError(f"Unknown setting {setting!r}; settings: {', '.join(SETTINGS)}.")
    data = stored()
    if value:
        data[setting] = value
    else:
        data.pop(setting, None)
    return _write(data)
