"""Notebook schedules without a hub: cron times and catch-up on a fake clock, and
schedules firing on SQLite and PostgreSQL (once per time, across restarts and outages)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.core import notebook_schedules as ns
from submarine_hub.core.errors import Forbidden, InvalidInput, NotFound
from submarine_hub.core.identity import Identity
from submarine_hub.service.notebook_jobs import NotebookJobs
from submarine_hub.service.uploads import UploadStore
from submarine_hub.store import Database
from submarine_hub.store.models import Experiment, NotebookScheduleRun

from .helpers.notebook_jobs import ALICE, CAROL, train_notebook_db

UTC = timezone.utc

# --- cron ---------------------------------------------------------------------------------------


def t(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_times_with_seconds_and_time_zones() -> None:
    assert ns.check_cron(" */2  * * * * * ") == "*/2 * * * * *"
    assert ns.next_time("*/2 * * * * *", "UTC", t(2026, 1, 1, 0, 0, 1)) == t(2026, 1, 1, 0, 0, 2)
    assert ns.next_time("* * * * *", "UTC", t(2026, 1, 1, 0, 0, 1)) == t(2026, 1, 1, 0, 1, 0)
    # 9:00 in Paris is 8:00 UTC in winter and 7:00 UTC in summer
    assert ns.next_time("0 9 * * *", "Europe/Paris", t(2026, 1, 1)) == t(2026, 1, 1, 8)
    assert ns.next_time("0 9 * * *", "Europe/Paris", t(2026, 7, 1)) == t(2026, 7, 1, 7)
    for bad in ("", "every minute", "* * * *", "61 * * * *", "* * * * * * *"):
        with pytest.raises(InvalidInput, match=r"not a valid cron|must be a cron"):
            ns.check_cron(bad)
    with pytest.raises(InvalidInput, match="not a known time zone"):
        ns.check_timezone("Mars/Olympus")


def test_missed_times_follow_the_catchup_policy() -> None:
    due = t(2026, 1, 1, 10, 0)
    # on time (5 s late, within the 60 s grace): runs, nothing missed
    f = ns.plan("* * * * *", "UTC", "skip", due, due + timedelta(seconds=5), 60)
    assert f.fire_at == due and f.missed == 0 and f.next_run_at == t(2026, 1, 1, 10, 1)
    # the service was down 10 minutes and comes back 30 s after a time: that one runs,
    # the 10 before it were missed
    now = t(2026, 1, 1, 10, 10, 30)
    f = ns.plan("* * * * *", "UTC", "skip", due, now, 60)
    assert f.fire_at == t(2026, 1, 1, 10, 10) and f.missed == 10
    assert f.missed_first == due and f.missed_last == t(2026, 1, 1, 10, 9)
    assert f.next_run_at == t(2026, 1, 1, 10, 11)
    # back 5 minutes after an hourly time: skip waits, run_once runs once for it
    hourly = t(2026, 1, 1, 10)
    now = t(2026, 1, 1, 12, 5)
    skip = ns.plan("0 * * * *", "UTC", "skip", hourly, now, 60)
    assert skip.fire_at is None and skip.missed == 3 and skip.next_run_at == t(2026, 1, 1, 13)
    once = ns.plan("0 * * * *", "UTC", "run_once", hourly, now, 60)
    assert once.fire_at == t(2026, 1, 1, 12) and once.missed == 3


def test_every_time_late_by_less_than_the_grace_runs_after_a_short_outage() -> None:
    # a schedule every 10 s; the service was down 45 s (a fake clock): the 5 times of the
    # outage are each at most 60 s late, so all of them run and none is skipped
    due = t(2026, 1, 1, 10, 0, 0)
    now = due + timedelta(seconds=45)
    for catchup in ns.CATCHUP:
        f = ns.plan("*/10 * * * * *", "UTC", catchup, due, now, 60)
        assert f.fire == [due + timedelta(seconds=s) for s in (0, 10, 20, 30, 40)]
        assert f.missed == 0 and f.missed_first is None
        assert f.next_run_at == due + timedelta(seconds=50)
    # down 95 s: the times more than 60 s late were missed, the rest run
    f = ns.plan("*/10 * * * * *", "UTC", "skip", due, due + timedelta(seconds=95), 60)
    assert f.fire == [due + timedelta(seconds=s) for s in (40, 50, 60, 70, 80, 90)]
    assert f.missed == 4 and f.missed_last == due + timedelta(seconds=30)


# --- schedules --------------------------------------------------------------------------------


class FakeManager:
    def __init__(self, tmp: Path) -> None:
        self.on_final: list[Any] = []
        self.companions: list[Any] = []
        self.woken = 0
        self.tmp = tmp

    def wake(self) -> None:
        self.woken += 1

    def artifacts_location(self, run_id: int) -> str:
        return str(self.tmp / str(run_id))


class FakeContext:
    def __init__(self, db: Database, tmp: Path) -> None:
        self.db = db
        self.uploads = UploadStore(tmp / "uploads")
        self.experiments = FakeManager(tmp)
        self.users = {"alice": ALICE}
        self.quota_defaults: dict = {}

    async def user_identity(self, name: str) -> Identity:
        if name not in self.users:
            raise NotFound(f"No hub user named {name!r}.")
        return self.users[name]


async def _firings(db: Database, schedule_id: int) -> list[NotebookScheduleRun]:
    async with db.session() as s:
        from sqlalchemy import select

        q = select(NotebookScheduleRun).where(NotebookScheduleRun.schedule_id == schedule_id)
        return list((await s.scalars(q.order_by(NotebookScheduleRun.id))).all())


async def test_schedules_fire_once_per_time_survive_restarts_and_catch_up(
    db_url: str, tmp_path: Path
) -> None:
    db = await train_notebook_db(db_url)
    context = FakeContext(db, tmp_path)
    jobs = NotebookJobs(context, misfire_grace=60)
    try:
        async with db.session() as s:
            row = await ns.create(
                s,
                ALICE,
                {"cron": "*/10 * * * * *", "job": {"notebook": "nbs/train.ipynb",
                                                    "parameters": {"alpha": 2}}},
                {},
            )  # fmt: skip
            schedule_id = row.id
            assert row.team == "data-science" and row.catchup == "skip" and not row.paused
            assert row.job["notebook"] == "nbs/train.ipynb" and row.job["space"] == "user:alice"
            first = ns.aware(row.next_run_at)
            assert first.second % 10 == 0
            for bad, match in (
                ({"cron": "often", "job": {"notebook": "nbs/train.ipynb"}}, "not a valid cron"),
                ({"cron": "* * * * *"}, "'job' is required"),
                (
                    {"cron": "* * * * *", "catchup": "all", "job": {"notebook": "nbs/train.ipynb"}},
                    "'catchup' must be one of skip, run_once",
                ),
                (
                    {
                        "cron": "* * * * *",
                        "job": {"notebook": "nbs/train.ipynb", "parameters": {"alpha": "x"}},
                    },
                    "'alpha' must be a float",
                ),
                ({"cron": "* * * * *", "timezone": "Nowhere", "job": {}}, "time zone"),
            ):
                with pytest.raises(InvalidInput, match=match):
                    await ns.create(s, ALICE, bad, {})
            with pytest.raises(NotFound):
                await ns.get(s, CAROL, schedule_id)
            assert await ns.list_visible(s, CAROL) == []
        # due: one run for the time; a second tick at the same moment starts nothing
        await jobs.tick(first + timedelta(seconds=1))
        await jobs.tick(first + timedelta(seconds=1))
        firings = await _firings(db, schedule_id)
        assert len(firings) == 1 and firings[0].experiment_id and firings[0].error == ""
        assert ns.aware(firings[0].scheduled_for) == first
        assert context.experiments.woken == 1
        async with db.session() as s:
            run = await s.get(Experiment, firings[0].experiment_id)
            assert run.parameters == {"alpha": 2.0} and f"schedule-{schedule_id}" in run.spec[
                "meta"]["tags"]  # fmt: skip
        # "a restart": a new NotebookJobs 5 minutes later, 7 s after a time (grace: 5 s);
        # skip records the 33 missed times and starts nothing
        later = first + timedelta(minutes=5, seconds=37)
        await NotebookJobs(context, misfire_grace=5).tick(later)
        firings = await _firings(db, schedule_id)
        assert len(firings) == 2 and firings[1].experiment_id is None
        assert (
            "skipped 33 missed run(s)" in firings[1].error and "catchup: skip" in firings[1].error
        )
        # run_once: one run for the latest missed time
        async with db.session() as s:
            await ns.update(s, ALICE, schedule_id, {"catchup": "run_once"}, {})
        await NotebookJobs(context, misfire_grace=5).tick(later + timedelta(minutes=1))
        firings = await _firings(db, schedule_id)
        assert len(firings) == 3 and firings[2].experiment_id and firings[2].error == ""
        # paused: nothing fires; resumed: from now on
        async with db.session() as s:
            with pytest.raises(Forbidden, match="Only alice"):
                await ns.update(
                    s, Identity("bob", teams=frozenset({"data-science"})), schedule_id,
                    {"paused": True}, {},
                )  # fmt: skip
            await ns.update(s, ALICE, schedule_id, {"paused": True}, {})
        await jobs.tick(later + timedelta(hours=1))
        assert len(await _firings(db, schedule_id)) == 3
        async with db.session() as s:
            row = await ns.update(s, ALICE, schedule_id, {"paused": False}, {})
            assert ns.aware(row.next_run_at) > ns.utcnow() - timedelta(seconds=1)
            history = await ns.history(s, ALICE, schedule_id)
            assert [h["run"] is not None for h in history] == [True, False, True]
        # an owner gone from the hub: the firing records why no run started
        context.users.clear()
        async with db.session() as s:
            row = await s.get(ns.NotebookSchedule, schedule_id)
            due = ns.aware(row.next_run_at)
        await jobs.tick(due + timedelta(seconds=1))
        firings = await _firings(db, schedule_id)
        assert "no longer a hub user" in firings[-1].error and firings[-1].experiment_id is None
        async with db.session() as s:
            await ns.delete(s, ALICE, schedule_id)
        assert await _firings(db, schedule_id) == []
    finally:
        await db.dispose()


async def test_a_short_outage_delays_scheduled_runs_and_skips_none(
    db_url: str, tmp_path: Path
) -> None:
    db = await train_notebook_db(db_url)
    context = FakeContext(db, tmp_path)
    try:
        async with db.session() as s:
            row = await ns.create(
                s, ALICE, {"cron": "*/10 * * * * *", "job": {"notebook": "nbs/train.ipynb"}}, {}
            )
            schedule_id, first = row.id, ns.aware(row.next_run_at)
        # the service comes back 35 s after a time (a fake clock): the 4 times of the
        # outage are each within the 60 s grace, so each starts its run, and only once
        back = first + timedelta(seconds=35)
        await NotebookJobs(context, misfire_grace=60).tick(back)
        await NotebookJobs(context, misfire_grace=60).tick(back)
        firings = await _firings(db, schedule_id)
        assert [ns.aware(f.scheduled_for) for f in firings] == [
            first + timedelta(seconds=s) for s in (0, 10, 20, 30)
        ]
        assert all(f.experiment_id and f.error == "" for f in firings)
        assert len({f.experiment_id for f in firings}) == 4
    finally:
        await db.dispose()
