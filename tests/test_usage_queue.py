"""A team whose budget is spent under policy ``queue``, in-process: its new runs are
accepted and wait, saying why, while other teams' runs start; a bigger budget lets them
start; a run already running is never stopped by the budget."""

from __future__ import annotations

import pytest

from .helpers.api import command, wait, wait_for
from .helpers.service import InProcessService


@pytest.fixture
def spent_team(service: InProcessService) -> tuple[str, str]:
    team = service.new_team("queue-budget")
    user = service.new_user("queue-user", [team])
    r = service.api("PUT", "usage/prices", user="admin", json={"cpu_hour": 1.0})
    assert r.status_code == 200, r.text
    spec = command("spends", "true", team=team, resources={"cpu": 4})
    first = service.api("POST", "experiments", user=user, json=spec).json()
    wait(service, user, first["id"], timeout=30)
    budget = {"amount": 1e-9, "policy": "queue"}
    assert service.api("PUT", f"usage/budgets/{team}", user="admin", json=budget).ok
    return team, user


def test_runs_of_a_spent_team_wait_until_the_budget_grows(
    service: InProcessService, spent_team: tuple[str, str]
) -> None:
    team, user = spent_team
    r = service.api("POST", "experiments", user=user, json=command("waits", "true", team=team))
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["status"] == "pending"
    assert f"Team '{team}' has used" in run["reason"]
    assert "new runs wait in the queue (policy 'queue')" in run["reason"]
    service.wake()
    # another team is not held by this team's budget
    other_team = service.new_team("queue-other")
    other = service.new_user("queue-other-user", [other_team])
    free = service.api("POST", "experiments", user=other,
                       json=command("free", "true", team=other_team)).json()  # fmt: skip
    assert wait(service, other, free["id"], timeout=30)["status"] == "succeeded"
    # the scheduler started that one and ticked on: this team's run still waits
    got = service.api("GET", f"experiments/{run['id']}", user=user).json()
    assert got["status"] == "pending" and "policy 'queue'" in got["reason"], got
    # a session is refused under policy queue: it cannot wait
    r = service.platform(
        "POST", "sessions", service.spawner_token, json={"user": user, "team": team}
    )
    assert r.status_code == 403 and "policy 'queue'" in r.json()["message"], r.text
    # the admin raises the budget: the queued run starts
    assert service.api("PUT", f"usage/budgets/{team}", user="admin", json={"amount": 1e6}).ok
    done = wait(service, user, run["id"], timeout=30)
    assert done["status"] == "succeeded", done


def test_a_running_run_goes_on_when_the_budget_is_spent(
    service: InProcessService, spent_team: tuple[str, str]
) -> None:
    team, user = spent_team
    assert service.api("PUT", f"usage/budgets/{team}", user="admin", json={"amount": 1e6}).ok
    service.backend.hold = True
    try:
        run = service.api("POST", "experiments", user=user,
                          json=command("long", "sleep 600", team=team)).json()  # fmt: skip
        wait_for(
            lambda: service.api("GET", f"experiments/{run['id']}", user=user).json()["status"]
            == "running",
            30, "the run to start",
        )  # fmt: skip
        budget = {"amount": 1e-9, "policy": "refuse"}
        assert service.api("PUT", f"usage/budgets/{team}", user="admin", json=budget).ok
        service.wake()
        r = service.api("POST", "experiments", user=user, json=command("no", "true", team=team))
        assert r.status_code == 403 and "policy 'refuse'" in r.json()["message"]
        got = service.api("GET", f"experiments/{run['id']}", user=user).json()
        assert got["status"] == "running" and not got["kill_requested"]
    finally:
        service.backend.hold = False
        service.backend.finish(run["id"])
