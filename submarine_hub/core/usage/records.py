"""Reading usage records back: the records of some teams over a time window, each
clipped to the window (an open record counts up to now), with its amounts and cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import UsageRecord, UsageSetting
from .prices import Amounts, Prices, amounts

PRICES = "prices"


def aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


async def load_prices(session: AsyncSession, defaults: dict[str, Any] | None = None) -> Prices:
    """The admin's prices (the service's configured ones until an admin sets them)."""
    row = await session.get(UsageSetting, PRICES)
    return Prices.parse(row.value if row is not None else (defaults or {}))


async def save_prices(session: AsyncSession, prices: Prices, by: str) -> Prices:
    row = await session.get(UsageSetting, PRICES)
    if row is None:
        row = UsageSetting(name=PRICES, value=prices.to_json(), updated_by=by)
        session.add(row)
    else:
        row.value, row.updated_by = prices.to_json(), by
    await session.flush()
    return prices


@dataclass(frozen=True)
class Clipped:
    """A record inside a window: from ``start`` to ``end``."""

    record: UsageRecord
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0)

    def amounts(self, prices: Prices, start: datetime | None = None,
                end: datetime | None = None) -> Amounts:  # fmt: skip
        """Amounts and cost of the part between ``start`` and ``end`` (default: all)."""
        a, b = max(self.start, start or self.start), min(self.end, end or self.end)
        r = self.record
        return amounts(
            (b - a).total_seconds(),
            kind=r.kind,
            cpu=r.cpu,
            memory=r.memory,
            gpus=r.gpus,
            prices=prices,
            image=r.image,
            gpu_type=r.gpu_type,
        )


async def in_window(
    session: AsyncSession,
    *,
    teams: list[str] | None,
    since: datetime,
    until: datetime,
    now: datetime | None = None,
    user: str | None = None,
    kind: str | None = None,
) -> list[Clipped]:
    """Records of ``teams`` (None: all) overlapping ``[since, until)``, clipped to it."""
    now = now or datetime.now(timezone.utc)
    q = select(UsageRecord).where(
        UsageRecord.started_at < until,
        or_(UsageRecord.ended_at.is_(None), UsageRecord.ended_at > since),
    )
    if teams is not None:
        q = q.where(UsageRecord.team.in_(teams))
    if user is not None:
        q = q.where(UsageRecord.user == user)
    if kind is not None:
        q = q.where(UsageRecord.kind == kind)
    out = []
    for rec in (await session.scalars(q.order_by(UsageRecord.started_at, UsageRecord.id))).all():
        start = max(aware(rec.started_at), since)
        end = min(aware(rec.ended_at) if rec.ended_at else now, until, max(now, since))
        if end > start or (end == start and rec.ended_at is None):
            out.append(Clipped(rec, start, max(end, start)))
    return out
