"""Prices are versioned: a change applies from its effective time on, past usage keeps the
prices of its time (reports and budgets price every second at the prices then); admins
add versions (now or later, never in the past) and withdraw ones not yet in effect; bad
prices and times are refused with the reason; other users cannot change prices."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic import command

from submarine_hub.core.errors import Conflict, InvalidInput, NotFound
from submarine_hub.core.identity import Identity
from submarine_hub.core.usage import budgets, records, reports
from submarine_hub.core.usage.prices import EPOCH, PriceBook, Prices
from submarine_hub.store import Database, upgrade
from submarine_hub.store.db import database_urls
from submarine_hub.store.migrate import alembic_config, head_revision
from submarine_hub.store.models import UsagePrice, UsageRecord

from .helpers.service import InProcessService

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=timezone.utc)
ANN = Identity("ann", teams=frozenset({"red"}))
ADMIN = Identity("admin", admin=True)


@pytest.fixture
async def db(db_url: str):  # type: ignore[no-untyped-def]
    upgrade(db_url)
    database = Database(db_url)
    yield database
    await database.dispose()


def record(key: str, team: str, start: datetime, end: datetime | None,
           cpu: float = 1.0) -> UsageRecord:  # fmt: skip
    return UsageRecord(key=key, kind="run", object_id=1, replica="w-0", team=team, user="ann",
                       cpu=cpu, memory=0, gpus=0, started_at=start, ended_at=end)  # fmt: skip


def test_a_price_book_cuts_an_interval_where_the_prices_change() -> None:
    a, b = Prices.parse({"cpu_hour": 1}), Prices.parse({"cpu_hour": 3})
    book = PriceBook(((EPOCH, a), (T0, b)))
    assert book.at(T0 - timedelta(seconds=1)) is a and book.at(T0) is b
    assert book.current(T0 - timedelta(days=1)) is a
    hour = timedelta(hours=1)
    spans = list(book.spans(T0 - hour, T0 + hour))
    assert [(x, y, p.cpu_hour) for x, y, p in spans] == [(T0 - hour, T0, 1), (T0, T0 + hour, 3)]
    assert list(book.spans(T0, T0 + hour)) == [(T0, T0 + hour, b)]
    assert list(book.spans(T0 - 2 * hour, T0 - hour)) == [(T0 - 2 * hour, T0 - hour, a)]


async def test_each_second_is_priced_at_the_prices_of_its_time(db: Database) -> None:
    """A run from T0-1h to T0+1h with a price change at T0: 1 h at the old price, 1 h at
    the new; a run that ended before the change keeps the old price; the budget's spend
    and the day split agree."""
    hour = timedelta(hours=1)
    async with db.session() as s:
        s.add(record("run:1:w-0", "red", T0 - hour, T0 + hour, cpu=2))
        s.add(record("run:2:w-0", "red", T0 - 3 * hour, T0 - 2 * hour, cpu=1))
        s.add(UsagePrice(effective_at=EPOCH, value=Prices.parse({"cpu_hour": 1}).to_json()))
        s.add(UsagePrice(effective_at=T0, value=Prices.parse({"cpu_hour": 10}).to_json()))
    now = T0 + 2 * hour
    window = {"since": T0 - 4 * hour, "until": now, "now": now}
    async with db.session() as s:
        book = await records.load_price_book(s)
        assert book.current(now).cpu_hour == 10
        out = await reports.report(s, ANN, book, group_by=["item"], **window)  # type: ignore[arg-type]
        cost = {row["key"]: row["cost"] for row in out["items"]}
        assert cost["run:1:w-0"] == pytest.approx(2 * 1 + 2 * 10)  # 2 CPU: 1 h each side
        assert cost["run:2:w-0"] == pytest.approx(1)  # before the change: the old price
        assert out["total"]["cost"] == pytest.approx(23)
        assert out["total"]["cpu_hours"] == pytest.approx(2 * 2 + 1)
        by_day = await reports.report(s, ANN, book, group_by=["day"], **window)  # type: ignore[arg-type]
        assert sum(r["cost"] for r in by_day["items"]) == pytest.approx(23)
        # the prices of today applied to all of it would have said 50 (5 CPU-hours at 10)
        flat = await reports.report(s, ANN, book.current(now), group_by=["team"], **window)  # type: ignore[arg-type]
        assert flat["total"]["cost"] == pytest.approx(50)
        await budgets.set_budget(
            s,
            ADMIN,
            "red",
            {
                "amount": 100,
                "period": "custom",
                "starts_at": (T0 - 4 * hour).isoformat(),
                "ends_at": (T0 + 4 * hour).isoformat(),
            },
            {"red": ["ann"]},
        )
        found = await budgets.status(s, "red", book, now)
        assert found is not None and found.spent == pytest.approx(23)


async def test_saving_prices_keeps_the_past_and_withdraws_only_future_versions(
    db: Database,
) -> None:
    hour = timedelta(hours=1)
    async with db.session() as s:
        s.add(record("run:1:w-0", "red", T0 - 2 * hour, T0 - hour))
    async with db.session() as s:  # the first version: the prices used so far stay before it
        first = await records.save_prices(s, Prices.parse({"cpu_hour": 5}), "admin", now=T0)
        later = await records.save_prices(
            s, Prices.parse({"cpu_hour": 7}), "admin", T0 + 24 * hour, now=T0
        )
        # one for the same future time replaces it
        again = await records.save_prices(
            s, Prices.parse({"cpu_hour": 8}), "admin", T0 + 24 * hour, now=T0
        )
        assert again.id == later.id
    async with db.session() as s:
        versions = await records.price_versions(s, now=T0 + hour)
        assert [(v["effective_at"], v["prices"]["cpu_hour"], v["in_effect"]) for v in versions] == [
            (EPOCH.isoformat(), 0, True),
            (T0.isoformat(), 5, True),
            ((T0 + 24 * hour).isoformat(), 8, False),
        ]
        book = await records.load_price_book(s)
        out = await reports.report(s, ANN, book, since=T0 - 3 * hour, until=T0, now=T0)
        assert out["total"]["cost"] == 0  # priced at the prices of its time (none then)
        with pytest.raises(Conflict, match="in effect since"):
            await records.delete_price_version(s, first.id, now=T0 + hour)
        with pytest.raises(NotFound, match="No price version"):
            await records.delete_price_version(s, 10**6, now=T0 + hour)
        await records.delete_price_version(s, later.id, now=T0 + hour)
    async with db.session() as s:
        assert len(await records.price_versions(s)) == 2


@pytest.mark.parametrize(
    "value",
    ["tomorrow", "2027-13-01T00:00Z", "2027-01-01T25:00", "", 20270101, True, "x" * 65,
     "2020-01-01T00:00Z"],
)  # fmt: skip
def test_bad_effective_times_are_refused_with_the_reason(value: object) -> None:
    now = datetime(2026, 12, 3, tzinfo=timezone.utc)
    if value == "":
        assert records.parse_effective_at(value, now) == now  # missing: now
        return
    with pytest.raises(InvalidInput, match="'effective_at'"):
        records.parse_effective_at(value, now)


@pytest.mark.parametrize(
    "prices",
    [{"cpu_hour": float("nan")}, {"gpu_hour": float("inf")}, {"memory_gb_hour": -0.01},
     {"gpu_types": {"a100": float("-inf")}}, {"images": {"x": {"cpu_hour": float("nan")}}}],
)  # fmt: skip
def test_prices_that_are_not_finite_or_negative_are_refused(prices: dict) -> None:
    with pytest.raises(InvalidInput, match="must be a price from 0"):
        Prices.parse(prices)


def test_an_effective_time_is_read_in_utc_and_never_before_now() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=timezone.utc)
    assert records.parse_effective_at("2027-01-01T01:00+01:00", now) == datetime(
        2027, 1, 1, tzinfo=timezone.utc
    )
    assert records.parse_effective_at("2027-01-01T00:00", now).tzinfo is not None
    # a few seconds late (clocks differ): now
    assert records.parse_effective_at("2026-12-03T11:59:30Z", now) == now


def test_the_prices_of_before_versioning_become_the_first_version(db_url: str) -> None:
    """Migrating: the prices set before (one row in usage_settings) are in effect since
    ever (they priced all usage until then); downgrading puts the current ones back."""
    upgrade(db_url, "0014")
    engine = sa.create_engine(database_urls(db_url)[0])
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO usage_settings (name, value, updated_by, updated_at) "
                        "VALUES ('prices', :v, 'root', :t)"),
                {"v": '{"currency": "EUR", "cpu_hour": 0.5}', "t": datetime(2026, 12, 1)},
            )  # fmt: skip
        assert upgrade(db_url) == head_revision()
        with engine.begin() as conn:
            rows = conn.execute(
                sa.text("SELECT effective_at, value, created_by FROM usage_prices")
            ).all()
            assert len(rows) == 1 and rows[0].created_by == "root"
            assert str(rows[0].effective_at).startswith("1970-01-01")
            assert conn.execute(sa.text("SELECT count(*) FROM usage_settings")).scalar() == 0
        with engine.connect() as conn:
            command.downgrade(alembic_config(conn), "0014")
            conn.commit()
        with engine.begin() as conn:
            (value,) = conn.execute(sa.text("SELECT value FROM usage_settings")).scalars().all()
            assert "EUR" in str(value) and "0.5" in str(value)
        upgrade(db_url)
    finally:
        engine.dispose()

    async def book() -> PriceBook:
        db = Database(db_url)
        try:
            async with db.session() as s:
                return await records.load_price_book(s)
        finally:
            await db.dispose()

    loaded = asyncio.run(book())
    assert loaded.versions[0][0] == EPOCH and loaded.current().cpu_hour == 0.5
    assert loaded.currency == "EUR"


# --- through the service's API ---------------------------------------------------------


def test_admins_set_prices_from_a_time_on_and_reports_keep_the_past(
    service: InProcessService,
) -> None:
    team = service.new_team("prices")
    user = service.new_user("prices-user", [team])
    now = datetime.now(timezone.utc)
    hour = timedelta(hours=1)

    async def seed(core) -> None:  # type: ignore[no-untyped-def]
        async with core.db.session() as s:
            s.add(UsageRecord(key=f"test:{team}:past", kind="run", object_id=0, replica="",
                              team=team, user=user, cpu=1.0, memory=0, gpus=0,
                              started_at=now - 2 * hour, ended_at=now - hour))  # fmt: skip

    r = service.api("PUT", "usage/prices", user="admin", json={"cpu_hour": 2.0})
    assert r.status_code == 200, r.text
    service.call(seed)
    query = f"usage?team={team}&group_by=item&since={(now - 3 * hour).isoformat()}"
    query = query.replace("+", "%2B")

    def past_cost() -> float:
        r = service.api("GET", query, user=user)
        assert r.status_code == 200, r.text
        (row,) = [i for i in r.json()["items"] if i["key"] == f"test:{team}:past"]
        return float(row["cost"])

    before = past_cost()  # priced at the version in effect 2 h ago, whatever it was
    soon = datetime.now(timezone.utc) + timedelta(seconds=1)
    r = service.api(
        "POST",
        "usage/prices/versions",
        user="admin",
        json={"effective_at": soon.isoformat(), "prices": {"cpu_hour": 40.0}},
    )
    assert r.status_code == 201, r.text
    version = r.json()
    assert version["in_effect"] is False and version["prices"]["cpu_hour"] == 40
    assert version["created_by"] == "admin"
    time.sleep(max((soon - datetime.now(timezone.utc)).total_seconds(), 0) + 0.2)
    assert service.api("GET", "usage/prices", user=user).json()["cpu_hour"] == 40
    assert past_cost() == before  # past usage keeps the prices of its time
    listed = service.api("GET", "usage/prices/versions", user=user).json()["items"]
    assert listed[-1]["id"] == version["id"] and listed[-1]["in_effect"] is True
    assert [v["effective_at"] for v in listed] == sorted(v["effective_at"] for v in listed)
    # in effect now: it stays (it prices what happens from its time on)
    r = service.api("DELETE", f"usage/prices/versions/{version['id']}", user="admin")
    assert r.status_code == 409 and "past usage keeps its prices" in r.json()["message"]
    # a future one is withdrawn
    later = (datetime.now(timezone.utc) + timedelta(days=30)).isoformat()
    r = service.api("POST", "usage/prices/versions", user="admin",
                    json={"effective_at": later, "prices": {"cpu_hour": 1.0}})  # fmt: skip
    assert r.status_code == 201, r.text
    future = r.json()["id"]
    assert service.api("GET", "usage/prices", user=user).json()["cpu_hour"] == 40
    r = service.api("DELETE", f"usage/prices/versions/{future}", user=user)
    assert r.status_code == 403
    r = service.api("DELETE", f"usage/prices/versions/{future}", user="admin")
    assert r.status_code == 204, r.text
    r = service.api("DELETE", f"usage/prices/versions/{future}", user="admin")
    assert r.status_code == 404 and "No price version" in r.json()["message"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"prices": {"cpu_hour": -1}}', "'cpu_hour' must be a price from 0"),
        ('{"prices": {"cpu_hour": NaN}}', "numbers must be finite"),
        ('{"prices": {"gpu_hour": Infinity}}', "numbers must be finite"),
        ('{"prices": {"gpu_types": {"a100": -Infinity}}}', "numbers must be finite"),
        ('{"prices": {"cpu_hour": "1"}}', "'cpu_hour' must be a price"),
        ('{"prices": {"cpu_hour": 1}, "effective_at": "next monday"}', "'effective_at' must be"),
        ('{"prices": {"cpu_hour": 1}, "effective_at": "2027-02-30T00:00Z"}', "must be an ISO"),
        ('{"prices": {"cpu_hour": 1}, "effective_at": 1767225600}', "'effective_at' must be"),
        ('{"prices": {"cpu_hour": 1}, "effective_at": "2020-01-01T00:00Z"}', "is in the past"),
        ('{"prices": {"cpu_hour": 1}, "from": "2027-01-01"}', "Unknown or read-only"),
        ('{"effective_at": "2030-01-01T00:00Z"}', "needs 'prices'"),
        ('{"prices": [1, 2]}', "Prices must be an object"),
        ("[]", "must be a JSON object"),
        ('{"prices": {"disk_gb_month": 1e400}}', "numbers must be finite"),
        ('{"prices": {"disk_gb_month": 2e9}}', "'disk_gb_month' must be a price from 0"),
    ],
)  # fmt: skip
def test_bad_price_versions_are_refused_with_the_reason(
    service: InProcessService, body: str, message: str
) -> None:
    before = service.api("GET", "usage/prices/versions", user="admin").json()["items"]
    r = service.api("POST", "usage/prices/versions", user="admin", data=body,
                    headers={"Content-Type": "application/json"})  # fmt: skip
    assert r.status_code == 400, r.text
    assert message in r.json()["message"]
    assert service.api("GET", "usage/prices/versions", user="admin").json()["items"] == before


def test_only_admins_set_prices(service: InProcessService) -> None:
    team = service.new_team("prices-other")
    user = service.new_user("prices-other", [team])
    before = service.api("GET", "usage/prices/versions", user=user).json()["items"]
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    r = service.api("POST", "usage/prices/versions", user=user,
                    json={"effective_at": future, "prices": {"cpu_hour": 0}})  # fmt: skip
    assert r.status_code == 403 and "Only hub admins" in r.json()["message"]
    r = service.api("PUT", "usage/prices", user=user, json={"cpu_hour": 0})
    assert r.status_code == 403
    assert service.api("GET", "usage/prices/versions", user=user).json()["items"] == before
    assert service.api("POST", "usage/prices/versions", json={"prices": {}}).status_code in (
        401,
        403,
    )


def test_the_cli_sets_prices_from_a_later_time_lists_and_withdraws_them(
    service: InProcessService,
) -> None:
    from .helpers.api import as_user
    from .helpers.cli import submarine

    admin = as_user(service, "admin")
    later = (datetime.now(timezone.utc) + timedelta(days=400)).replace(microsecond=0)
    p = submarine("usage", "prices", "--set", "gpu_hour=9.5", "--from", later.isoformat(),
                  env=admin)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "applies from " + later.isoformat() in p.stderr and "gpu_hour        9.5" in p.stdout
    p = submarine("usage", "prices", "--versions", "--json", env=admin)
    assert p.returncode == 0, p.stderr
    (mine,) = [v for v in json.loads(p.stdout) if v["effective_at"] == later.isoformat()]
    assert mine["in_effect"] is False and mine["prices"]["gpu_hour"] == 9.5
    current = submarine("usage", "prices", "--json", env=admin)
    assert json.loads(current.stdout)["gpu_hour"] != 9.5  # not yet
    p = submarine("usage", "prices", "--set", "gpu_hour=1", "--from", "yesterday", env=admin)
    assert p.returncode != 0 and "'effective_at' must be an ISO 8601 time" in p.stderr
    assert "Traceback" not in p.stderr
    p = submarine("usage", "prices", "--from", later.isoformat(), env=admin)
    assert p.returncode == 2 and "--from goes with --set" in p.stderr
    user = service.new_user("prices-cli", [service.new_team("prices-cli")])
    p = submarine("usage", "prices", "--withdraw", str(mine["id"]), env=as_user(service, user))
    assert p.returncode != 0 and "Only hub admins" in p.stderr
    p = submarine("usage", "prices", "--withdraw", str(mine["id"]), env=admin)
    assert p.returncode == 0 and f"Withdrew price version {mine['id']}" in p.stdout


def test_the_admin_usage_page_lists_the_price_versions(service: InProcessService) -> None:
    later = (datetime.now(timezone.utc) + timedelta(days=500)).isoformat()
    r = service.api("POST", "usage/prices/versions", user="admin",
                    json={"effective_at": later, "prices": {"cpu_hour": 0.75}})  # fmt: skip
    assert r.status_code == 201, r.text
    version = r.json()["id"]
    try:
        page = service.page("admin/usage", user="admin")
        assert page.status_code == 200, page.text
        row = page.text.split(f'<tr data-version="{version}">', 1)[1].split("</tr>", 1)[0]
        assert later in row and "future" in row and "0.75" in row
        assert f'class="withdraw-prices" data-version="{version}"' in row
        assert 'id="p-effective" name="effective_at" type="datetime-local"' in page.text
    finally:
        service.api("DELETE", f"usage/prices/versions/{version}", user="admin")
