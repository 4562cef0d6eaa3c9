"""An endpoint's up-periods are metered from its real start (recorded on its row when it
is created, or asked again after a failure) to its real stop, not from when the meter
first sees it; runs' artifact folders are measured per team, and the bytes a team stores
are metered as ``disk`` records and priced per GB-month."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from submarine_hub.core import endpoints
from submarine_hub.core import models as registry
from submarine_hub.core.errors import Forbidden, InvalidInput
from submarine_hub.core.identity import Identity
from submarine_hub.core.usage import disk, records, reports
from submarine_hub.core.usage.meter import Meter
from submarine_hub.core.usage.prices import Prices
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import Endpoint, Experiment, UsageRecord

ALICE = Identity("alice", teams=frozenset({"data-science"}))


async def _serving(s, name: str = "iris") -> Endpoint:  # type: ignore[no-untyped-def]
    model = await registry.create_model(s, ALICE, {"name": name, "team": "data-science"})
    v = await registry.create_version(s, ALICE, model, {"framework": "sklearn"}, "file:///x")
    registry.add_file(v, "model.joblib", 1, "0" * 64)
    registry.finalize(v)
    return await endpoints.create(s, ALICE, {"name": name, "model": name, "version": 1})


async def _records(db: Database, ep_id: int) -> list[UsageRecord]:
    async with db.session() as s:
        q = select(UsageRecord).where(UsageRecord.object_id == ep_id).order_by(UsageRecord.id)
        return [r for r in (await s.scalars(q)).all() if r.kind == "endpoint"]


def _off(a: datetime | None, b: datetime) -> float:
    assert a is not None
    return abs((records.aware(a) - b).total_seconds())


async def test_endpoint_up_periods_start_and_end_at_the_endpoints_real_times(
    db_url: str,
) -> None:
    upgrade(db_url)
    db = Database(db_url)
    meter = Meter()
    try:
        started = datetime.now(timezone.utc)
        async with db.session() as s:
            ep = await _serving(s)
            ep_id = ep.id
            assert "started_at" not in endpoints.to_json(ep)["spec"]  # bookkeeping, hidden
        # the meter first sees it 15 s late: the record still starts at the real start
        async with db.session() as s:
            await meter.sync(s, now=started + timedelta(seconds=15))
        (first,) = await _records(db, ep_id)
        assert _off(first.started_at, started) < 1 and first.ended_at is None
        # stopped; the meter sees it 15 s later: the record ends at the real stop
        async with db.session() as s:
            row = await s.get(Endpoint, ep_id)
            assert row is not None
            endpoints.stop(row, ALICE)
        stopped = datetime.now(timezone.utc)
        async with db.session() as s:
            await meter.sync(s, now=stopped + timedelta(seconds=15))
        (first,) = await _records(db, ep_id)
        assert _off(first.ended_at, stopped) < 1
        # created again: the second up-period starts at that real start, again seen late
        async with db.session() as s:
            body = {"name": "iris", "model": "iris", "version": 1}
            again = await endpoints.create(s, ALICE, body)
            assert again.id == ep_id
        restarted = datetime.now(timezone.utc)
        async with db.session() as s:
            await meter.sync(s, now=restarted + timedelta(seconds=15))
        first, second = await _records(db, ep_id)
        assert second.key == f"endpoint:{ep_id}:2" and second.ended_at is None
        assert _off(second.started_at, restarted) < 1
        assert records.aware(second.started_at) >= records.aware(first.ended_at)
    finally:
        await db.dispose()


async def test_a_failed_endpoint_asked_again_starts_a_new_period_at_that_time(
    db_url: str,
) -> None:
    upgrade(db_url)
    db = Database(db_url)
    meter = Meter()
    try:
        async with db.session() as s:
            ep_id = (await _serving(s)).id
        async with db.session() as s:
            await meter.sync(s)
            row = await s.get(Endpoint, ep_id)
            assert row is not None
            row.status, row.reason = endpoints.FAILED, "crashed"
        failed = datetime.now(timezone.utc)
        async with db.session() as s:
            await meter.sync(s, now=failed + timedelta(seconds=15))
            row = await s.get(Endpoint, ep_id)
            assert row is not None
            await endpoints.update(s, ALICE, row, {})
        asked = datetime.now(timezone.utc)
        async with db.session() as s:
            await meter.sync(s, now=asked + timedelta(seconds=15))
        first, second = await _records(db, ep_id)
        assert _off(first.ended_at, failed) < 1
        assert _off(second.started_at, asked) < 1 and second.ended_at is None
        # a bad recorded start (hand-edited row) falls back to the row's own times
        async with db.session() as s:
            row = await s.get(Endpoint, ep_id)
            assert row is not None
            row.config = {**row.config, "started_at": "not a time"}
            assert endpoints.started_at(row) is None
    finally:
        await db.dispose()


async def test_run_artifact_folders_are_measured_per_team(db_url: str, tmp_path: Path) -> None:
    """Each team's runs' (and notebook jobs') artifact folders count for that team only;
    runs whose folder is elsewhere (None) or gone count 0; links are not followed."""
    from submarine_hub.core.usage.disk import runs_bytes
    from submarine_hub.service.usage import DISK, UsageMeter

    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            rows = [
                Experiment(name="r", team=team, owner=owner, kind=kind, status="succeeded", spec={})
                for team, owner, kind in (
                    ("red", "ann", "command"),
                    ("red", "ann", "notebook"),
                    ("blue", "cy", "command"),
                    ("red", "ann", "command"),  # no folder on this machine
                )
            ]
            s.add_all(rows)
            await s.flush()
            ids = [r.id for r in rows]
        sizes = {ids[0]: 1000, ids[1]: 234, ids[2]: 7}
        for run_id, size in sizes.items():
            folder = tmp_path / str(run_id) / "artifacts"
            folder.mkdir(parents=True)
            (folder / "out.bin").write_bytes(b"x" * size)
        (tmp_path / str(ids[0]) / "artifacts" / "link").symlink_to(tmp_path / str(ids[2]))

        def where(run_id: int) -> Path | None:
            return None if run_id == ids[3] else tmp_path / str(run_id) / "artifacts"

        assert runs_bytes(where, [ids[0], ids[1], ids[3], 10**6]) == 1234
        meter = UsageMeter(db, interval=0, run_artifacts=where)
        await meter.measure_disk({"red", "blue"})
        assert DISK.labels("red", "artifacts")._value.get() == 1234
        assert DISK.labels("blue", "artifacts")._value.get() == 7
        async with db.session() as s:
            q = select(UsageRecord).where(UsageRecord.kind == "disk")
            stored = {r.team: r for r in (await s.scalars(q)).all()}
        assert stored["red"].memory == 1234 and stored["red"].ended_at is None
        assert stored["blue"].memory == 7
    finally:
        await db.dispose()


@pytest.mark.parametrize("price", [-1, math.nan, math.inf, 1e12, "1", True, None])
def test_bad_disk_prices_are_refused_with_the_reason(price: object) -> None:
    if price is None:  # missing: free
        assert Prices.parse({"disk_gb_month": None}).disk_gb_month == 0
        return
    with pytest.raises(InvalidInput, match="disk_gb_month"):
        Prices.parse({"disk_gb_month": price})


async def test_stored_bytes_are_priced_per_gb_month_for_their_team_only(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    t0 = datetime(2026, 11, 2, tzinfo=timezone.utc)
    try:
        async with db.session() as s:
            await disk.record_stored(s, "red", 2 * 10**9, t0)
            await disk.record_stored(s, "red", 2 * 10**9, t0 + timedelta(hours=1))  # same
            await disk.record_stored(s, "red", 4 * 10**9, t0 + timedelta(hours=73))
            await disk.record_stored(s, "blue", 10**9, t0)
        prices = Prices.parse({"cpu_hour": 1, "memory_gb_hour": 1, "disk_gb_month": 10})
        assert prices.to_json()["disk_gb_month"] == 10
        window = {"since": t0, "until": t0 + timedelta(hours=146), "now": t0 + timedelta(hours=146)}
        ann = Identity("ann", teams=frozenset({"red"}))
        cy = Identity("cy", teams=frozenset({"blue"}))
        async with db.session() as s:
            out = await reports.report(s, ann, prices, group_by=["team", "kind"], **window)  # type: ignore[arg-type]
            (row,) = out["items"]
            assert (row["team"], row["kind"]) == ("red", "disk")
            assert row["disk_gb_hours"] == pytest.approx(2 * 73 + 4 * 73)
            assert row["memory_gb_hours"] == 0 and row["cpu_hours"] == 0
            assert row["cost"] == pytest.approx((2 * 73 + 4 * 73) * 10 / 730)
            lines = reports.to_csv(out).splitlines()
            assert lines[0].endswith(",cost,currency,disk_gb_hours")
            theirs = await reports.report(s, cy, prices, group_by=["team"], **window)  # type: ignore[arg-type]
            assert [r["team"] for r in theirs["items"]] == ["blue"]
            with pytest.raises(Forbidden):
                await reports.report(s, cy, prices, team="red", **window)  # type: ignore[arg-type]
    finally:
        await db.dispose()
