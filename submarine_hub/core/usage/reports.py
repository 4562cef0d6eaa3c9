"""Usage reports: resource-hours and cost per team, user, kind and day or month (or per
record), over a time window, as JSON rows or CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from .. import scopes
from ..errors import InvalidInput
from ..identity import Identity
from . import records
from .meter import KINDS
from .prices import Amounts, PriceBook, Prices

GROUPS = ("team", "user", "kind", "day", "month", "item")
MAX_DAYS = 3700


def parse_group_by(value: str | None) -> list[str]:
    if not value:
        return ["team", "kind"]
    wanted = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in wanted if v not in GROUPS]
    if bad or len(set(wanted)) != len(wanted):
        raise InvalidInput(f"'group_by' must be a comma-separated list of {', '.join(GROUPS)}.")
    if "day" in wanted and "month" in wanted:
        raise InvalidInput("'group_by' takes 'day' or 'month', not both.")
    return wanted


def parse_time(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except (ValueError, OverflowError):
        raise InvalidInput(f"'{name}' must be an ISO 8601 time, like 2026-12-01T00:00Z.") from None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def _buckets(start: datetime, end: datetime, by: str) -> Iterator[tuple[str, datetime, datetime]]:
    """(label, from, to) of each UTC day or month ``[start, end)`` touches."""
    cursor = start
    while True:
        if by == "day":
            first = cursor.replace(hour=0, minute=0, second=0, microsecond=0)
            nxt = first + timedelta(days=1)
            label = first.strftime("%Y-%m-%d")
        else:
            first = cursor.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            nxt = (first + timedelta(days=32)).replace(day=1)
            label = first.strftime("%Y-%m")
        yield label, cursor, min(nxt, end)
        if nxt >= end:
            return
        cursor = nxt


async def report(
    session: AsyncSession,
    identity: Identity,
    prices: Prices | PriceBook,
    *,
    team: str | None = None,
    user: str | None = None,
    kind: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    group_by: list[str] | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Usage of the caller's teams (an admin's: all; ``team``: that one, members only)."""
    now = now or datetime.now(timezone.utc)
    group_by = group_by if group_by is not None else ["team", "kind"]
    if kind is not None and kind not in KINDS:
        raise InvalidInput(f"'kind' must be one of {', '.join(KINDS)}.")
    until = until or now
    since = since or until.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if until <= since:
        raise InvalidInput("'until' must be after 'since'.")
    if (until - since).days > MAX_DAYS:
        raise InvalidInput(f"A report covers at most {MAX_DAYS} days.")
    if team is not None:
        scopes.check_member(identity, team)
        teams: list[str] | None = [team]
    else:
        teams = None if identity.admin else sorted(identity.teams)
    items = await records.in_window(
        session, teams=teams, since=since, until=until, now=now, user=user, kind=kind
    )
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    sums: dict[tuple[Any, ...], Amounts] = {}
    total = Amounts()
    period = next((g for g in group_by if g in ("day", "month")), None)
    for item in items:
        rec = item.record
        parts = (
            _buckets(item.start, item.end, period)
            if period and item.end > item.start
            else [("", item.start, item.end)]
        )
        for label, a, b in parts:
            amount = item.amounts(prices, a, b)
            total = total + amount
            base: dict[str, Any] = {}
            for g in group_by:
                if g == "item":
                    base.update(
                        key=rec.key,
                        object_id=rec.object_id,
                        replica=rec.replica,
                        started_at=records.aware(rec.started_at).isoformat(),
                        ended_at=records.aware(rec.ended_at).isoformat() if rec.ended_at else None,
                        cpu=rec.cpu,
                        memory=rec.memory,
                        gpus=rec.gpus,
                        image=rec.image,
                        cpu_time=rec.cpu_time,
                        peak_memory=rec.peak_memory,
                    )
                elif g in ("day", "month"):
                    base[g] = label
                else:
                    base[g] = getattr(rec, g)
            group = tuple(rec.key if g == "item" else base[g] for g in group_by)
            rows.setdefault(group, base)
            sums[group] = sums.get(group, Amounts()) + amount
    out = [{**rows[g], **sums[g].to_json()} for g in rows]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "currency": prices.currency,
        "group_by": group_by,
        "items": out,
        "total": total.to_json(),
    }


AMOUNT_COLUMNS = ["seconds", "cpu_hours", "memory_gb_hours", "gpu_hours", "session_hours", "cost"]
ITEM_COLUMNS = ["key", "object_id", "replica", "started_at", "ended_at", "cpu", "memory",
                "gpus", "image", "cpu_time", "peak_memory"]  # fmt: skip


def to_csv(result: dict[str, Any]) -> str:
    columns: list[str] = []
    for g in result["group_by"]:
        columns += ITEM_COLUMNS if g == "item" else [g]
    columns += [*AMOUNT_COLUMNS, "currency"]
    if any(row.get("disk_gb_hours") for row in result["items"]):  # added later: at the end
        columns.append("disk_gb_hours")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in result["items"]:
        writer.writerow({**row, "currency": result["currency"]})
    return buf.getvalue()
