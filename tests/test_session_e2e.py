"""End to end through a real hub: log in with the form, spawn, open JupyterLab, use the platform."""

from __future__ import annotations

import json
import re
import time

import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub


def open_lab(
    hub: Hub, user: str, options: dict[str, str] | None = None, timeout: float = 90
) -> tuple[requests.Session, str]:
    """Log in through the form, ask for a server, wait until JupyterLab's page loads."""
    s = hub.login(user)
    r = s.get(f"{hub.url}/hub/spawn", timeout=30)
    if 'id="spawn_form"' in r.text:  # the spawn options form: submit its choices
        xsrf = s.cookies.get("_xsrf", path="/hub/")
        s.post(f"{hub.url}/hub/spawn", data={"_xsrf": xsrf, **(options or {})}, timeout=30)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = s.get(hub.user_url(user, "lab"), timeout=30)
        if r.status_code == 200 and r.url.startswith(hub.user_url(user, "lab")):
            return s, r.text
        time.sleep(0.5)
    raise AssertionError(f"{user}'s JupyterLab did not open:\n{hub.log_tail()}")


def test_login_spawn_and_open_lab_with_the_extension(hub: Hub) -> None:
    s, page = open_lab(hub, "alice")
    assert "submarine-hub" in page  # listed among the page's federated extensions
    found = re.search(r'<script id="jupyter-config-data"[^>]*>(.*?)</script>', page, re.S)
    assert found, "no page config in the JupyterLab page"
    config = json.loads(found.group(1))
    ext = next(e for e in config["federated_extensions"] if e["name"] == "submarine-hub")
    r = s.get(hub.user_url("alice", f"lab/extensions/submarine-hub/{ext['load']}"), timeout=30)
    assert r.status_code == 200
    assert "submarine-hub" in r.text

    # the panel's data path: server extension -> platform service, as the session's user
    r = s.get(hub.user_url("alice", "submarine/api/v1/me"), timeout=30)
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["name"] == "alice"
    assert [t["name"] for t in me["teams"]] == ["data-science"]

    # the user's own token works on the platform API
    assert hub.api("GET", "me", user="alice").json()["name"] == "alice"


def test_the_relay_passes_errors_through_as_json(hub: Hub) -> None:
    hub.spawn("alice")
    headers = {"Authorization": f"token {hub.token_for('alice')}"}
    r = requests.get(
        hub.user_url("alice", "submarine/api/v1/teams/ml-platform"), headers=headers, timeout=30
    )
    assert r.status_code == 403
    assert r.json()["message"] == "You are not a member of team 'ml-platform'."


def test_another_user_cannot_use_alices_session(hub: Hub) -> None:
    hub.spawn("alice")
    headers = {"Authorization": f"token {hub.token_for('carol')}"}
    r = requests.get(
        hub.user_url("alice", "submarine/api/v1/me"),
        headers=headers,
        allow_redirects=False,
        timeout=30,
    )
    assert r.status_code == 403


def test_cli_and_sdk_work_inside_the_session_without_configuration(hub: Hub) -> None:
    out = hub.run_in_kernel(
        "alice",
        "import os, shutil, subprocess\n"
        "print('url', os.environ['SUBMARINE_API_URL'])\n"
        "cli = [shutil.which('submarine'), 'whoami']\n"
        "p = subprocess.run(cli, capture_output=True, text=True)\n"
        "print(p.returncode, p.stdout, p.stderr)\n"
        "from submarine_hub import SubmarineClient\n"
        "print('sdk', SubmarineClient().me()['teams'])\n",
    )
    assert f"url {hub.service_url}/services/submarine/api/v1" in out
    assert "0 alice\nteams: data-science" in out
    assert "sdk [{'name': 'data-science'" in out
