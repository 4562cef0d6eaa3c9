"""Team sessions through the real hub: team and environment choice, credentials, quotas."""

from __future__ import annotations

import base64
import time

import pytest
import requests

from .helpers.hub import Hub

pytestmark = pytest.mark.hub

PROBE = """
import os, sys, six
print("team", os.environ.get("SUBMARINE_TEAM"))
print("env", os.environ.get("SUBMARINE_ENVIRONMENT"))
print("token", os.environ.get("ML_REGISTRY_TOKEN"))
print("foreign", os.environ.get("WAREHOUSE_PASSWORD"))
print("six", six.__version__)
print("python", sys.executable)
folder = os.environ["SUBMARINE_CREDENTIALS_DIR"]
print("keytab", open(os.path.join(folder, "krb", "ml.keytab"), "rb").read())
print("files", sorted(os.path.relpath(os.path.join(d, f), folder)
                      for d, _, fs in os.walk(folder) for f in fs))
"""


@pytest.fixture(scope="module")
def bob_in_ml_platform(hub: Hub) -> str:
    """bob (in two teams) starts a session for ml-platform with its six==1.16.0 environment."""
    for body in (
        {
            "owner_kind": "team",
            "owner": "ml-platform",
            "name": "ml-registry",
            "target": "ML_REGISTRY_TOKEN",
            "value": "ml-registry-secret",
        },
        {
            "owner_kind": "team",
            "owner": "ml-platform",
            "name": "ml-keytab",
            "kind": "file",
            "target": "krb/ml.keytab",
            "value_base64": base64.b64encode(b"\x05\x02ml").decode(),
        },
        {
            "owner_kind": "team",
            "owner": "data-science",
            "name": "ds-only",
            "kind": "file",
            "target": "ds.keytab",
            "value": "not for ml",
        },
    ):
        r = hub.api("POST", "credentials", user="admin", json=body)
        assert r.status_code in (201, 409), r.text
    r = hub.api(
        "POST",
        "environments",
        user="bob",
        json={"name": "six-old", "team": "ml-platform", "packages": ["six==1.16.0"]},
    )
    assert r.status_code in (201, 409), r.text
    hub.stop_server("bob")  # a session of an earlier test would be for another team
    hub.spawn("bob", {"team": "ml-platform", "environment": "ml-platform/six-old"})
    return hub.run_in_kernel("bob", PROBE)


def test_session_gets_the_team_environment_and_credentials(bob_in_ml_platform: str) -> None:
    out = bob_in_ml_platform
    assert "team ml-platform" in out
    assert "env ml-platform/six-old" in out
    assert "token ml-registry-secret" in out
    assert "six 1.16.0" in out  # the profile's package, over the hub's six
    assert "keytab b'\\x05\\x02ml'" in out
    assert "files ['krb/ml.keytab']" in out  # data-science's file is not there


def test_the_session_tells_the_lab_its_team_and_environment(
    bob_in_ml_platform: str, hub: Hub
) -> None:
    """The lab's status bar shows it and its forms default to it (bob is in two teams)."""
    url = hub.user_url("bob", "submarine/session")
    r = requests.get(url, headers={"Authorization": f"token {hub.token_for('bob')}"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.json() == {"team": "ml-platform", "environment": "ml-platform/six-old"}
    carol = {"Authorization": f"token {hub.token_for('carol')}"}
    assert requests.get(url, headers=carol, timeout=30, allow_redirects=False).status_code in (
        302,
        403,
        404,
    )


def test_the_session_kernel_is_the_environments(bob_in_ml_platform: str, hub: Hub) -> None:
    python = next(ln for ln in bob_in_ml_platform.splitlines() if ln.startswith("python "))
    assert str(hub.data_dir / "envs") in python


def test_the_environment_build_is_visible_and_reused(bob_in_ml_platform: str, hub: Hub) -> None:
    build = hub.api("GET", "environments/ml-platform/six-old/build?log=1", user="bob").json()
    assert build["state"] == "ready"
    assert build["progress"] == 1.0
    assert "six==1.16.0" in build["log"]
    again = hub.api("POST", "environments/ml-platform/six-old/build", user="bob").json()
    assert again["state"] == "ready"
    assert again["finished_at"] == build["finished_at"]  # not built twice


def test_a_user_of_another_team_cannot_spawn_with_its_environment(
    bob_in_ml_platform: str, hub: Hub
) -> None:
    hub.stop_server("alice")  # in case an earlier test started it
    r = hub.hub_api("POST", "users/alice/server", json={"environment": "ml-platform/six-old"})
    reason = "belongs to team 'ml-platform'; you are not in it"
    assert r.status_code == 403, r.text
    assert reason in r.json()["message"]
    wait_stopped(hub, "alice")
    assert reason in hub.spawn_failure("alice")


def test_a_spawn_over_the_quota_is_refused_with_its_reason(
    bob_in_ml_platform: str, hub: Hub
) -> None:
    hub.stop_server("carol")  # in case an earlier test started it
    running = hub.api("GET", "teams/ml-platform", user="carol").json()["usage"]["sessions"]
    assert running >= 1  # bob's
    hub.api(
        "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_sessions": running}}
    ).raise_for_status()
    try:
        r = hub.hub_api("POST", "users/carol/server", json={"environment": ""})
        reason = (
            f"Team 'ml-platform' is at its limit of {running} concurrent sessions "
            f"({running} running)"
        )
        assert r.status_code == 403, r.text
        assert reason in r.json()["message"]
        wait_stopped(hub, "carol")
        assert reason in hub.spawn_failure("carol")
        usage = hub.api("GET", "teams/ml-platform", user="carol").json()["usage"]
        assert usage["sessions"] == running  # the refused spawn holds nothing
    finally:
        hub.api(
            "PATCH", "teams/ml-platform", user="admin", json={"quota": {"max_sessions": None}}
        ).raise_for_status()


def test_stopping_a_session_releases_its_quota(bob_in_ml_platform: str, hub: Hub) -> None:
    before = hub.api("GET", "teams/ml-platform", user="bob").json()["usage"]["sessions"]
    hub.stop_server("bob")
    after = hub.api("GET", "teams/ml-platform", user="bob").json()["usage"]["sessions"]
    assert after == before - 1


def wait_stopped(hub: Hub, user: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not hub.hub_api("GET", f"users/{user}").json().get("servers"):
            return
        time.sleep(0.3)
    raise AssertionError(f"{user}'s spawn did not end")


def test_the_spawn_form_offers_teams_and_environments(hub: Hub) -> None:
    r = hub.api(
        "POST",
        "environments",
        user="bob",
        json={"name": "form-env", "team": "ml-platform", "description": "for the form"},
    )
    assert r.status_code in (201, 409), r.text
    hub.stop_server("bob")
    s = hub.login("bob")
    page = s.get(f"{hub.url}/hub/spawn", timeout=30).content.decode()
    assert 'id="submarine-team"' in page
    assert '<option value="data-science">' in page and '<option value="ml-platform">' in page
    assert '<option value="ml-platform/form-env">form-env — for the form</option>' in page
    hub.stop_server("carol")
    page = hub.login("carol").get(f"{hub.url}/hub/spawn", timeout=30).content.decode()
    assert 'id="submarine-team"' not in page  # one team: no team choice
    assert "data-science/" not in page  # another team's environments are not offered
