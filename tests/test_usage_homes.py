"""Users' homes are metered: measured a bounded number of entries per meter tick (a huge
home over several ticks), each file once, no link followed, no other filesystem entered;
each home split between its user's teams, recorded as disk per user and team; another
team's user cannot read them."""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from submarine_hub.core.errors import Forbidden
from submarine_hub.core.identity import Identity
from submarine_hub.core.usage import disk, reports
from submarine_hub.core.usage.disk import FolderScan, HomeScanner, shares
from submarine_hub.core.usage.prices import Prices
from submarine_hub.store import Database, upgrade
from submarine_hub.store.models import UsageRecord

from .helpers.service import InProcessService

T0 = datetime(2026, 11, 2, tzinfo=timezone.utc)


def tree(root: Path, files: int, size: int = 10, per_dir: int = 50) -> int:
    """``files`` files of ``size`` bytes in folders of ``per_dir``; returns the bytes."""
    for i in range(files):
        folder = root / f"d{i // per_dir}" / "sub"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}").write_bytes(b"x" * size)
    return files * size


def scan_all(root: Path, budget: int) -> tuple[int, int]:
    scan, steps = FolderScan(root), 0
    while not scan.done:
        scan.step(budget)
        steps += 1
        assert steps < 100_000
    return scan.total, steps


def test_a_home_is_measured_a_bounded_number_of_entries_at_a_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    expected = tree(home, 300, size=7)
    (home / "big").write_bytes(b"y" * 5000)
    os.link(home / "big", home / "big-again")  # a hard link: its bytes once
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"z" * 10**6)
    (home / "link").symlink_to(outside)  # not followed
    (home / "file-link").symlink_to(outside / "secret")
    expected += 5000
    whole, one_step = scan_all(home, 10**9)
    assert (whole, one_step) == (expected, 1)
    total, steps = scan_all(home, 25)
    assert total == expected and steps > 10  # the same figure, in many small steps
    assert disk.folder_bytes(home) == expected + 5000  # the old walk counted the link twice


def test_a_folder_swapped_for_a_link_while_measured_is_not_followed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "a").mkdir(parents=True)
    (home / "a" / "f").write_bytes(b"x" * 10)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"z" * 1000)
    scan = FolderScan(home)
    scan.step(1)  # found home/a, not entered yet
    assert not scan.done
    (home / "a" / "f").unlink()
    (home / "a").rmdir()
    (home / "a").symlink_to(outside)
    while not scan.done:
        scan.step(10)
    assert scan.total == 0


def test_a_missing_home_is_none(tmp_path: Path) -> None:
    scan = FolderScan(tmp_path / "nobody")
    scan.step(10)
    assert scan.done and scan.missing
    (tmp_path / "file").write_text("x")
    scan = FolderScan(tmp_path / "file")
    scan.step(10)
    assert scan.missing


def test_the_home_scanner_spreads_big_homes_over_ticks_and_rounds(tmp_path: Path) -> None:
    small, big = tmp_path / "ann", tmp_path / "ben"
    small_bytes = tree(small, 20)
    big_bytes = tree(big, 3000)
    homes = {"ann": small, "ben": big, "cy": tmp_path / "cy"}  # cy: no home on disk
    scanner = HomeScanner(homes.get, interval=100, max_entries=1000)
    done: dict[str, int | None] = {}
    ticks = 0
    while set(done) != {"ann", "ben", "cy"}:
        got = scanner.tick(["ann", "ben", "cy", "nobody"], now=float(ticks))
        done.update(got)
        ticks += 1
        assert ticks < 50
    assert done == {"ann": small_bytes, "ben": big_bytes, "cy": None}
    # ~3000 files + 120 folders at 1000 entries a tick: several ticks, never one
    assert 3 <= ticks <= 6
    assert scanner.rounds == 1
    assert scanner.tick(["ann"], now=50.0) == {}  # the next round waits for its interval
    (small / "new").write_bytes(b"n" * 100)
    assert scanner.tick(["ann"], now=float(ticks) + 100) == {"ann": small_bytes + 100}
    assert scanner.rounds == 2


def test_a_home_is_split_evenly_between_its_users_teams() -> None:
    assert shares(3001, ["red", "blue"]) == {"blue": 1501, "red": 1500}
    assert shares(10, ["red"]) == {"red": 10}
    assert shares(10, []) == {}
    assert sum(shares(10**12 + 7, ["a", "b", "c"]).values()) == 10**12 + 7


async def test_homes_are_recorded_per_user_and_team_and_read_by_members_only(
    db_url: str,
) -> None:
    upgrade(db_url)
    db = Database(db_url)
    hour = timedelta(hours=1)
    try:
        async with db.session() as s:
            await disk.record_stored(s, "red", 10**9, T0)  # the team's own disk
            await disk.record_home(s, "ben", 3 * 10**9, ["red", "blue"], T0)
            await disk.record_home(s, "ben", 3 * 10**9, ["red", "blue"], T0 + hour)  # same
            await disk.record_home(s, "ann", 10**9, ["red"], T0)
            assert await disk.homes_bytes(s, "red") == 25 * 10**8
            assert await disk.homes_bytes(s, "blue") == 15 * 10**8
        async with db.session() as s:  # ben left blue at T0+2h; his home grew
            await disk.record_home(s, "ben", 4 * 10**9, ["red"], T0 + 2 * hour)
            await disk.record_home(s, "ann", None, ["red"], T0 + 2 * hour)  # home gone
            assert await disk.homes_bytes(s, "blue") == 0
            assert await disk.homes_bytes(s, "red") == 4 * 10**9
            keys = (await s.scalars(select(UsageRecord.key).order_by(UsageRecord.id))).all()
            assert "disk:red:home:ben:1" in keys and "disk:red:1" in keys
        prices = Prices.parse({"disk_gb_month": 730})  # 1 per GB-hour
        until = T0 + 3 * hour
        window = {"since": T0, "until": until, "now": until}
        ann = Identity("ann", teams=frozenset({"red"}))
        cy = Identity("cy", teams=frozenset({"blue"}))
        async with db.session() as s:
            out = await reports.report(s, ann, prices, team="red", group_by=["user", "kind"],
                                       **window)  # type: ignore[arg-type]  # fmt: skip
            by_user = {r["user"]: r for r in out["items"]}
            assert by_user[""]["disk_gb_hours"] == pytest.approx(3)  # the team's 1 GB, 3 h
            assert by_user["ben"]["disk_gb_hours"] == pytest.approx(1.5 * 2 + 4 * 1)
            assert by_user["ann"]["disk_gb_hours"] == pytest.approx(1 * 2)
            assert by_user["ben"]["cost"] == pytest.approx(7)
            items = await reports.report(s, ann, prices, team="red", group_by=["item"],
                                         **window)  # type: ignore[arg-type]  # fmt: skip
            assert {r["replica"] for r in items["items"]} == {"", "home"}
            blue = await reports.report(s, cy, prices, group_by=["team", "user"], **window)  # type: ignore[arg-type]
            assert {(r["team"], r["user"]) for r in blue["items"]} == {("blue", "ben")}
            assert blue["total"]["disk_gb_hours"] == pytest.approx(1.5 * 2)
            with pytest.raises(Forbidden):
                await reports.report(s, cy, prices, team="red", **window)  # type: ignore[arg-type]
    finally:
        await db.dispose()


def test_the_service_meters_its_users_homes(service: InProcessService, tmp_path: Path) -> None:
    """The usage meter measures the members' homes of every team and the team's figures
    show its share; another team's user is refused them."""
    from submarine_hub.service.usage import UsageMeter

    team = service.new_team("homes")
    user = service.new_user("homes-user", [team])
    other_team = service.new_team("homes-other")
    other = service.new_user("homes-other", [other_team])
    homes = tmp_path / "homes"
    size = tree(homes / user, 120, size=1000)

    async def tick(core):  # type: ignore[no-untyped-def]
        meter = UsageMeter(core.db, interval=0, home_dir=lambda u: homes / u,
                           hub_groups=core.hub_groups, home_scan_max_entries=100)  # fmt: skip
        done: dict[str, int | None] = {}
        for _ in range(20):
            done.update(await meter.measure_homes())
            if user in done:
                break
        return done

    done = service.call(tick)
    assert done[user] == size
    assert done[other] is None  # no home on disk: nothing recorded
    (mine,) = service.api("GET", f"usage/teams?team={team}", user=user).json()["items"]
    assert mine["disk"]["homes"] == size
    r = service.api("GET", f"usage?team={team}&group_by=user,kind", user=user)
    assert r.status_code == 200, r.text
    (row,) = [i for i in r.json()["items"] if i["kind"] == "disk"]
    assert row["user"] == user and row["disk_gb_hours"] >= 0
    assert service.api("GET", f"usage/teams?team={team}", user=other).status_code == 403
    assert service.api("GET", f"usage?team={team}", user=other).status_code == 403
    theirs = service.api("GET", "usage?group_by=team,user", user=other).json()["items"]
    assert all(i["team"] != team for i in theirs)
    metrics = service.api("GET", "metrics", user="admin").text
    assert f'submarine_user_home_bytes{{user="{user}"}} {float(size)}' in metrics
