"""The ``submarine`` command line, run as a user would, against the real hub."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from submarine_hub import __version__

from .helpers.cli import submarine
from .helpers.hub import Hub


def test_version() -> None:
    p = submarine("--version")
    assert p.returncode == 0
    assert __version__ in p.stdout


def test_without_a_hub_it_says_how_to_log_in() -> None:
    p = submarine("whoami")
    assert p.returncode == 1
    assert "submarine login <hub url>" in p.stderr
    assert "Traceback" not in p.stderr


@pytest.mark.hub
def test_login_whoami_logout(hub: Hub) -> None:
    token = hub.token_for("bob")
    p = submarine("login", hub.url, stdin=token + "\n")
    assert p.returncode == 0, p.stderr
    assert "as bob" in p.stdout
    stored = Path(os.environ["SUBMARINE_CONFIG"])
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert json.loads(stored.read_text())["api_url"] == hub.api_url().rstrip("/")

    p = submarine("whoami")
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("bob\nteams: data-science, ml-platform\n")
    assert json.loads(submarine("whoami", "--json").stdout)["name"] == "bob"

    assert submarine("logout").returncode == 0
    assert not stored.exists()
    assert submarine("whoami").returncode == 1


@pytest.mark.hub
def test_login_with_a_bad_token_is_refused(hub: Hub) -> None:
    p = submarine("login", hub.url, "--token", "not-a-token")
    assert p.returncode == 1
    assert "Authentication required" in p.stderr
    assert not Path(os.environ["SUBMARINE_CONFIG"]).exists()


@pytest.mark.hub
def test_login_to_something_that_is_not_a_hub(hub: Hub) -> None:
    p = submarine("login", "http://127.0.0.1:9", "--token", "x")
    assert p.returncode == 1
    assert "Could not reach the Submarine service" in p.stderr


@pytest.mark.hub
def test_team_commands_show_only_your_teams(hub: Hub) -> None:
    env = {"SUBMARINE_API_URL": hub.api_url(), "SUBMARINE_TOKEN": hub.token_for("carol")}
    p = submarine("team", "list", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[0] == "ml-platform"
    assert "data-science" not in p.stdout
    p = submarine("team", "show", "data-science", env=env)
    assert p.returncode == 1
    assert "You are not a member of team 'data-science'." in p.stderr
