"""Team budgets: an amount per period (a calendar month, or a custom one) in money at the
admin's prices or in resource-hours, a warning threshold, and the admin's policy once it
is spent: ``refuse`` new sessions and runs, ``queue`` new runs (sessions, which cannot
wait, are refused) until the next period or a bigger budget, or ``allow`` them with a
warning. Running work is never stopped by a budget.

Admission checks a budget in the transaction that holds the team's lock (see
:func:`..sessions.lock_team`), after metering the team up to now.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import TeamBudget
from ..errors import InvalidInput
from ..quotas import QuotaExceeded
from ..validation import reject_unknown
from . import records
from .prices import Amounts, PriceBook, Prices, format_amount

UNITS = ("money", "cpu_hours", "memory_gb_hours", "gpu_hours", "session_hours")
UNIT_LABELS = {
    "cpu_hours": "CPU-hours",
    "memory_gb_hours": "GB-hours of memory",
    "gpu_hours": "GPU-hours",
    "session_hours": "session-hours",
}
POLICIES = ("refuse", "queue", "allow")
PERIODS = ("month", "custom")
OK, WARNING, SPENT = "ok", "warning", "spent"


class BudgetExceeded(QuotaExceeded):
    """A team's budget is spent and its policy refuses new work (403)."""


def _time(value: Any, name: str) -> datetime:
    if not isinstance(value, str):
        raise InvalidInput(f"'{name}' must be an ISO 8601 time, like 2026-12-01T00:00Z.")
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"'{name}' must be an ISO 8601 time, like 2026-12-01T00:00Z.") from None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def parse_budget(data: Any) -> dict[str, Any]:
    """An admin's budget, as the columns of :class:`TeamBudget` (400 naming the problem)."""
    reject_unknown(
        data, {"name", "amount", "unit", "period", "starts_at", "ends_at", "warn_at", "policy"},
        "budget",
    )  # fmt: skip
    amount = data.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | float):
        raise InvalidInput("'amount' must be a number, like 100 (money) or 50 (CPU-hours).")
    if not math.isfinite(amount) or not 0 <= amount <= 1e12:
        raise InvalidInput("'amount' must be from 0 to 1e12.")
    unit = data.get("unit", "money")
    if unit not in UNITS:
        raise InvalidInput(f"'unit' must be one of {', '.join(UNITS)}.")
    policy = data.get("policy", "refuse")
    if policy not in POLICIES:
        raise InvalidInput(f"'policy' must be one of {', '.join(POLICIES)}.")
    period = data.get("period", "month")
    if period not in PERIODS:
        raise InvalidInput("'period' must be 'month' or 'custom' (with starts_at, ends_at).")
    warn_at = data.get("warn_at", 0.8)
    if isinstance(warn_at, bool) or not isinstance(warn_at, int | float):
        raise InvalidInput("'warn_at' must be a fraction of the budget, like 0.8.")
    if not math.isfinite(warn_at) or not 0 <= warn_at <= 1:
        raise InvalidInput("'warn_at' must be a fraction from 0 to 1, like 0.8.")
    name = data.get("name", "")
    if not isinstance(name, str) or len(name) > 255 or not name.isprintable():
        raise InvalidInput("'name' must be a short printable name.")
    starts = ends = None
    if period == "custom":
        starts = _time(data.get("starts_at"), "starts_at")
        ends = _time(data.get("ends_at"), "ends_at")
        if ends <= starts:
            raise InvalidInput("'ends_at' must be after 'starts_at'.")
    elif data.get("starts_at") is not None or data.get("ends_at") is not None:
        raise InvalidInput("'starts_at' and 'ends_at' are for period 'custom' only.")
    return dict(
        name=name, amount=float(amount), unit=unit, period=period, starts_at=starts,
        ends_at=ends, warn_at=float(warn_at), policy=policy,
    )  # fmt: skip


def month_bounds(now: datetime) -> tuple[datetime, datetime]:
    start = now.astimezone(timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start, end


def bounds(row: TeamBudget, now: datetime) -> tuple[datetime, datetime]:
    if row.period == "custom" and row.starts_at and row.ends_at:
        return records.aware(row.starts_at), records.aware(row.ends_at)
    return month_bounds(now)


@dataclass(frozen=True)
class BudgetStatus:
    team: str
    name: str
    amount: float
    unit: str
    period: str
    starts_at: datetime
    ends_at: datetime
    warn_at: float
    policy: str
    spent: float
    currency: str
    active: bool  # now is inside the period

    @property
    def fraction(self) -> float:
        if self.amount <= 0:
            return math.inf if self.spent > 0 else 1.0
        return self.spent / self.amount

    @property
    def state(self) -> str:
        if not self.active:
            return OK
        if self.spent >= self.amount:
            return SPENT
        return WARNING if self.fraction >= self.warn_at else OK

    @property
    def label(self) -> str:
        if self.name:
            return f"budget {self.name!r}"
        return "monthly budget" if self.period == "month" else "budget"

    def format(self, value: float) -> str:
        if self.unit == "money":
            return f"{format_amount(value)} {self.currency}"
        return f"{format_amount(value)} {UNIT_LABELS[self.unit]}"

    def message(self) -> str:
        percent = "∞" if math.isinf(self.fraction) else f"{self.fraction * 100:.0f}"
        head = (
            f"Team {self.team!r} has used {self.format(self.spent)} of its {self.label} of "
            f"{self.format(self.amount)} ({percent}%, period "
            f"{self.starts_at:%Y-%m-%d} to {self.ends_at:%Y-%m-%d})"
        )
        if self.state == WARNING:
            return head + "."
        if self.policy == "allow":
            return head + ": the budget is spent; new work still starts (policy 'allow')."
        if self.policy == "queue":
            return head + (
                ": the budget is spent; new runs wait in the queue (policy 'queue') until the "
                "next period or a hub admin raises the budget."
            )
        return head + (
            ": the budget is spent; new sessions and runs are refused (policy 'refuse') until "
            "the next period or a hub admin raises the budget."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "team": self.team,
            "name": self.name,
            "amount": self.amount,
            "unit": self.unit,
            "currency": self.currency if self.unit == "money" else None,
            "period": self.period,
            "starts_at": self.starts_at.isoformat(),
            "ends_at": self.ends_at.isoformat(),
            "warn_at": self.warn_at,
            "policy": self.policy,
            "spent": round(self.spent, 6),
            "fraction": None if math.isinf(self.fraction) else round(self.fraction, 6),
            "state": self.state,
            "message": self.message() if self.state != OK else "",
        }


def budget_json(row: TeamBudget) -> dict[str, Any]:
    return {
        "team": row.team,
        "name": row.name,
        "amount": row.amount,
        "unit": row.unit,
        "period": row.period,
        "starts_at": records.aware(row.starts_at).isoformat() if row.starts_at else None,
        "ends_at": records.aware(row.ends_at).isoformat() if row.ends_at else None,
        "warn_at": row.warn_at,
        "policy": row.policy,
        "updated_by": row.updated_by,
    }


async def status(
    session: AsyncSession, team: str, prices: Prices | PriceBook, now: datetime | None = None
) -> BudgetStatus | None:
    """``team``'s budget and what it has spent in the current period (None: no budget)."""
    row = await session.get(TeamBudget, team)
    if row is None:
        return None
    now = now or datetime.now(timezone.utc)
    start, end = bounds(row, now)
    total = Amounts()
    for item in await records.in_window(session, teams=[team], since=start, until=end, now=now):
        total = total + item.amounts(prices)
    return BudgetStatus(
        team=team,
        name=row.name,
        amount=row.amount,
        unit=row.unit,
        period=row.period,
        starts_at=start,
        ends_at=end,
        warn_at=row.warn_at,
        policy=row.policy,
        spent=total.in_unit(row.unit),
        currency=prices.currency,
        active=start <= now < end,
    )


def admit(found: BudgetStatus | None, what: str) -> BudgetStatus | None:
    """What a spent budget does to new work of kind ``what`` (``session`` or ``run``):
    raise :class:`BudgetExceeded` (refused), or return the status (the caller warns,
    or queues a run under policy ``queue``)."""
    if found is None or found.state != SPENT:
        return found
    if found.policy == "refuse" or (found.policy == "queue" and what == "session"):
        raise BudgetExceeded(found.message())
    return found


def holds_runs(found: BudgetStatus | None) -> bool:
    """Whether queued runs of the team wait (policy ``queue``, budget spent)."""
    return found is not None and found.state == SPENT and found.policy == "queue"


async def set_budget(
    session: AsyncSession, identity: Any, team: str, data: Any, hub_groups: dict[str, list[str]]
) -> TeamBudget:
    """An admin sets (replaces) ``team``'s budget."""
    from ..errors import Forbidden, NotFound

    if not identity.admin:
        raise Forbidden("Only hub admins set team budgets.")
    if team not in hub_groups:
        raise NotFound(f"No team named {team!r}.")
    fields = parse_budget(data)
    row = await session.get(TeamBudget, team)
    if row is None:
        row = TeamBudget(team=team, updated_by=identity.name, **fields)
        session.add(row)
    else:
        for key, value in fields.items():
            setattr(row, key, value)
        row.updated_by = identity.name
    await session.flush()
    return row


async def delete_budget(session: AsyncSession, identity: Any, team: str) -> None:
    from ..errors import Forbidden, NotFound

    if not identity.admin:
        raise Forbidden("Only hub admins remove team budgets.")
    row = await session.get(TeamBudget, team)
    if row is None:
        raise NotFound(f"Team {team!r} has no budget.")
    await session.delete(row)
    await session.flush()


async def check_admission(
    session: AsyncSession,
    team: str,
    what: str,
    price_defaults: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> BudgetStatus | None:
    """In an admission's transaction, with ``team`` locked: meter the team up to now, then
    :func:`admit` new work of kind ``what`` against its budget (nothing without one)."""
    from .meter import Meter

    if await session.get(TeamBudget, team) is None:
        return None
    await Meter().sync(session, team=team, now=now)
    prices = await records.load_price_book(session, price_defaults)
    return admit(await status(session, team, prices, now), what)


async def warnings(
    session: AsyncSession, teams: list[str], now: datetime | None = None
) -> dict[str, str]:
    """The budget messages a member of ``teams`` is shown before work starts: each team
    whose budget is past its warning threshold or spent (metered up to now first)."""
    from .meter import Meter

    out: dict[str, str] = {}
    book = None
    for team in sorted(set(teams)):
        if await session.get(TeamBudget, team) is None:
            continue
        await Meter().sync(session, team=team, now=now)
        book = book or await records.load_price_book(session)
        found = await status(session, team, book, now)
        if found is not None and found.state != OK:
            out[team] = found.message()
    return out
