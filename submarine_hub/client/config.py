"""Where the client finds the platform and its token.

In order: explicit arguments; ``SUBMARINE_API_URL`` with ``SUBMARINE_TOKEN`` or
``JUPYTERHUB_API_TOKEN`` (set in every session by the Submarine spawners); the file
written by ``submarine login`` (``$SUBMARINE_CONFIG``, default
``~/.config/submarine-hub/config.json``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

API_PATH = "/services/submarine/api/v1"


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


def resolve(api_url: str | None = None, token: str | None = None) -> Endpoint:
    env = os.environ
    stored: dict[str, str] = {}
    path = config_path()
    if path.exists():
        try:
            stored = json.loads(path.read_text())
        except ValueError as e:
            raise NotConfigured(
                f"{path} is not valid JSON ({e}); run 'submarine login' again."
            ) from e
    url = api_url or env.get("SUBMARINE_API_URL") or stored.get("api_url")
    tok = (
        token
        or env.get("SUBMARINE_TOKEN")
        or env.get("JUPYTERHUB_API_TOKEN")
        or stored.get("token")
    )
    if not url:
        raise NotConfigured(
            "No Submarine Hub to talk to: run 'submarine login <hub url>' "
            "or set SUBMARINE_API_URL and SUBMARINE_TOKEN."
        )
    if not tok:
        raise NotConfigured("No API token: run 'submarine login <hub url>' or set SUBMARINE_TOKEN.")
    return Endpoint(api_url=url.rstrip("/"), token=tok)


def save(api_url: str, token: str, user: str) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump({"api_url": api_url, "token": token, "user": user}, f, indent=2)
    os.replace(tmp, path)
    return path
