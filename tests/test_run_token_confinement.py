"""A run's token acts for its owner in its run's team only (never on the owner's personal
notebook space, credentials, shares or schedules); credentials cannot set loader or
interpreter variables; a run over its team's per-replica limits is refused at submission;
a user cannot release their own session's place in the quota. Run tokens through a real hub
(its runs are real processes); submission limits and admissions in-process."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from .helpers.hub import Hub
from .helpers.service import InProcessService

PERSONAL = "confined/private.ipynb"
NOTEBOOK = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def as_token(hub: Hub, token: str, method: str, path: str, **kw: Any) -> requests.Response:
    return hub.platform(method, path, token, **kw)


@pytest.fixture(scope="module")
def bobs_run(hub: Hub) -> Iterator[tuple[int, str]]:
    """A running run of bob's in ml-platform (bob is also in data-science), given no
    credentials, and its token as its processes see it."""
    r = hub.api(
        "POST", "files/versions", user="bob",
        json={"space": "user:bob", "path": PERSONAL, "format": "notebook", "content": NOTEBOOK},
    )  # fmt: skip
    assert r.status_code == 201, r.text
    r = hub.api(
        "POST", "credentials", user="bob", json={"name": "bob-own", "value": "personal-secret"}
    )
    assert r.status_code in (201, 409), r.text
    spec = {
        "meta": {"name": "holder", "team": "ml-platform"},
        "task": {"command": 'echo "TOKEN=$SUBMARINE_TOKEN"; sleep 600'},
        "credentials": [],
    }
    r = hub.api("POST", "experiments", user="bob", json=spec)
    assert r.status_code == 201, r.text
    run_id = r.json()["id"]
    token = ""
    deadline = time.monotonic() + 120
    while not token and time.monotonic() < deadline:
        log = hub.api("GET", f"experiments/{run_id}/logs", user="bob").text
        found = re.search(r"TOKEN=(smr_\S+)", log)
        token = found.group(1) if found else ""
        time.sleep(0.3)
    assert token, f"the run did not print its token: {log}"
    try:
        yield run_id, token
    finally:
        hub.api("POST", f"experiments/{run_id}/kill", user="bob")
        hub.api("DELETE", "credentials/user/bob/bob-own", user="bob")


def test_a_run_token_cannot_read_its_owners_personal_space(
    hub: Hub, bobs_run: tuple[int, str]
) -> None:
    _, token = bobs_run
    assert hub.api("GET", "files?space=user:bob", user="bob").status_code == 200
    for path in (
        "files?space=user:bob",
        f"files/versions?space=user:bob&path={PERSONAL}",
        f"files/content?space=user:bob&path={PERSONAL}",
    ):
        r = as_token(hub, token, "GET", path)
        assert r.status_code in (403, 404), (path, r.status_code, r.text)
    r = as_token(
        hub, token, "POST", "files/versions",
        json={"space": "user:bob", "path": "planted.ipynb", "format": "notebook",
              "content": NOTEBOOK},
    )  # fmt: skip
    assert r.status_code == 403, r.text
    # its own team's space is in reach
    r = as_token(hub, token, "GET", "files?space=team:ml-platform")
    assert r.status_code == 200, r.text
    # and the other team's, of which bob is a member, is not
    assert as_token(hub, token, "GET", "files?space=team:data-science").status_code == 403


def test_a_run_token_cannot_list_create_or_delete_its_owners_credentials(
    hub: Hub, bobs_run: tuple[int, str]
) -> None:
    _, token = bobs_run
    r = as_token(hub, token, "GET", "credentials")
    assert r.status_code == 200, r.text
    assert [c for c in r.json()["items"] if c["owner_kind"] == "user"] == []
    r = as_token(
        hub, token, "POST", "credentials",
        json={"name": "planted", "target": "SOME_TOKEN", "value": "x"},
    )  # fmt: skip
    assert r.status_code == 403, r.text
    assert "run's token" in r.json()["message"]
    r = as_token(hub, token, "DELETE", "credentials/user/bob/bob-own")
    assert r.status_code in (403, 404), r.text
    names = [c["name"] for c in hub.api("GET", "credentials", user="bob").json()["items"]]
    assert "bob-own" in names and "planted" not in names


def test_a_run_token_gives_child_runs_only_its_own_runs_credentials(
    hub: Hub, bobs_run: tuple[int, str]
) -> None:
    run_id, token = bobs_run
    child = {
        "meta": {"name": "child", "team": "ml-platform"},
        "task": {"command": "true"},
        "credentials": ["bob-own"],
    }
    r = as_token(hub, token, "POST", f"experiments?parent={run_id}", json=child)
    assert r.status_code == 403, r.text
    assert "bob-own" in r.json()["message"]
    del child["credentials"]  # none named: the same as its own run (none)
    r = as_token(hub, token, "POST", f"experiments?parent={run_id}", json=child)
    assert r.status_code == 201, r.text
    assert r.json()["spec"]["credentials"] == []


def test_a_run_token_cannot_make_schedules(hub: Hub, bobs_run: tuple[int, str]) -> None:
    _, token = bobs_run
    r = as_token(
        hub, token, "POST", "notebook-schedules",
        json={"cron": "0 * * * *", "job": {"content": NOTEBOOK, "name": "sched",
                                           "team": "ml-platform"}},
    )  # fmt: skip
    assert r.status_code == 403, r.text
    assert "outlives the run" in r.json()["message"]


@pytest.mark.parametrize(
    "target",
    ["PATH", "LD_PRELOAD", "LD_LIBRARY_PATH", "PYTHONSTARTUP", "PYTHONPATH", "PIP_INDEX_URL",
     "pip_index_url", "BASH_ENV", "HOME", "JUPYTER_CONFIG_DIR", "SUBMARINE_API_URL",
     "NODE_OPTIONS", "GIT_SSH_COMMAND", "https_proxy", "REQUESTS_CA_BUNDLE"],
)  # fmt: skip
def test_credentials_cannot_set_loader_or_interpreter_variables(hub: Hub, target: str) -> None:
    r = hub.api(
        "POST", "credentials", user="alice",
        json={"name": "bad-var", "kind": "env", "target": target, "value": "x"},
    )  # fmt: skip
    if r.status_code == 201:
        hub.api("DELETE", "credentials/user/alice/bad-var", user="alice")
    assert r.status_code == 400, r.text
    assert "cannot be set by a credential" in r.json()["message"]


# --- per-replica limits of runs -----------------------------------------------------------


@pytest.fixture
def one_cpu_per_replica(service: InProcessService) -> tuple[str, str]:
    """A team of its own (and a member) whose sessions and replicas get 1 CPU and 1G."""
    team = service.new_team("limits")
    user = service.new_user("limits", [team])
    service.api(
        "PATCH", f"teams/{team}", user="admin",
        json={"quota": {"max_cpu_per_session": 1, "max_memory_per_session": "1G"}},
    ).raise_for_status()  # fmt: skip
    return team, user


def test_runs_over_the_per_replica_limits_are_refused(
    service: InProcessService, one_cpu_per_replica: tuple[str, str]
) -> None:
    team, carol = one_cpu_per_replica
    hub = service
    big = {
        "meta": {"name": "big", "team": team},
        "task": {"command": "true"},
        "resources": {"cpu": 8},
    }
    r = hub.api("POST", "experiments", user=carol, json=big)
    assert r.status_code == 403, r.text
    assert "max_cpu_per_session" in r.json()["message"] and "at most 1 CPU" in r.json()["message"]
    r = hub.api(
        "POST", "experiments", user=carol,
        json={**big, "resources": {"cpu": 1, "memory": "4G"}},
    )  # fmt: skip
    assert r.status_code == 403 and "max_memory_per_session" in r.json()["message"], r.text
    # a role's own resources count too
    r = hub.api(
        "POST", "experiments", user=carol,
        json={"meta": {"name": "roles", "team": team}, "framework": "pytorch",
              "spec": {"Master": {"replicas": 1, "resources": {"cpu": 2},
                                  "command": "true"}}},
    )  # fmt: skip
    assert r.status_code in (400, 403), r.text
    r = hub.api(
        "POST", "pipelines", user=carol,
        json={"name": "big-pipe", "team": team,
              "steps": [{"name": "a", "spec": {"task": {"command": "true"},
                                               "resources": {"cpu": 8}}}]},
    )  # fmt: skip
    assert r.status_code == 403 and "Step 'a'" in r.json()["message"], r.text
    job = {"content": NOTEBOOK, "name": "big-job", "team": team, "resources": {"cpu": 8}}
    r = hub.api("POST", "notebook-jobs", user=carol, json=job)
    assert r.status_code == 403 and "max_cpu_per_session" in r.json()["message"], r.text
    r = hub.api("POST", "notebook-schedules", user=carol, json={"cron": "0 * * * *", "job": job})
    assert r.status_code == 403 and "max_cpu_per_session" in r.json()["message"], r.text
    # within the limits: accepted
    r = hub.api("POST", "experiments", user=carol, json={**big, "resources": {"cpu": 1}})
    assert r.status_code == 201, r.text
    # a rerun is checked against today's quota
    hub.api(
        "PATCH", f"teams/{team}", user="admin", json={"quota": {"max_cpu_per_session": 0.5}}
    ).raise_for_status()
    again = hub.api("POST", f"experiments/{r.json()['id']}/rerun", user=carol)
    assert again.status_code == 403, again.text


# --- a session's admission ----------------------------------------------------------------


def test_a_user_cannot_release_their_own_sessions_admission(service: InProcessService) -> None:
    hub = service  # the admission rules, in-process
    grant = hub.platform(
        "POST", "sessions", hub.spawner_token,
        json={"user": "alice", "team": "data-science", "server_name": "release-test"},
    )  # fmt: skip
    assert grant.status_code == 201, grant.text
    sid = grant.json()["id"]
    try:
        r = hub.api("DELETE", f"sessions/{sid}", user="alice")
        assert r.status_code == 403, r.text
        assert "spawner" in r.json()["message"]
        assert hub.api("DELETE", f"sessions/{sid}", user="carol").status_code == 404
        active = [s["id"] for s in hub.api("GET", "sessions", user="alice").json()["items"]]
        assert sid in active
    finally:
        r = hub.platform("DELETE", f"sessions/{sid}", hub.spawner_token)
    assert r.status_code == 204
    active = [s["id"] for s in hub.api("GET", "sessions", user="alice").json()["items"]]
    assert sid not in active
    # an admin may release one too
    grant = hub.platform(
        "POST", "sessions", hub.spawner_token,
        json={"user": "alice", "team": "data-science", "server_name": "release-test"},
    )  # fmt: skip
    assert hub.api("DELETE", f"sessions/{grant.json()['id']}", user="admin").status_code == 204
