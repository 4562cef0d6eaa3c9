"""What a user sees of their teams: quota, what is running now, spend this month against
the budget, and GPUs free to the team."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import scopes
from ..errors import NotFound
from ..identity import Identity
from ..sessions import team_quota, usage_of
from . import budgets, disk, records
from .prices import Amounts, PriceBook, Prices


async def team_summary(
    session: AsyncSession,
    team: str,
    prices: Prices | PriceBook,
    quota_defaults: dict[str, Any],
    *,
    machine_free_gpus: int | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    quota = await team_quota(session, team, quota_defaults)
    usage = await usage_of(session, team)
    start, end = budgets.month_bounds(now)
    month = Amounts()
    for item in await records.in_window(session, teams=[team], since=start, until=end, now=now):
        month = month + item.amounts(prices)
    status = await budgets.status(session, team, prices, now)
    free = None
    if quota.max_gpus_total is not None:
        free = max(quota.max_gpus_total - usage.gpus, 0)
    if machine_free_gpus is not None:
        free = machine_free_gpus if free is None else min(free, machine_free_gpus)
    return {
        "team": team,
        "quota": quota.to_json(),
        "usage": usage.to_json(),
        "month": {"since": start.isoformat(), "currency": prices.currency, **month.to_json()},
        "budget": status.to_json() if status is not None else None,
        "free_gpus": free,
        "disk": {
            **await disk.stored_bytes(session, team),
            "homes": await disk.homes_bytes(session, team),
        },
    }


async def summaries(
    session: AsyncSession,
    identity: Identity,
    prices: Prices | PriceBook,
    quota_defaults: dict[str, Any],
    hub_groups: dict[str, list[str]],
    *,
    team: str | None = None,
    machine_free_gpus: int | None = None,
) -> list[dict[str, Any]]:
    """The caller's teams (``team``: that one; admins may name any)."""
    if team is not None:
        if team not in hub_groups:
            raise NotFound(f"No team named {team!r}.")
        scopes.check_member(identity, team)
        names = [team]
    else:
        names = sorted(t for t in identity.teams if t in hub_groups)
    return [
        await team_summary(
            session, name, prices, quota_defaults, machine_free_gpus=machine_free_gpus
        )
        for name in names
    ]
