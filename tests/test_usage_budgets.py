"""Metering, cost and budgets in the core, on SQLite and PostgreSQL: every session and run
replica is recorded once with its real interval; a spent budget refuses (or queues, or
allows) new work, also under concurrent admissions; reports add up and stay per team."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from submarine_hub.core import sessions
from submarine_hub.core.errors import Forbidden, InvalidInput
from submarine_hub.core.experiments import runs
from submarine_hub.core.identity import Identity
from submarine_hub.core.usage import budgets, records, reports
from submarine_hub.core.usage.budgets import BudgetExceeded
from submarine_hub.core.usage.meter import Meter
from submarine_hub.core.usage.prices import Prices
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Experiment, UsageRecord

SPAWNER = Identity(
    name="submarine-spawner", kind="service", scopes=frozenset({sessions.SESSIONS_SCOPE})
)
ADMIN = Identity(name="admin", admin=True)
GROUPS = {"red": ["ann", "ben"], "blue": ["ben", "cy"]}
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=timezone.utc)


def member(name: str) -> Identity:
    return Identity(name=name, teams=frozenset(t for t, m in GROUPS.items() if name in m))


@pytest.fixture
async def db(db_url: str):  # type: ignore[no-untyped-def]
    upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.dispose()


def run_row(team: str, owner: str, *, start: datetime, end: datetime | None, **spec) -> Experiment:
    body = {
        "meta": {"name": "r", "team": team, "tags": []},
        "environment": {"image": "python:3.12"},
        "resources": {"cpu": 2, "memory": "1G"},
        "spec": spec or {"worker": {"replicas": 2}},
    }
    return Experiment(
        name="r",
        team=team,
        owner=owner,
        kind="command",
        status="succeeded" if end else "running",
        spec=body,
        launched_at=start,
        started_at=start,
        finished_at=end,
    )


async def count_records(db: Database) -> int:
    async with db.session() as s:
        return int(await s.scalar(select(func.count(UsageRecord.id))) or 0)


async def test_each_run_replica_is_metered_once_to_its_real_end(db: Database) -> None:
    async with db.session() as s:
        row = run_row("red", "ann", start=T0, end=None)
        s.add(row)
        await s.flush()
        run_id = row.id
    meter = Meter()
    for _ in range(3):  # the meter runs again and again: still one record per replica
        async with db.session() as s:
            await meter.sync(s, now=T0 + timedelta(seconds=30))
    assert await count_records(db) == 2
    async with db.session() as s:
        open_ = (await s.scalars(select(UsageRecord).order_by(UsageRecord.key))).all()
        assert [r.key for r in open_] == [f"run:{run_id}:worker-0", f"run:{run_id}:worker-1"]
        assert all(r.ended_at is None and r.cpu == 2.0 and r.memory == 10**9 for r in open_)
        # the run ended while nobody metered (the service was down): its backend's end
        # time is what counts, not the time the meter saw it
        row = await s.get(Experiment, run_id)
        assert row is not None
        row.status, row.finished_at = "succeeded", T0 + timedelta(seconds=95)
    async with db.session() as s:
        await meter.sync(s)
        await meter.sync(s)
    async with db.session() as s:
        closed = (await s.scalars(select(UsageRecord))).all()
        assert len(closed) == 2
        assert {(records.aware(r.ended_at) - T0).total_seconds() for r in closed} == {95.0}


async def test_sessions_are_metered_from_admission_to_release(db: Database) -> None:
    async with db.session() as s:
        row, _ = await sessions.admit(
            s, SPAWNER, {"team": "red", "resources": {"cpu": 1}}, member("ann"), {}
        )
        sid = row.id
    async with db.session() as s:
        await Meter().sync(s)
    async with db.session() as s:
        stopped = await sessions.stop(s, SPAWNER, sid)
        start, end = stopped.created_at, stopped.stopped_at
    async with db.session() as s:
        await Meter().sync(s)
        (rec,) = (await s.scalars(select(UsageRecord))).all()
    assert rec.key == f"session:{sid}" and rec.cpu == 1.0
    assert records.aware(rec.started_at) == start and records.aware(rec.ended_at) == end


async def seed_spent(db: Database, team: str, policy: str) -> None:
    """``team`` used 2 CPU-hours this month already; its budget is 1 CPU-hour."""
    now = datetime.now(timezone.utc)
    start = max(budgets.month_bounds(now)[0], now - timedelta(hours=2))
    async with db.session() as s:
        s.add(
            run_row(team, "ann", start=start, end=start + timedelta(seconds=1800),
                    worker={"replicas": 2})
        )  # fmt: skip
        await budgets.set_budget(
            s, ADMIN, team, {"amount": 1, "unit": "cpu_hours", "policy": policy}, GROUPS
        )


async def test_a_spent_budget_refuses_sessions_and_runs_naming_the_budget(db: Database) -> None:
    await seed_spent(db, "red", "refuse")
    spent = r"Team 'red' has used 2\.00 CPU-hours of its monthly budget of 1\.00 CPU-hours "
    with pytest.raises(BudgetExceeded, match=spent + r".*refused \(policy 'refuse'\)"):
        async with db.session() as s:
            await sessions.admit(s, SPAWNER, {"team": "red"}, member("ann"), {})
    sub = runs.Submission(
        {"meta": {"name": "x", "team": "red", "tags": []}, "spec": {"w": {"replicas": 1}},
         "resources": {}, "inputs": [], "task": {"command": ["true"]}},
        "red", "command")  # fmt: skip
    with pytest.raises(BudgetExceeded, match="monthly budget"):
        async with db.session() as s:
            await runs.create(s, member("ann"), sub, quota_defaults={})
    # another team is not touched by red's budget
    async with db.session() as s:
        await sessions.admit(s, SPAWNER, {"team": "blue"}, member("cy"), {})


async def test_queue_policy_queues_runs_and_refuses_sessions(db: Database) -> None:
    await seed_spent(db, "red", "queue")
    async with db.session() as s:
        sub = runs.Submission(
            {"meta": {"name": "x", "team": "red", "tags": []}, "spec": {"w": {"replicas": 1}},
             "resources": {}, "inputs": [], "task": {"command": ["true"]}},
        "red", "command")  # fmt: skip
        row = await runs.create(s, member("ann"), sub, quota_defaults={})
        assert row.status == "pending" and "budget is spent" in row.reason
        assert "new runs wait in the queue (policy 'queue')" in row.reason
    with pytest.raises(BudgetExceeded, match="policy 'queue'"):
        async with db.session() as s:
            await sessions.admit(s, SPAWNER, {"team": "red"}, member("ann"), {})


async def test_allow_policy_admits_and_says_the_budget_is_spent(db: Database) -> None:
    await seed_spent(db, "red", "allow")
    async with db.session() as s:
        await sessions.admit(s, SPAWNER, {"team": "red"}, member("ann"), {})
        found = await budgets.status(s, "red", Prices())
    assert found is not None and found.state == "spent"
    assert "new work still starts (policy 'allow')" in found.message()


async def test_past_the_warning_threshold_work_starts_and_the_team_is_warned(
    db: Database,
) -> None:
    await seed_spent(db, "red", "refuse")
    async with db.session() as s:
        await budgets.set_budget(
            s, ADMIN, "red", {"amount": 3, "unit": "cpu_hours", "warn_at": 0.5}, GROUPS
        )
    async with db.session() as s:
        await sessions.admit(s, SPAWNER, {"team": "red"}, member("ann"), {})
        found = await budgets.status(s, "red", Prices())
    assert found is not None and found.state == "warning"
    assert found.message().startswith("Team 'red' has used 2.00 CPU-hours of its monthly budget")
    assert found.to_json()["fraction"] == pytest.approx(2 / 3, abs=1e-3)


async def test_twenty_concurrent_admissions_against_a_spent_budget(db: Database) -> None:
    await seed_spent(db, "red", "refuse")

    async def one(i: int) -> str:
        try:
            async with db.session() as s:
                await sessions.admit(
                    s, SPAWNER, {"team": "red", "server_name": f"s{i}"}, member("ann"), {}
                )
            return "admitted"
        except BudgetExceeded as e:
            assert "monthly budget" in e.message
            return "refused"

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    assert outcomes == ["refused"] * 20
    async with db.session() as s:
        assert (await sessions.usage_of(s, "red")).sessions == 0


async def test_concurrent_admissions_meter_each_session_once_and_keep_the_quota(
    db: Database,
) -> None:
    """A budget with room: every admission meters the team in its own transaction, all at
    once; the quota still admits exactly three and no record is written twice."""
    async with db.session() as s:
        await budgets.set_budget(s, ADMIN, "red", {"amount": 1000, "unit": "cpu_hours"}, GROUPS)

    async def one(i: int) -> str:
        try:
            async with db.session() as s:
                await sessions.admit(
                    s, SPAWNER, {"team": "red", "server_name": f"s{i}",
                                 "resources": {"cpu": 1}}, member("ann"), {"max_sessions": 3},
                )  # fmt: skip
            return "admitted"
        except BudgetExceeded:
            return "budget"
        except Forbidden:
            return "refused"

    outcomes = await asyncio.gather(*(one(i) for i in range(20)))
    assert outcomes.count("admitted") == 3 and outcomes.count("refused") == 17
    async with db.session() as s:
        await Meter().sync(s)
    assert await count_records(db) == 3


async def test_reports_split_by_day_price_and_stay_within_the_team(db: Database) -> None:
    start = datetime(2026, 11, 30, 23, 0, tzinfo=timezone.utc)
    async with db.session() as s:
        s.add(run_row("red", "ann", start=start, end=start + timedelta(hours=2),
                      worker={"replicas": 1, "resources": {"cpu": 1, "gpus": 1}}))  # fmt: skip
        s.add(run_row("blue", "cy", start=start, end=start + timedelta(hours=1)))
        await s.flush()
        await Meter().sync(s)
        prices = Prices.parse({"cpu_hour": 0.5, "gpu_hour": 3, "gpu_types": {"a100": 9}})
        window = dict(since=datetime(2026, 11, 1, tzinfo=timezone.utc),
                      until=datetime(2026, 12, 31, tzinfo=timezone.utc))  # fmt: skip
        out = await reports.report(
            s,
            member("ann"),
            prices,
            group_by=["team", "day"],
            **window,  # type: ignore[arg-type]
        )
        assert [(r["team"], r["day"], r["seconds"]) for r in out["items"]] == [
            ("red", "2026-11-30", 3600.0),
            ("red", "2026-12-01", 3600.0),
        ]
        assert out["total"]["cost"] == pytest.approx(2 * (0.5 + 3))
        assert out["total"]["gpu_hours"] == pytest.approx(2)
        csv = reports.to_csv(out)
        assert csv.splitlines()[0] == (
            "team,day,seconds,cpu_hours,memory_gb_hours,gpu_hours,session_hours,cost,currency"
        )
        with pytest.raises(Forbidden, match="not a member of team 'blue'"):
            await reports.report(s, member("ann"), prices, team="blue", **window)  # type: ignore[arg-type]
        everything = await reports.report(s, ADMIN, prices, group_by=["team"], **window)  # type: ignore[arg-type]
        assert {r["team"] for r in everything["items"]} == {"red", "blue"}


@pytest.mark.parametrize(
    ("prices", "message"),
    [
        ({"cpu_hour": -1}, "'cpu_hour' must be a price from 0"),
        ({"cpu_hour": float("nan")}, "'cpu_hour' must be a price from 0"),
        ({"cpu_hour": True}, "'cpu_hour' must be a price"),
        ({"gpu_types": {"a100": "x"}}, "gpu_types"),
        ({"images": {"img": {"disk": 1}}}, "images"),
        ({"dollars": 1}, "Unknown price"),
        ([], "must be an object"),
    ],
)
def test_bad_prices_are_refused_with_the_reason(prices: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        Prices.parse(prices)


@pytest.mark.parametrize(
    ("budget", "message"),
    [
        ({}, "'amount' must be a number"),
        ({"amount": 1e300}, "'amount' must be from 0 to 1e12"),
        ({"amount": 1, "unit": "euros"}, "'unit' must be one of"),
        ({"amount": 1, "policy": "kill"}, "'policy' must be one of"),
        ({"amount": 1, "warn_at": 2}, "'warn_at' must be a fraction"),
        ({"amount": 1, "period": "custom"}, "'starts_at' must be an ISO 8601"),
        (
            {
                "amount": 1,
                "period": "custom",
                "starts_at": "2026-12-02T00:00Z",
                "ends_at": "2026-12-01T00:00Z",
            },
            "'ends_at' must be after",
        ),
        ({"amount": 1, "starts_at": "2026-12-02T00:00Z"}, "for period 'custom' only"),
        ({"amount": 1, "extra": 1}, "Unknown or read-only budget field"),
    ],
)
def test_bad_budgets_are_refused_with_the_reason(budget: object, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        budgets.parse_budget(budget)


async def test_only_admins_set_budgets(db: Database) -> None:
    async with db.session() as s:
        with pytest.raises(Forbidden, match="Only hub admins"):
            await budgets.set_budget(s, member("ann"), "red", {"amount": 1}, GROUPS)


async def test_endpoints_are_metered_per_up_period_and_builds_per_build(db: Database) -> None:
    from submarine_hub.store.models import Endpoint, EnvironmentProfile

    async with db.session() as s:
        ep = Endpoint(team="red", name="iris", owner="ann", status="ready",
                      config={"resources": {"cpu": 1, "memory": "2G"}}, created_at=T0)  # fmt: skip
        env = EnvironmentProfile(scope="red", name="torch", owner="ann")
        job = run_row("red", "ann", start=T0, end=T0 + timedelta(seconds=10))
        job.kind = "notebook"
        s.add_all([ep, env, job])
        await s.flush()
        ep_id, env_id, job_id = ep.id, env.id, job.id
    build = {"state": "building", "spec_hash": "abc", "started_at": T0.timestamp()}
    meter = Meter(builds=lambda env: build)
    async with db.session() as s:
        await meter.sync(s, now=T0 + timedelta(seconds=5))
    async with db.session() as s:
        ep = await s.get(Endpoint, ep_id)
        assert ep is not None
        ep.status, ep.updated_at = "stopped", T0 + timedelta(seconds=60)
    build.update(state="ready", finished_at=T0.timestamp() + 42)
    async with db.session() as s:
        await meter.sync(s)
        ep = await s.get(Endpoint, ep_id)
        assert ep is not None
        ep.status = "starting"  # started again: a second up-period
    async with db.session() as s:
        await meter.sync(s)
        await meter.sync(s)
        rows = {r.key: r for r in (await s.scalars(select(UsageRecord))).all()}
    assert rows[f"endpoint:{ep_id}:1"].cpu == 1.0 and rows[f"endpoint:{ep_id}:1"].memory == 2e9
    first = rows[f"endpoint:{ep_id}:1"]
    assert (records.aware(first.ended_at) - records.aware(first.started_at)).total_seconds() == 60
    assert rows[f"endpoint:{ep_id}:2"].ended_at is None
    (built,) = [r for r in rows.values() if r.kind == "build"]
    assert built.object_id == env_id and built.team == "red" and built.cpu == 1.0
    assert (records.aware(built.ended_at) - T0).total_seconds() == 42
    jobs = [r for r in rows.values() if r.kind == "notebook_job"]
    assert [r.object_id for r in jobs] == [job_id, job_id]
