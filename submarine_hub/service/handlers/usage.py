"""``/usage``: usage reports (JSON, CSV), the caller's teams' quota, usage, spend and
budget, the admin's prices and the teams' budgets."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from ...core.errors import Forbidden, InvalidInput, NotFound
from ...core.identity import Identity
from ...core.usage import budgets, records, reports, summary
from ...core.usage.meter import KINDS, Meter
from ...core.usage.prices import Prices
from ...core.validation import reject_unknown
from ...store.db import reading
from ...store.models import TeamBudget
from .base import BaseHandler


async def meter_now(handler: BaseHandler, teams: list[str] | None) -> None:
    """Bring the usage records of ``teams`` (None: all) up to now (a GET that writes: in
    the writers' queue)."""
    reading(False)
    try:
        async with handler.core.db.session() as s:
            for team in [None] if teams is None else sorted(set(teams)):
                await Meter().sync(s, team=team)
    finally:
        reading(True)


def teams_of(identity: Identity, team: str | None) -> list[str] | None:
    """The teams a request of ``identity`` reads (None: every team, an admin's)."""
    if team is not None:
        return [team]
    return None if identity.admin else sorted(identity.teams)


class UsageReportHandler(BaseHandler):
    path = "/usage"

    async def get(self) -> None:
        identity = await self.identity()
        fmt = self.enum_arg("format", ("json", "csv"), "json")
        kind = self.enum_arg("kind", KINDS)
        group_by = reports.parse_group_by(self.get_query_argument("group_by", None))
        since = reports.parse_time(self.get_query_argument("since", None), "since")
        until = reports.parse_time(self.get_query_argument("until", None), "until")
        team = self.get_query_argument("team", None) or None
        user = self.get_query_argument("user", None) or None
        if team is not None and team not in await self.core.hub_groups():
            raise NotFound(f"No team named {team!r}.")
        await meter_now(self, teams_of(identity, team))  # figures up to now
        async with self.core.db.session() as s:
            prices = await records.load_price_book(s)
            result = await reports.report(
                s, identity, prices, team=team, user=user, kind=kind, since=since,
                until=until, group_by=group_by,
            )  # fmt: skip
        if fmt == "csv":
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.set_header("Content-Disposition", 'attachment; filename="usage.csv"')
            self.finish(reports.to_csv(result))
            return
        self.write_json(result)


class UsageTeamsHandler(BaseHandler):
    path = "/usage/teams"

    async def get(self) -> None:
        identity = await self.identity()
        team = self.get_query_argument("team", None) or None
        groups = await self.core.hub_groups()
        await meter_now(self, teams_of(identity.without_admin(), team if team in groups else None))
        async with self.core.db.session() as s:
            prices = await records.load_price_book(s)
            free = await self.core.experiments.free_gpus(s)
            items = await summary.summaries(
                s, identity, prices, self.core.quota_defaults, groups, team=team,
                machine_free_gpus=free,
            )  # fmt: skip
        self.write_json({"items": items})


class UsagePricesHandler(BaseHandler):
    path = "/usage/prices"

    async def get(self) -> None:
        """The prices in effect now."""
        await self.identity()
        async with self.core.db.session() as s:
            prices = await records.load_prices(s)
        self.write_json(prices.to_json())

    async def put(self) -> None:
        """New prices from now on (past usage keeps the prices of its time)."""
        identity = await self.identity()
        if not identity.admin:
            raise Forbidden("Only hub admins set prices.")
        prices = Prices.parse(self.get_json_body())
        async with self.core.db.session() as s:
            await records.save_prices(s, prices, identity.name)
        self.write_json(prices.to_json())


class PriceVersionsHandler(BaseHandler):
    path = "/usage/prices/versions"

    async def get(self) -> None:
        await self.identity()
        async with self.core.db.session() as s:
            items = await records.price_versions(s)
        self.write_json({"items": items})

    async def post(self) -> None:
        """Admins: prices in effect from ``effective_at`` (now or later) on."""
        identity = await self.identity()
        if not identity.admin:
            raise Forbidden("Only hub admins set prices.")
        body = self.get_json_body()
        reject_unknown(body, {"effective_at", "prices"}, "price version")
        if "prices" not in body:
            raise InvalidInput("A price version needs 'prices', like {\"cpu_hour\": 0.05}.")
        now = datetime.now(timezone.utc)
        when = records.parse_effective_at(body.get("effective_at"), now)
        prices = Prices.parse(body["prices"])
        async with self.core.db.session() as s:
            row = await records.save_prices(s, prices, identity.name, when, now=now)
            out = records.version_json(row, now)
        self.write_json(out, status=201)


class PriceVersionHandler(BaseHandler):
    path = "/usage/prices/versions/{version_id}"

    async def delete(self, version_id: int) -> None:
        """Admins: withdraw a price change that has not taken effect yet."""
        identity = await self.identity()
        if not identity.admin:
            raise Forbidden("Only hub admins set prices.")
        async with self.core.db.session() as s:
            await records.delete_price_version(s, version_id)
        self.set_status(204)
        self.finish()


class BudgetsHandler(BaseHandler):
    path = "/usage/budgets"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            q = select(TeamBudget).order_by(TeamBudget.team)
            if not identity.admin:
                q = q.where(TeamBudget.team.in_(sorted(identity.teams)))
            items = [budgets.budget_json(r) for r in (await s.scalars(q)).all()]
        self.write_json({"items": items})


class BudgetHandler(BaseHandler):
    path = "/usage/budgets/{team}"

    async def get(self, team: str) -> None:
        identity = await self.identity()
        groups = await self.core.hub_groups()
        if team not in groups or not (identity.admin or identity.is_member(team)):
            raise NotFound(f"No team named {team!r} that you can see.")
        await meter_now(self, [team])
        async with self.core.db.session() as s:
            row = await s.get(TeamBudget, team)
            if row is None:
                raise NotFound(f"Team {team!r} has no budget.")
            found = await budgets.status(s, team, await records.load_price_book(s))
            out = {**budgets.budget_json(row), "status": found.to_json() if found else None}
        self.write_json(out)

    async def put(self, team: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as s:
            row = await budgets.set_budget(s, identity, team, body, groups)
            out = budgets.budget_json(row)
        self.core.experiments.budgets.forget(team)
        self.core.experiments.wake()  # a bigger budget lets queued runs start
        self.write_json(out)

    async def delete(self, team: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await budgets.delete_budget(s, identity, team)
        self.core.experiments.budgets.forget(team)
        self.core.experiments.wake()
        self.set_status(204)
        self.finish()


USAGE_HANDLERS: list[type[BaseHandler]] = [
    UsageTeamsHandler,
    UsagePricesHandler,
    PriceVersionsHandler,
    PriceVersionHandler,
    BudgetsHandler,
    BudgetHandler,
    UsageReportHandler,
]
