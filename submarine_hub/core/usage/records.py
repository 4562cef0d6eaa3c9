"""Reading usage records back: the records of some teams over a time window, each
clipped to the window (an open record counts up to now), with its amounts and cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import UsagePrice, UsageRecord
from ..errors import Conflict, InvalidInput, NotFound
from .prices import EPOCH, Amounts, PriceBook, Prices, amounts

#: how far in the past an ``effective_at`` may be (clocks of the admin and the hub differ)
PAST_TOLERANCE = timedelta(seconds=60)


def aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


async def load_price_book(
    session: AsyncSession, defaults: dict[str, Any] | None = None
) -> PriceBook:
    """Every version of the admin's prices (the service's configured ones, in effect since
    ever, until an admin sets some)."""
    rows = (await session.scalars(select(UsagePrice).order_by(UsagePrice.effective_at))).all()
    if not rows:
        return PriceBook.single(Prices.parse(defaults or {}))
    versions = [(aware(r.effective_at), Prices.parse(r.value)) for r in rows]
    if versions[0][0] > EPOCH:  # not expected: the first version is in effect since ever
        versions.insert(0, (EPOCH, Prices.parse(defaults or {})))
    return PriceBook(tuple(versions))


async def load_prices(
    session: AsyncSession, defaults: dict[str, Any] | None = None, now: datetime | None = None
) -> Prices:
    """The prices in effect now."""
    return (await load_price_book(session, defaults)).current(now)


def parse_effective_at(value: Any, now: datetime) -> datetime:
    """When an admin's price change takes effect: an ISO 8601 time, not in the past (past
    usage keeps the prices of its time); missing: now."""
    if value is None or value == "":
        return now
    message = "'effective_at' must be an ISO 8601 time, like 2027-01-01T00:00Z."
    if not isinstance(value, str) or len(value) > 64:
        raise InvalidInput(message)
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        when = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidInput(message) from None
    if when < now - PAST_TOLERANCE:
        raise InvalidInput(
            f"'effective_at' {when.isoformat()} is in the past: a price change applies from "
            "its effective time on, and past usage keeps the prices of its time. Give a time "
            "from now on (or none: now)."
        )
    return max(when, now)


def version_json(row: UsagePrice, now: datetime) -> dict[str, Any]:
    return {
        "id": row.id,
        "effective_at": aware(row.effective_at).isoformat(),
        "prices": Prices.parse(row.value).to_json(),
        "created_by": row.created_by,
        "created_at": aware(row.created_at).isoformat(),
        "in_effect": aware(row.effective_at) <= now,
    }


async def price_versions(
    session: AsyncSession, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Every version of the prices, oldest first (``in_effect``: it has taken effect; the
    current one is the last of those)."""
    now = now or datetime.now(timezone.utc)
    rows = (await session.scalars(select(UsagePrice).order_by(UsagePrice.effective_at))).all()
    return [version_json(r, now) for r in rows]


async def save_prices(
    session: AsyncSession,
    prices: Prices,
    by: str,
    effective_at: datetime | None = None,
    *,
    defaults: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> UsagePrice:
    """A new version of the prices, in effect from ``effective_at`` (default: now) on. The
    first one ever also records the prices used so far (the configured defaults) as in
    effect before it, so later changes never reprice the past. A version not yet in
    effect at the same time is replaced."""
    now = now or datetime.now(timezone.utc)
    when = max(effective_at or now, now)
    if await session.scalar(select(UsagePrice.id).limit(1)) is None:
        first = Prices.parse(defaults or {})
        session.add(UsagePrice(effective_at=EPOCH, value=first.to_json(), created_by=by))
    row = await session.scalar(select(UsagePrice).where(UsagePrice.effective_at == when))
    if row is None:
        row = UsagePrice(effective_at=when, value=prices.to_json(), created_by=by)
        session.add(row)
    else:
        row.value, row.created_by, row.created_at = prices.to_json(), by, now
    await session.flush()
    return row


async def delete_price_version(
    session: AsyncSession, version_id: int, now: datetime | None = None
) -> None:
    """Withdraw a price change that has not taken effect yet (one in effect prices past
    usage and stays)."""
    now = now or datetime.now(timezone.utc)
    row = await session.get(UsagePrice, version_id)
    if row is None:
        raise NotFound(f"No price version {version_id}.")
    if aware(row.effective_at) <= now:
        raise Conflict(
            f"Price version {version_id} has been in effect since "
            f"{aware(row.effective_at).isoformat()}: past usage keeps its prices. Set new "
            "prices from now on instead."
        )
    await session.delete(row)
    await session.flush()


@dataclass(frozen=True)
class Clipped:
    """A record inside a window: from ``start`` to ``end``."""

    record: UsageRecord
    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return max((self.end - self.start).total_seconds(), 0.0)

    def amounts(self, prices: Prices | PriceBook, start: datetime | None = None,
                end: datetime | None = None) -> Amounts:  # fmt: skip
        """Amounts and cost of the part between ``start`` and ``end`` (default: all), each
        second at the prices in effect then (one ``Prices``: those throughout)."""
        a, b = max(self.start, start or self.start), min(self.end, end or self.end)
        if isinstance(prices, PriceBook):
            total = Amounts()
            for x, y, p in prices.spans(a, b) if b > a else [(a, b, prices.at(a))]:
                total = total + self.amounts(p, x, y)
            return total
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
