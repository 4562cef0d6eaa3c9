"""The service's side of usage: the meter's loop (at start, which reconciles what ran
while the service was down, then every ``interval`` seconds), the budget gate the
experiment scheduler asks before starting a queued run, and the Prometheus metrics of
usage and spend per team."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from prometheus_client import Gauge
from sqlalchemy import select

from ..core.experiments.backend import RUNNING
from ..core.usage import budgets, disk, records
from ..core.usage import live as live_usage
from ..core.usage.meter import Meter
from ..core.usage.prices import Amounts
from ..store import Database
from ..store.models import Experiment, TeamBudget, UsageRecord
from .periodic import Periodic

log = logging.getLogger("submarine_hub.service.usage")

USAGE_HOURS = Gauge(
    "submarine_team_usage_hours",
    "Resource-hours a team used this calendar month (UTC), by resource "
    "(cpu, memory_gb, gpu, session).",
    ["team", "resource"],
)
SPEND = Gauge(
    "submarine_team_spend",
    "What a team's usage this calendar month (UTC) costs at the admin's prices.",
    ["team", "currency"],
)
BUDGET_USED = Gauge(
    "submarine_team_budget_used_ratio",
    "The part of its budget a team has used in the budget's current period (1 = spent).",
    ["team"],
)
DISK = Gauge(
    "submarine_team_disk_bytes",
    "Disk a team holds, by kind: history (parts its saves stored), models (its model "
    "versions' files), folder (its team folder, where team folders are system folders), "
    "artifacts (its runs' folders), homes (its share of its members' homes), volumes "
    "(its Kubernetes team claims' capacity); models is measured in the artifact store "
    "where it is an object store.",
    ["team", "kind"],
)
HOME = Gauge(
    "submarine_user_home_bytes",
    "Bytes of the files in a user's home on this machine, as last measured (split "
    "evenly between the user's teams in their usage).",
    ["user"],
)
OPEN_RECORDS = Gauge(
    "submarine_usage_open_records",
    "Usage records open now (sessions, run replicas, endpoints, builds holding resources).",
)


class UsageMeter(Periodic):
    """Meters every ``interval`` seconds (and once at start), then updates the metrics."""

    def __init__(
        self,
        db: Database,
        *,
        interval: float,
        builds: Callable[[Any], dict[str, Any]] | None = None,
        team_dir: Callable[[str], Path] | None = None,
        run_artifacts: Callable[[int], Path | None] | None = None,
        disk_interval: float = 600.0,
        home_dir: Callable[[str], Path | None] | None = None,
        hub_groups: Callable[[], Awaitable[dict[str, list[str]]]] | None = None,
        home_scan_max_entries: int = 50_000,
        live: Callable[[], Awaitable[list[live_usage.Sample] | None]] | None = None,
        volumes: Callable[[list[str]], Awaitable[dict[str, int] | None]] | None = None,
        store_bytes: Callable[[str], int] | None = None,
    ) -> None:
        super().__init__(interval)
        self.db = db
        self.meter = Meter(builds)
        self.team_dir = team_dir
        self.run_artifacts = run_artifacts
        self.disk_interval = disk_interval
        self._next_disk = 0.0
        self.hub_groups = hub_groups
        self.homes = (
            disk.HomeScanner(home_dir, interval=disk_interval, max_entries=home_scan_max_entries)
            if home_dir is not None and hub_groups is not None
            else None
        )
        self.live = live
        self.live_usage = live_usage.LiveUsage()
        self.volumes = volumes
        self.store_bytes = store_bytes

    what = "meter usage"

    async def run_once(self) -> int:
        return await self.once()

    async def once(self) -> int:
        if self.live is not None:
            try:
                await self.sample_live()
            except Exception:
                log.warning("could not read the live use of runs", exc_info=True)
        async with self.db.session() as s:
            changed = await self.meter.sync(s)
        await self.update_metrics()
        return changed

    async def update_metrics(self) -> None:
        now = datetime.now(timezone.utc)
        start, end = budgets.month_bounds(now)
        async with self.db.session() as s:
            prices = await records.load_price_book(s)
            sums: dict[str, Amounts] = {}
            for item in await records.in_window(s, teams=None, since=start, until=end, now=now):
                team = item.record.team
                sums[team] = sums.get(team, Amounts()) + item.amounts(prices)
            open_count = len(
                (
                    await s.scalars(select(UsageRecord.id).where(UsageRecord.ended_at.is_(None)))
                ).all()
            )
            ratios = {}
            for team in (await s.scalars(select(TeamBudget.team))).all():
                found = await budgets.status(s, team, prices, now)
                if found is not None and found.amount > 0:
                    ratios[team] = found.spent / found.amount
        for team, a in sums.items():
            for resource, value in (
                ("cpu", a.cpu_hours),
                ("memory_gb", a.memory_gb_hours),
                ("gpu", a.gpu_hours),
                ("session", a.session_hours),
            ):
                USAGE_HOURS.labels(team, resource).set(value)
            SPEND.labels(team, prices.currency).set(a.cost)
        for team, ratio in ratios.items():
            BUDGET_USED.labels(team).set(ratio)
        OPEN_RECORDS.set(open_count)
        if time.monotonic() >= self._next_disk:  # walking folders is slow: now and then
            self._next_disk = time.monotonic() + self.disk_interval
            await self.measure_disk(set(sums) | set(ratios))
        if self.homes is not None:
            await self.measure_homes()

    async def sample_live(self) -> int:
        """Add the backend's live samples of running runs to what their replicas used
        (``placement["usage"]``: CPU-seconds, peak memory), which their usage records
        carry when they close. Returns how many runs changed."""
        assert self.live is not None
        found = await self.live()
        if found is None:
            return 0
        by_run: dict[int, list[live_usage.Sample]] = {}
        for sample in found:
            by_run.setdefault(sample.run_id, []).append(sample)
        changed = 0
        async with self.db.session() as s:
            rows = (await s.scalars(select(Experiment).where(Experiment.status == RUNNING))).all()
            for row in rows:
                if row.id not in by_run:
                    continue
                if row.id not in self.live_usage.usage:  # after a restart: go on from there
                    self.live_usage.seed(row.id, (row.placement or {}).get("usage") or {})
                added = [self.live_usage.add(x) for x in sorted(by_run[row.id], key=lambda x: x.at)]
                if any(added):
                    usage = {k: dict(v) for k, v in self.live_usage.usage[row.id].items()}
                    row.placement = {**(row.placement or {}), "usage": usage}
                    changed += 1
            self.live_usage.forget({r.id for r in rows})
        return changed

    async def measure_homes(self) -> dict[str, int | None]:
        """Go on measuring users' homes (a bounded number of entries per tick); record
        each home measured, split between its user's teams."""
        assert self.homes is not None and self.hub_groups is not None
        try:
            groups = await self.hub_groups()
        except Exception:
            log.warning("could not read the teams to measure homes", exc_info=True)
            return {}
        teams_of: dict[str, set[str]] = {}
        for team, members in groups.items():
            for user in members:
                teams_of.setdefault(user, set()).add(team)
        done = await asyncio.to_thread(self.homes.tick, sorted(teams_of), time.monotonic())
        if not done:
            return done
        now = datetime.now(timezone.utc)
        async with self.db.session() as s:
            for user, size in done.items():
                await disk.record_home(s, user, size, teams_of.get(user, ()), now)
                if size is not None:
                    HOME.labels(user).set(size)
            for team in groups:
                DISK.labels(team, "homes").set(await disk.homes_bytes(s, team))
        return done

    async def measure_disk(self, teams: set[str]) -> None:
        volumes: dict[str, int] = {}
        if self.volumes is not None and teams:
            try:
                volumes = await self.volumes(sorted(teams)) or {}
            except Exception:
                log.warning("could not read the teams' volumes", exc_info=True)
        for team in sorted(teams):
            async with self.db.session() as s:
                held = await disk.stored_bytes(s, team)
                run_ids = (
                    await s.scalars(select(Experiment.id).where(Experiment.team == team))
                ).all()
            if self.store_bytes is not None:  # the model files as the store holds them
                try:
                    held["models"] = await asyncio.to_thread(self.store_bytes, f"models/{team}")
                except Exception:
                    log.warning("could not measure the artifact store", exc_info=True)
            total = sum(held.values())
            for kind, size in held.items():
                DISK.labels(team, kind).set(size)
            if self.team_dir is not None:
                folder = await asyncio.to_thread(disk.folder_bytes, self.team_dir(team))
                if folder is not None:
                    DISK.labels(team, "folder").set(folder)
                    total += folder
            if self.run_artifacts is not None:
                size = await asyncio.to_thread(disk.runs_bytes, self.run_artifacts, run_ids)
                DISK.labels(team, "artifacts").set(size)
                total += size
            if team in volumes:
                DISK.labels(team, "volumes").set(volumes[team])
                total += volumes[team]
            async with self.db.session() as s:  # priced per GB-month in reports
                await disk.record_stored(s, team, total, datetime.now(timezone.utc))


class BudgetGate:
    """Whether a team's queued runs wait for its budget (policy ``queue``, spent): the
    reason to show on them, or None. Read at most every ``ttl`` seconds per team."""

    def __init__(self, ttl: float = 2.0) -> None:
        self.ttl = ttl
        self._cache: dict[str, tuple[float, str | None]] = {}

    def forget(self, team: str) -> None:
        """Read ``team``'s budget again next time (an admin changed it)."""
        self._cache.pop(team, None)

    async def reason(self, session: Any, team: str) -> str | None:
        cached = self._cache.get(team)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        why = None
        if await session.get(TeamBudget, team) is not None:
            found = await budgets.status(session, team, await records.load_price_book(session))
            if budgets.holds_runs(found) and found is not None:
                why = f"queued: {found.message()}"
        self._cache[team] = (time.monotonic() + self.ttl, why)
        return why
