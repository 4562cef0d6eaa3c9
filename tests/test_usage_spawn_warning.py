"""A team's budget nearly or fully spent under policy ``allow``: the spawn proceeds, and
the user is told, on the spawn form and in the spawn's progress; under ``refuse`` the
spawn is refused; another team's users see no warning of it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from submarine_spawner.mixin import SubmarineSpawnerMixin

from submarine_hub.core.usage import budgets
from submarine_hub.store.models import UsageRecord

from .helpers.service import InProcessService


def seed_cpu_hours(service: InProcessService, team: str, hours: float) -> None:
    """``team`` held one CPU for ``hours`` this month (ended a minute ago)."""
    now = datetime.now(timezone.utc)
    end = now - timedelta(minutes=1)
    start = max(budgets.month_bounds(now)[0], end - timedelta(hours=hours))
    cpu = hours * 3600 / max((end - start).total_seconds(), 1)

    async def add(core: Any) -> None:
        async with core.db.session() as s:
            s.add(UsageRecord(key=f"test:{team}:spent", kind="run", object_id=0, replica="",
                              team=team, user="", cpu=cpu, memory=0, gpus=0,
                              started_at=start, ended_at=end))  # fmt: skip

    service.call(add)


@pytest.fixture
def spent_team(service: InProcessService) -> Iterator[tuple[str, str, str]]:
    """A team that used 2 CPU-hours of a 1 CPU-hour budget (policy allow), its member,
    and a user of another team."""
    team = service.new_team("spent")
    user = service.new_user("spent-user", [team])
    other = service.new_user("spent-other", [service.new_team("spent-other")])
    seed_cpu_hours(service, team, 2)
    r = service.api("PUT", f"usage/budgets/{team}", user="admin",
                    json={"amount": 1, "unit": "cpu_hours", "policy": "allow"})  # fmt: skip
    assert r.status_code == 200, r.text
    yield team, user, other
    service.api("DELETE", f"usage/budgets/{team}", user="admin")


def test_a_spawn_under_policy_allow_is_admitted_with_the_budgets_warning(
    service: InProcessService, spent_team: tuple[str, str, str]
) -> None:
    team, user, other = spent_team
    options = service.platform("GET", f"spawn-options/{user}", service.spawner_token).json()
    message = options["budget_warnings"][team]
    assert f"Team {team!r} has used 2.00 CPU-hours of its monthly budget of 1.00" in message
    assert "new work still starts (policy 'allow')" in message
    r = service.platform("POST", "sessions", service.spawner_token, json={"user": user})
    assert r.status_code == 201, r.text
    grant = r.json()
    try:
        assert grant["budget_warning"] == message
        theirs = service.platform("GET", f"spawn-options/{other}", service.spawner_token).json()
        assert theirs["budget_warnings"] == {}
        # the user's own API token is not the spawner's: no options, no warnings
        assert service.api("GET", f"spawn-options/{user}", user=user).status_code == 403
        assert service.api("GET", f"spawn-options/{user}", user=other).status_code == 403
    finally:
        r = service.platform("DELETE", f"sessions/{grant['id']}", service.spawner_token)
        assert r.status_code == 204, r.text


def test_a_budget_past_its_threshold_warns_and_a_spent_one_under_refuse_refuses(
    service: InProcessService, spent_team: tuple[str, str, str]
) -> None:
    team, user, _ = spent_team
    r = service.api(
        "PUT",
        f"usage/budgets/{team}",
        user="admin",
        json={"amount": 3, "unit": "cpu_hours", "policy": "allow", "warn_at": 0.5},
    )
    assert r.status_code == 200, r.text
    r = service.platform("POST", "sessions", service.spawner_token, json={"user": user})
    assert r.status_code == 201, r.text
    warning = r.json()["budget_warning"]
    service.platform("DELETE", f"sessions/{r.json()['id']}", service.spawner_token)
    assert "has used 2.00 CPU-hours of its monthly budget of 3.00 CPU-hours (67%" in warning
    r = service.api("PUT", f"usage/budgets/{team}", user="admin",
                    json={"amount": 100, "unit": "cpu_hours", "policy": "allow"})  # fmt: skip
    r = service.platform("POST", "sessions", service.spawner_token, json={"user": user})
    assert r.status_code == 201 and r.json()["budget_warning"] is None
    service.platform("DELETE", f"sessions/{r.json()['id']}", service.spawner_token)
    options = service.platform("GET", f"spawn-options/{user}", service.spawner_token).json()
    assert options["budget_warnings"] == {}
    r = service.api("PUT", f"usage/budgets/{team}", user="admin",
                    json={"amount": 1, "unit": "cpu_hours", "policy": "refuse"})  # fmt: skip
    options = service.platform("GET", f"spawn-options/{user}", service.spawner_token).json()
    assert "are refused (policy 'refuse')" in options["budget_warnings"][team]
    r = service.platform("POST", "sessions", service.spawner_token, json={"user": user})
    assert r.status_code == 403 and "policy 'refuse'" in r.json()["message"]
    r = service.platform("GET", "spawn-options/nobody-at-all", service.spawner_token)
    assert r.status_code == 404


class FakeSpawner(SubmarineSpawnerMixin):
    """Just what the form and the admission use of a Spawner."""

    log = logging.getLogger("test")
    _log_name = "ann"
    name = ""

    class user:
        name = "ann"

    def __init__(self, answers: dict[str, Any]) -> None:
        super().__init__()
        self.answers = answers
        self.user_options: dict[str, Any] = {}

    async def _platform(self, method: str, path: str, **kw: Any) -> Any:
        return self.answers[f"{method} {path}"]


def run(coro: Any) -> Any:
    with ThreadPoolExecutor(1) as pool:  # away from any loop of the test's
        return pool.submit(asyncio.run, coro).result()


def test_the_spawn_form_shows_the_warning_even_with_nothing_to_choose() -> None:
    message = "Team 'red' has used <all> of it: the budget is spent; new work still starts."
    options = {"teams": ["red"], "environments": [], "budget_warnings": {"red": message}}
    spawner = FakeSpawner({"GET spawn-options/ann": options})
    form = run(SubmarineSpawnerMixin.render_options_form(spawner))
    assert 'class="alert alert-warning submarine-budget-warning"' in form
    assert 'data-team="red"' in form and "&lt;all&gt;" in form and "<all>" not in form
    quiet = FakeSpawner({"GET spawn-options/ann": {**options, "budget_warnings": {}}})
    assert run(SubmarineSpawnerMixin.render_options_form(quiet)) == ""
    older = {"teams": ["red"], "environments": []}  # a service without budget warnings
    assert (
        run(
            SubmarineSpawnerMixin.render_options_form(FakeSpawner({"GET spawn-options/ann": older}))
        )
        == ""
    )


def test_the_spawns_progress_carries_the_warning() -> None:
    grant = {"id": 7, "user": "ann", "team": "red", "environment": None, "env": {},
             "files": [], "budget_warning": "Team 'red' has used 2 of 1."}  # fmt: skip
    spawner = FakeSpawner({"POST sessions": grant})
    assert run(SubmarineSpawnerMixin.admit(spawner)).team == "red"
    messages = [e["message"] for e in spawner._events]
    assert "Budget warning: Team 'red' has used 2 of 1." in messages
