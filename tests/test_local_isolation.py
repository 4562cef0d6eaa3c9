"""The local backend's isolation, through the real hub: a run, a session or an endpoint
never sees the hub's or service's secrets, and (as root) runs as its owner's system user."""

from __future__ import annotations

import pytest

from .hub import Hub
from .test_experiments_api import command, submit, wait

pytestmark = pytest.mark.hub
SECRET_VARS = (
    "JUPYTERHUB_API_TOKEN",
    "JPY_COOKIE_SECRET",
    "SUBMARINE_SPAWNER_TOKEN",
    "SUBMARINE_TEST_ADMIN_TOKEN",
    "SUBMARINE_DEMO_ADMIN_PASSWORD",
    "CONFIGPROXY_AUTH_TOKEN",
)


def run_output(hub: Hub, user: str, script: str, team: str = "data-science") -> str:
    run = submit(hub, user, command("probe", script, team=team))
    done = wait(hub, user, run["id"])
    log = hub.api("GET", f"experiments/{run['id']}/logs", user=user).text
    assert done["status"] == "succeeded", (done, log)
    return log


def test_a_run_and_its_supervisor_hold_none_of_the_services_secrets(hub: Hub) -> None:
    log = run_output(
        hub,
        "alice",
        "echo own: $(env | cut -d= -f1 | tr '\\n' ' '); "
        "echo parent: $(tr '\\0' '\\n' < /proc/$PPID/environ 2>&1 | cut -d= -f1 | tr '\\n' ' ')",
    )
    own, parent = log.splitlines()
    assert "SUBMARINE_TOKEN" in own and "SUBMARINE_RUN_ID" in own, own
    for name in SECRET_VARS:
        assert name not in own, own
        assert name not in parent, parent
