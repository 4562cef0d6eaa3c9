"""The metastore on SQLite and, when SUBMARINE_TEST_DB_URL is set, on PostgreSQL."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, func, inspect, select, text

from submarine_hub.core import teams
from submarine_hub.core.errors import Forbidden, InvalidInput, NotFound
from submarine_hub.core.identity import Identity
from submarine_hub.store import Database, database_urls, upgrade
from submarine_hub.store.db import configure_engine, reading
from submarine_hub.store.migrate import current_revision, head_revision
from submarine_hub.store.models import Base, Team


def test_upgrade_creates_the_schema_once(db_url: str) -> None:
    assert current_revision(db_url) is None
    assert upgrade(db_url) == head_revision()
    assert upgrade(db_url) == head_revision()  # a second start changes nothing
    engine = create_engine(database_urls(db_url)[0])
    assert "teams" in inspect(engine).get_table_names()
    engine.dispose()


def test_models_and_migrations_agree(db_url: str) -> None:
    upgrade(db_url)
    engine = configure_engine(create_engine(database_urls(db_url)[0]))
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


@pytest.mark.local
def test_concurrent_starts_migrate_once(db_url: str) -> None:
    """Four service replicas starting together: all succeed, none races another."""
    ctx = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(4, mp_context=ctx) as pool:
        revisions = list(pool.map(upgrade, [db_url] * 4))
    assert revisions == [head_revision()] * 4


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    upgrade(url)
    engine = configure_engine(create_engine(database_urls(url)[0]))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()


@pytest.mark.parametrize("url", ["mysql://x@localhost/db", "oracle://scott@host/db"])
def test_unsupported_database_url_is_refused_with_advice(url: str) -> None:
    with pytest.raises(ValueError, match="use sqlite:///PATH or postgresql://"):
        database_urls(url)


GROUPS = {"data-science": ["alice", "bob"], "ml-platform": ["bob", "carol"]}
ALICE = Identity(name="alice", teams=frozenset({"data-science"}))
ADMIN = Identity(name="admin", admin=True)


async def test_team_settings_round_trip(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            assert [t.name for t in await teams.list_teams(s, ALICE, GROUPS)] == ["data-science"]
            assert len(await teams.list_teams(s, ADMIN, GROUPS)) == 2
            await teams.update_team(s, ADMIN, "ml-platform", {"description": "Serving"}, GROUPS)
        async with db.session() as s:
            view = await teams.get_team(s, ADMIN, "ml-platform", GROUPS)
            assert view.description == "Serving"
            assert view.members == ("bob", "carol")
            assert view.updated_at is not None
            await teams.update_team(s, ADMIN, "ml-platform", {"description": "Online"}, GROUPS)
        async with db.session() as s:
            assert (await teams.get_team(s, ADMIN, "ml-platform", GROUPS)).description == "Online"
    finally:
        await db.dispose()


async def test_team_rules(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        async with db.session() as s:
            with pytest.raises(Forbidden, match="not a member of team 'ml-platform'"):
                await teams.get_team(s, ALICE, "ml-platform", GROUPS)
            with pytest.raises(Forbidden, match="Only hub admins"):
                await teams.update_team(s, ALICE, "data-science", {"description": "x"}, GROUPS)
            with pytest.raises(NotFound):
                await teams.get_team(s, ADMIN, "nope", GROUPS)
            with pytest.raises(InvalidInput, match="Unknown team field"):
                await teams.update_team(s, ADMIN, "data-science", {"owner": "me"}, GROUPS)
    finally:
        await db.dispose()


async def test_a_failed_transaction_leaves_nothing(db_url: str) -> None:
    upgrade(db_url)
    db = Database(db_url)
    try:
        with pytest.raises(RuntimeError):
            async with db.session() as s:
                await teams.update_team(s, ADMIN, "data-science", {"description": "v1"}, GROUPS)
                raise RuntimeError("crash before commit")
        async with db.session() as s:
            assert (await teams.get_team(s, ADMIN, "data-science", GROUPS)).description == ""
    finally:
        await db.dispose()


async def test_times_are_read_back_aware_and_in_utc(db_url: str) -> None:
    """SQLite keeps no zone: a time written east of UTC (or naive, meaning UTC) reads back
    as the same instant, aware, in UTC, as on PostgreSQL."""
    upgrade(db_url)
    db = Database(db_url)
    tokyo = ZoneInfo("Asia/Tokyo")
    written = datetime(2026, 3, 1, 18, 30, 5, 123456, tzinfo=tokyo)
    try:
        async with db.session() as s:
            s.add_all([Team(name="east", created_at=written, updated_at=written)])
            s.add(Team(name="naive", created_at=datetime(2026, 3, 1, 9, 30, 5)))
        async with db.session() as s:
            east = await s.get(Team, "east")
            naive = await s.get(Team, "naive")
            assert east is not None and naive is not None
            assert east.created_at == written
            assert east.created_at.utcoffset() == timedelta(0)
            assert east.created_at.isoformat() == "2026-03-01T09:30:05.123456+00:00"
            assert naive.created_at == datetime(2026, 3, 1, 9, 30, 5, tzinfo=timezone.utc)
            # comparisons in queries use the same instants
            found = await s.scalars(
                select(Team.name).where(Team.created_at >= written - timedelta(seconds=1))
            )
            assert sorted(found) == ["east", "naive"]
    finally:
        await db.dispose()


async def test_a_read_on_sqlite_does_not_queue_behind_a_writer(tmp_path: Path) -> None:
    """Reads (a GET's transactions) begin deferred: while another connection holds the
    write lock they read the last committed state at once, instead of waiting for the
    lock (busy_timeout, 30 s) as BEGIN IMMEDIATE did; writes still take turns."""
    path = tmp_path / "meta.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    writer = sqlite3.connect(path, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO teams (name, description, quota, created_at, updated_at) "
                       "VALUES ('w', '', '{}', '2026-01-01', '2026-01-01')")  # fmt: skip

        async def count() -> int:
            async with db.session() as s:
                return int(await s.scalar(select(func.count()).select_from(Team)) or 0)

        reading(True)
        try:
            assert await asyncio.wait_for(count(), 10) == 0  # the committed state
        finally:
            reading(False)
        waiting = asyncio.ensure_future(count())  # a writer's transaction waits its turn
        await asyncio.sleep(0.5)
        assert not waiting.done()
        writer.execute("COMMIT")
        assert await asyncio.wait_for(waiting, 30) == 1
    finally:
        writer.close()
        await db.dispose()


async def test_sqlite_writers_queue_in_order_and_a_failed_one_lets_the_next_in(
    tmp_path: Path,
) -> None:
    """Writers of one process take turns on SQLite's one write lock through the service's
    queue, in the order they came (not in SQLite's busy handler, which sleeps between
    tries); a writer that fails still gives its turn away; readers do not queue, nor does a
    session opened inside a writing one of the same task."""
    url = f"sqlite:///{tmp_path / 'meta.sqlite'}"
    upgrade(url)
    db = Database(url)
    order: list[int] = []
    inside = [0, 0]  # writers inside a session now, and the most there ever were

    async def write(i: int) -> None:
        async with db.session() as s:
            inside[0] += 1
            inside[1] = max(inside)
            order.append(i)
            await s.execute(text("CREATE TABLE IF NOT EXISTS t (i INTEGER)"))
            await asyncio.sleep(0)  # another writer would get in here without the queue
            await s.execute(text("INSERT INTO t VALUES (:i)"), {"i": i})
            inside[0] -= 1
            if i == 3:
                raise RuntimeError("this writer fails")

    try:
        results = await asyncio.gather(*(write(i) for i in range(20)), return_exceptions=True)
        assert [type(r).__name__ for r in results if r is not None] == ["RuntimeError"]
        assert order == list(range(20))  # in the order they asked
        assert inside[1] == 1  # one at a time
        async with db.session() as s:
            assert (await s.execute(text("SELECT count(*) FROM t"))).scalar() == 19
        reading(True)
        try:
            async with db.session() as outer:
                async with db.session() as inner:  # reads nest freely
                    assert (await inner.execute(text("SELECT 1"))).scalar() == 1
                assert (await outer.execute(text("SELECT 1"))).scalar() == 1
        finally:
            reading(False)

        async def nested() -> None:
            async with db.session() as outer:
                async with db.session() as inner:  # same task: not behind its own turn
                    await inner.execute(text("INSERT INTO t VALUES (100)"))
                await outer.execute(text("INSERT INTO t VALUES (101)"))

        await asyncio.wait_for(nested(), 10)  # would wait out the 30 s busy timeout
    finally:
        await db.dispose()
