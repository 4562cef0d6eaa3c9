"""Budgets through a real hub: a team with a small budget runs a session and runs until
the budget is spent, and its next run is refused naming the budget; the usage report's
figures match what ran, item by item, including a run that outlived a kill -9 of the
service; another team's user cannot read the team's usage."""

from __future__ import annotations

import os
import secrets
import signal
import time
from datetime import datetime, timezone
from typing import Any

import pytest
import requests

from .helpers.api import as_user, command, wait, wait_for
from .helpers.cli import submarine
from .helpers.hub import Hub, service_pid, service_up

pytestmark = pytest.mark.hub

#: 1/1000 of a currency unit per CPU-second and per session-second
PRICES = {"currency": "USD", "cpu_hour": 3.6, "session_hour": 3.6}
BUDGET = 0.03  # 30 CPU- or session-seconds


def when(value: str) -> datetime:
    return datetime.fromisoformat(value)


@pytest.fixture
def budget_team(hub: Hub) -> Any:
    """A team of this test's own (a hub group) with one member, a small budget and the
    prices above; all put back afterwards."""
    suffix = secrets.token_hex(3)
    team, user = f"budget-{suffix}", f"ulla-{suffix}"
    hub.hub_api("POST", f"users/{user}").raise_for_status()
    hub.hub_api("POST", f"groups/{team}", json={"users": [user]}).raise_for_status()
    old_prices = hub.api("GET", "usage/prices", user="admin").json()
    r = hub.api("PUT", "usage/prices", user="admin", json=PRICES)
    assert r.status_code == 200, r.text
    wait_for(
        lambda: hub.api("PUT", f"usage/budgets/{team}", user="admin",
                        json={"amount": BUDGET, "unit": "money", "policy": "refuse",
                              "warn_at": 0.5}).status_code == 200,
        30, "the service to see the new team",
    )  # fmt: skip
    try:
        yield team, user
    finally:
        hub.stop_server(user)
        hub.api("DELETE", f"usage/budgets/{team}", user="admin")
        hub.api("PUT", "usage/prices", user="admin", json=old_prices)
        hub.hub_api("DELETE", f"groups/{team}")


def run(hub: Hub, user: str, team: str, name: str, seconds: float) -> requests.Response:
    spec = command(name, f"sleep {seconds}", team=team, resources={"cpu": 1})
    return hub.api("POST", "experiments", user=user, json=spec)


def test_a_small_budget_is_spent_then_refuses_and_the_report_matches(
    hub: Hub, budget_team: tuple[str, str]
) -> None:
    team, user = budget_team
    hub.spawn(user)
    (session,) = [s for s in hub.api("GET", "sessions", user="admin").json()["items"]
                  if s["user"] == user]  # fmt: skip
    assert session["team"] == team

    first = run(hub, user, team, "first", 3)
    assert first.status_code == 201, first.text
    wait(hub, user, first.json()["id"])

    # a run that outlives the service: kill -9 it while the run sleeps
    survivor = run(hub, user, team, "survivor", 6)
    assert survivor.status_code == 201, survivor.text
    survivor_id = survivor.json()["id"]
    wait_for(
        lambda: hub.api("GET", f"experiments/{survivor_id}", user=user).json()["status"]
        == "running",
        120, "the survivor to start",
    )  # fmt: skip
    old = service_pid(hub)
    os.kill(old, signal.SIGKILL)
    wait_for(lambda: service_pid(hub, required=False) not in (None, old), 120, "its restart")
    wait_for(lambda: service_up(hub), 120, "the service answering")
    survived = wait(hub, user, survivor_id, timeout=180)
    assert survived["status"] == "succeeded", survived

    stop_asked = time.time()
    hub.stop_server(user)
    stop_done = time.time()

    # runs until the budget is spent (the session and two runs may have spent it already)
    ran = [first.json()["id"], survivor_id]
    for i in range(20):
        r = run(hub, user, team, f"more-{i}", 2)
        if r.status_code != 201:
            break
        ran.append(r.json()["id"])
        wait(hub, user, ran[-1])
    assert r.status_code == 403, r.text
    message = r.json()["message"]
    assert f"Team {team!r} has used" in message and "of its monthly budget of 0.03 USD" in message
    assert "new sessions and runs are refused (policy 'refuse')" in message
    # and so is a new session: the hub answers the spawn with the budget's message
    spawn = hub.hub_api("POST", f"users/{user}/server", json={"environment": ""})
    assert spawn.status_code == 403 and "monthly budget of 0.03 USD" in spawn.text, spawn.text

    # what the team's member sees: spent, with the message
    (mine,) = hub.api("GET", f"usage/teams?team={team}", user=user).json()["items"]
    assert mine["budget"]["state"] == "spent"
    assert "monthly budget of 0.03 USD" in mine["budget"]["message"]

    # and on the command line, with a warning
    p = submarine("usage", env=as_user(hub, user))
    assert p.returncode == 0, p.stderr
    assert f"Team {team}" in p.stdout and "policy refuse): spent" in p.stdout
    assert "monthly budget of 0.03 USD" in p.stdout
    assert "a team's budget is nearly or fully spent" in p.stderr

    # the report, item by item: each run replica held 1 CPU for the run's real duration
    report = hub.api("GET", f"usage?team={team}&group_by=item", user=user).json()
    items = {i["key"]: i for i in report["items"]}
    for run_id in ran:
        got = hub.api("GET", f"experiments/{run_id}", user=user).json()
        item = items[f"run:{run_id}:main-0"]
        real = (when(got["finished_at"]) - when(got["started_at"])).total_seconds()
        assert abs(item["seconds"] - real) <= 1, (run_id, item, got)
        assert item["ended_at"] is not None and item["cpu"] == 1.0
        assert item["cpu_hours"] == pytest.approx(item["seconds"] / 3600, abs=1e-6)
    survivor_item = items[f"run:{survivor_id}:main-0"]
    assert 6 <= survivor_item["seconds"] <= 6 + 5  # to its real end, not to the kill
    assert survivor_item["cpu_time"] is not None and survivor_item["cpu_time"] < 2
    assert survivor_item["peak_memory"] and survivor_item["peak_memory"] > 0
    s_item = items[f"session:{session['id']}"]
    assert s_item["started_at"] == session["created_at"]
    assert stop_asked - 1 <= when(s_item["ended_at"]).timestamp() <= stop_done + 1
    assert report["total"]["cost"] == pytest.approx(  # each item's cost rounded to 1e-6
        sum(i["cost"] for i in report["items"]), abs=1e-6 * len(report["items"])
    )
    assert report["total"]["cost"] >= BUDGET
    # the same window for both (the team's disk record is open: it grows with "now")
    until = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    csv = hub.api("GET", f"usage?team={team}&group_by=item&format=csv&until={until}", user=user)
    assert csv.status_code == 200 and f"run:{survivor_id}:main-0" in csv.text
    p = submarine("usage", "report", "--team", team, "--by", "item", "--csv",
                  "--until", until, env=as_user(hub, user))  # fmt: skip
    assert p.returncode == 0 and p.stdout == csv.text, p.stderr

    # another team's user reads none of it
    for path in (f"usage?team={team}", f"usage/teams?team={team}"):
        r = hub.api("GET", path, user="carol")
        assert r.status_code == 403, r.text
    assert hub.api("GET", f"usage/budgets/{team}", user="carol").status_code == 404
    own = hub.api("GET", "usage?group_by=team", user="carol").json()
    assert team not in {i["team"] for i in own["items"]}


def test_a_spawn_under_policy_allow_proceeds_and_the_spawn_page_tells_the_user(
    hub: Hub,
) -> None:
    """A team whose budget (0 CPU-hours: spent from the start) has policy allow: its
    member's spawn page shows the budget's warning, the spawn started from it proceeds and
    its progress carries the warning too."""
    import json
    import threading

    suffix = secrets.token_hex(3)
    team, user = f"allow-{suffix}", f"ada-{suffix}"
    hub.hub_api("POST", f"users/{user}").raise_for_status()
    hub.hub_api("POST", f"groups/{team}", json={"users": [user]}).raise_for_status()
    try:
        wait_for(
            lambda: hub.api("PUT", f"usage/budgets/{team}", user="admin",
                            json={"amount": 0, "unit": "cpu_hours",
                                  "policy": "allow"}).status_code == 200,
            30, "the service to see the new team",
        )  # fmt: skip
        s = hub.login(user)
        page = s.get(f"{hub.url}/hub/spawn/{user}", timeout=30)
        assert page.status_code == 200, page.text[:500]
        assert 'id="spawn_form"' in page.text and "submarine-budget-warning" in page.text
        assert (
            f"Team &#x27;{team}&#x27; has used 0.00 CPU-hours of its monthly budget of 0.00 "
            "CPU-hours" in page.text
        )
        assert "new work still starts (policy &#x27;allow&#x27;)" in page.text

        events: list[str] = []

        def follow() -> None:  # the progress the spawn-pending page shows, from the start
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not events:
                r = hub.hub_api("GET", f"users/{user}/server/progress", stream=True)
                for line in r.iter_lines(decode_unicode=True):
                    if line and line.startswith("data:"):
                        event = json.loads(line[5:])
                        events.append(event.get("message", ""))
                        if event.get("ready") or event.get("failed"):
                            break
                r.close()
                time.sleep(0.1)

        xsrf = s.cookies.get("_xsrf", path="/hub/")
        r = s.post(f"{hub.url}/hub/spawn/{user}", data={"_xsrf": xsrf}, timeout=30,
                   allow_redirects=False)  # fmt: skip
        assert r.status_code == 302, r.text[:500]
        follower = threading.Thread(target=follow)
        follower.start()
        hub.wait_ready(user, 120)  # the spawn proceeded
        follower.join(70)
        (session,) = [x for x in hub.api("GET", "sessions", user="admin").json()["items"]
                      if x["user"] == user]  # fmt: skip
        assert session["team"] == team
        warned = [e for e in events if e.startswith("Budget warning: ")]
        assert warned and f"Team '{team}' has used" in warned[0], events
        summary = hub.api("GET", f"usage/teams?team={team}", user=user).json()["items"][0]
        assert summary["budget"]["state"] == "spent" and summary["budget"]["policy"] == "allow"
        # another team's user is told nothing of it
        assert hub.api("GET", f"usage/budgets/{team}", user="carol").status_code == 404
    finally:
        hub.stop_server(user)
        hub.api("DELETE", f"usage/budgets/{team}", user="admin")
        hub.hub_api("DELETE", f"groups/{team}")
        hub.hub_api("DELETE", f"users/{user}")
