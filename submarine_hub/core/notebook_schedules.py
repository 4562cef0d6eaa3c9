"""Schedules of notebook jobs: a cron expression in a time zone, paused or not.

- ``cron`` has 5 fields (minute hour day month weekday), or 6 with **seconds first**
  (``*/10 * * * * *``: every 10 s), as Kubeflow's recurring runs and Quartz write it.
- Each firing is recorded (``NotebookScheduleRun``, unique per schedule and time): the
  run it started, or why none was started. The firing, its run and the schedule's next
  time commit together, so a restart or a second service replica never fires twice.
- Every time at most the grace period late runs, also several after a short outage.
  Firings missed while the service was down (more than the grace period late) follow
  ``catchup``: ``skip`` records them as skipped and waits for the next time;
  ``run_once`` starts one run for the latest of them when none is on time.
- The notebook runs at its newest version at each firing, unless the job pins one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Experiment, NotebookSchedule, NotebookScheduleRun
from . import notebook_jobs, scopes
from .errors import Forbidden, InvalidInput, NotFound, SubmarineError
from .experiments.spec import NAME_PATTERN
from .identity import Identity
from .validation import reject_unknown

CATCHUP = ("skip", "run_once")
MAX_SCAN = 10_000  # missed times counted at most
FIELDS = {"name", "cron", "timezone", "catchup", "paused", "job"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def aware(when: datetime) -> datetime:
    """Times read back from SQLite have no zone: they are UTC."""
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# --- cron -----------------------------------------------------------------------------------


def check_cron(expr: Any) -> str:
    if not isinstance(expr, str) or not expr.strip():
        raise InvalidInput("'cron' must be a cron expression, like '0 6 * * *'.")
    expr = " ".join(expr.split())
    fields = len(expr.split(" "))
    if fields not in (5, 6) or not croniter.is_valid(expr, second_at_beginning=fields == 6):
        raise InvalidInput(
            f"'cron' {expr!r} is not a valid cron expression: give 5 fields (minute hour "
            "day-of-month month day-of-week, e.g. '*/15 * * * *'), or 6 with seconds first "
            "(e.g. '*/30 * * * * *')."
        )
    try:  # valid fields may name no date at all: the 30th of February
        croniter(expr, utcnow(), second_at_beginning=fields == 6).get_next(datetime)
    except (CroniterError, ValueError, OverflowError):
        raise InvalidInput(f"'cron' {expr!r} never fires: no date matches it.") from None
    return expr


def check_timezone(name: Any) -> str:
    if name in (None, ""):
        return "UTC"
    if not isinstance(name, str) or len(name) > 64:
        raise InvalidInput("'timezone' must be an IANA time zone, like 'Europe/Paris'.")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(
            f"'timezone' {name!r} is not a known time zone; use an IANA name like "
            "'UTC' or 'America/New_York'."
        ) from None
    return name


def times_after(cron: str, tz: str, after: datetime) -> Iterator[datetime]:
    """The schedule's times strictly after ``after``, in UTC."""
    local = aware(after).astimezone(ZoneInfo(tz))
    it = croniter(cron, local, second_at_beginning=len(cron.split(" ")) == 6)
    while True:
        yield it.get_next(datetime).astimezone(timezone.utc)


def next_time(cron: str, tz: str, after: datetime) -> datetime:
    return next(times_after(cron, tz, after))


@dataclass
class Firing:
    """What to do for a due schedule at ``now``."""

    fire: list[datetime]  # the times a run is started for, oldest first (may be none)
    missed: int  # times more than the grace period late (the service was not running)
    missed_first: datetime | None
    missed_last: datetime | None
    next_run_at: datetime

    @property
    def fire_at(self) -> datetime | None:
        """The latest time a run is started for (None: none)."""
        return self.fire[-1] if self.fire else None


def plan(cron: str, tz: str, catchup: str, due: datetime, now: datetime, grace: float) -> Firing:
    """Every time not later than ``now`` and at most ``grace`` seconds late runs (a short
    outage delays them, it does not skip them); older ones were missed, and ``catchup``
    decides (``run_once``: one run for the latest missed time when none is on time)."""
    due, now = aware(due), aware(now)
    times = [due]
    for t in times_after(cron, tz, due):
        if t > now or len(times) >= MAX_SCAN:
            break
        times.append(t)
    on_time = [t for t in times if (now - t).total_seconds() <= grace]
    missed = [t for t in times if (now - t).total_seconds() > grace]
    fire = on_time or (missed[-1:] if catchup == "run_once" else [])
    return Firing(
        fire=fire,
        missed=len(missed),
        missed_first=missed[0] if missed else None,
        missed_last=missed[-1] if missed else None,
        next_run_at=next_time(cron, tz, max(now, times[-1])),
    )


# --- schedules ------------------------------------------------------------------------------


def can_read(identity: Identity, row: NotebookSchedule) -> bool:
    return identity.admin or identity.is_member(row.team)


async def get(session: AsyncSession, identity: Identity, schedule_id: int) -> NotebookSchedule:
    row = await session.get(NotebookSchedule, schedule_id)
    if row is None or not can_read(identity, row):
        raise NotFound(f"No notebook schedule {schedule_id} that you can see.")
    return row


def _check_not_run(identity: Identity) -> None:
    if identity.confined:
        raise Forbidden(
            "A run's token cannot make or change schedules: a schedule outlives the run and "
            "would go on acting for its owner; make it yourself."
        )


def _check_change(identity: Identity, row: NotebookSchedule) -> None:
    _check_not_run(identity)
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(f"Only {row.owner} (who made schedule {row.id}) or a hub admin changes it.")


async def _checked_job(
    session: AsyncSession, identity: Identity, job: Any, quota_defaults: dict[str, Any]
) -> tuple[dict[str, Any], notebook_jobs.Prepared]:
    """The job as the schedule keeps it: checked now (its resources against the team's
    quota too), its team fixed, an inline notebook saved (then named by path and version)."""
    p = await notebook_jobs.prepare(session, identity, job)
    await notebook_jobs.check_limits(session, p, quota_defaults)
    kept = {k: v for k, v in p.data.items() if k != "content"}
    kept["team"] = p.team
    if "content" in p.data:
        kept.update(notebook=p.info.path, space=p.info.space, version=p.info.number)
    else:
        where, path = notebook_jobs.locate(identity, p.data["notebook"], p.data.get("space"))
        kept.update(notebook=path, space=where)
    return kept, p


async def create(
    session: AsyncSession, identity: Identity, data: Any, quota_defaults: dict[str, Any]
) -> NotebookSchedule:
    _check_not_run(identity)
    reject_unknown(data, FIELDS, "schedule")
    if "job" not in data:
        raise InvalidInput("'job' is required: the notebook job to run, {notebook, parameters}.")
    cron = check_cron(data.get("cron"))
    tz = check_timezone(data.get("timezone"))
    catchup = _check_catchup(data.get("catchup", "skip"))
    paused = _check_bool(data.get("paused", False), "paused")
    job, p = await _checked_job(session, identity, data["job"], quota_defaults)
    name = _check_name(data.get("name") or notebook_jobs.job_name(p.data, p.info.path))
    now = utcnow()
    row = NotebookSchedule(
        name=name,
        team=p.team,
        owner=identity.name,
        notebook=f"{p.info.space}/{p.info.path}",
        job=job,
        cron=cron,
        timezone=tz,
        catchup=catchup,
        paused=paused,
        next_run_at=next_time(cron, tz, now),
    )
    session.add(row)
    await session.flush()
    return row


def _check_catchup(value: Any) -> str:
    if value not in CATCHUP:
        raise InvalidInput(f"'catchup' must be one of {', '.join(CATCHUP)}, not {value!r}.")
    return str(value)


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInput(f"'{name}' must be true or false.")
    return value


def _check_name(value: Any) -> str:
    if not isinstance(value, str) or not re.fullmatch(NAME_PATTERN, value):
        raise InvalidInput(f"'name' {value!r} is not a valid name (letters, digits, '_.-').")
    return value


async def update(
    session: AsyncSession,
    identity: Identity,
    schedule_id: int,
    data: Any,
    quota_defaults: dict[str, Any],
) -> NotebookSchedule:
    """Change a schedule: ``name``, ``cron``, ``timezone``, ``catchup``, ``paused``, ``job``
    (or only ``job.parameters`` with ``{"parameters": {...}}``)."""
    row = await get(session, identity, schedule_id)
    _check_change(identity, row)
    if not isinstance(data, dict) or not data:
        raise InvalidInput("Give the fields to change, e.g. {'paused': true}.")
    reject_unknown(data, FIELDS | {"parameters"}, "schedule")
    retime = False
    if "name" in data:
        row.name = _check_name(data["name"])
    if "cron" in data:
        row.cron, retime = check_cron(data["cron"]), True
    if "timezone" in data:
        row.timezone, retime = check_timezone(data["timezone"]), True
    if "catchup" in data:
        row.catchup = _check_catchup(data["catchup"])
    if "job" in data or "parameters" in data:
        if "job" in data and not isinstance(data["job"], dict):
            raise InvalidInput("'job' must be an object: the notebook job to run.")
        job = dict(data["job"]) if "job" in data else dict(row.job)
        if "parameters" in data:
            job["parameters"] = data["parameters"]
        job.setdefault("team", row.team)
        if job["team"] != row.team:
            raise InvalidInput("A schedule stays in its team; make a new one for another team.")
        row.job, p = await _checked_job(session, identity, job, quota_defaults)
        row.notebook = f"{p.info.space}/{p.info.path}"
    if "paused" in data:
        paused = _check_bool(data["paused"], "paused")
        if row.paused and not paused:
            retime = True  # resumed: from now on, nothing "missed" while paused runs
        row.paused = paused
    if retime:  # from now on, and never again for a time that already fired
        since = max(utcnow(), aware(row.last_run_at)) if row.last_run_at else utcnow()
        row.next_run_at = next_time(row.cron, row.timezone, since)
    row.updated_at = utcnow()
    await session.flush()
    return row


async def delete(session: AsyncSession, identity: Identity, schedule_id: int) -> None:
    row = await get(session, identity, schedule_id)
    _check_change(identity, row)
    await session.delete(row)
    await session.flush()


async def list_visible(
    session: AsyncSession, identity: Identity, team: str | None = None
) -> list[NotebookSchedule]:
    q = select(NotebookSchedule)
    q = scopes.of_teams(q, NotebookSchedule.team, identity, team)
    return list((await session.scalars(q.order_by(NotebookSchedule.id))).all())


async def history(
    session: AsyncSession, identity: Identity, schedule_id: int, limit: int = 50
) -> list[dict[str, Any]]:
    """Firings, newest first, with their runs' state."""
    await get(session, identity, schedule_id)
    if not 1 <= limit <= 500:
        raise InvalidInput("'limit' must be between 1 and 500.")
    rows = (
        await session.execute(
            select(NotebookScheduleRun, Experiment)
            .outerjoin(Experiment, Experiment.id == NotebookScheduleRun.experiment_id)
            .where(NotebookScheduleRun.schedule_id == schedule_id)
            .order_by(NotebookScheduleRun.scheduled_for.desc())
            .limit(limit)
        )
    ).all()
    return [
        {
            "scheduled_for": aware(f.scheduled_for).isoformat(),
            "created_at": aware(f.created_at).isoformat(),
            "error": f.error,
            "run": None
            if run is None
            else {
                "id": run.id,
                "name": run.name,
                "status": run.status,
                "reason": run.reason,
                "started_at": aware(run.started_at).isoformat() if run.started_at else None,
                "finished_at": aware(run.finished_at).isoformat() if run.finished_at else None,
            },
        }
        for f, run in rows
    ]


def to_json(row: NotebookSchedule) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "team": row.team,
        "owner": row.owner,
        "notebook": row.notebook,
        "cron": row.cron,
        "timezone": row.timezone,
        "catchup": row.catchup,
        "paused": row.paused,
        "next_run_at": aware(row.next_run_at).isoformat() if row.next_run_at else None,
        "last_run_at": aware(row.last_run_at).isoformat() if row.last_run_at else None,
        "job": row.job,
        "created_at": aware(row.created_at).isoformat(),
        "updated_at": aware(row.updated_at).isoformat(),
    }


# --- firing (the service's schedule loop) -----------------------------------------------------


async def due(session: AsyncSession, now: datetime) -> list[int]:
    q = select(NotebookSchedule.id).where(
        NotebookSchedule.paused.is_(False), NotebookSchedule.next_run_at <= now
    )
    return list((await session.scalars(q.order_by(NotebookSchedule.next_run_at))).all())


async def earliest(session: AsyncSession) -> datetime | None:
    when = await session.scalar(
        select(func.min(NotebookSchedule.next_run_at)).where(NotebookSchedule.paused.is_(False))
    )
    return aware(when) if when else None


async def fire(
    session: AsyncSession,
    schedule_id: int,
    owner: Identity | SubmarineError,
    now: datetime,
    *,
    grace: float,
    uploads: Any,
    quota_defaults: dict[str, Any],
) -> list[NotebookScheduleRun]:
    """Do what a due schedule asks at ``now``: start a run and/or record missed times, then
    move it to its next time. ``owner`` is its owner as the hub knows them now (or why
    they cannot be found). Returns the firings recorded (none if it was not due)."""
    row = await session.get(NotebookSchedule, schedule_id, with_for_update=True)
    if row is None or row.paused or row.next_run_at is None or aware(row.next_run_at) > now:
        return []
    f = plan(row.cron, row.timezone, row.catchup, row.next_run_at, now, grace)
    records = []
    if f.missed and f.missed_last is not None and (row.catchup == "skip" or not f.fire):
        span = (
            f"at {f.missed_last.isoformat()}"
            if f.missed == 1 or f.missed_first is None
            else f"from {f.missed_first.isoformat()} to {f.missed_last.isoformat()}"
        )
        records.append(
            NotebookScheduleRun(
                schedule_id=row.id,
                scheduled_for=f.missed_last,
                error=f"skipped {f.missed} missed run(s) {span}: the service was not running "
                f"(catchup: {row.catchup})",
            )
        )
    for when in f.fire:
        records.append(await _start(session, row, owner, when, uploads, quota_defaults))
    for r in records:
        session.add(r)
    row.last_run_at = now
    row.next_run_at = f.next_run_at
    await session.flush()
    return records


async def _start(
    session: AsyncSession,
    row: NotebookSchedule,
    owner: Identity | SubmarineError,
    when: datetime,
    uploads: Any,
    quota_defaults: dict[str, Any],
) -> NotebookScheduleRun:
    """The firing of ``row`` for ``when``: the run it started, or why none was."""
    record = NotebookScheduleRun(schedule_id=row.id, scheduled_for=when, error="")
    if isinstance(owner, SubmarineError):
        record.error = f"not started: {owner.message}"
        return record
    job = dict(row.job)
    tags = [t for t in job.get("tags") or [] if t != f"schedule-{row.id}"]
    job["tags"] = [*tags, f"schedule-{row.id}"][-32:]
    try:
        async with session.begin_nested():
            run, _ = await notebook_jobs.submit(
                session, owner, job, uploads=uploads, quota_defaults=quota_defaults
            )
        record.experiment_id = run.id
    except SubmarineError as e:
        record.error = f"not started: {e.message}"
    return record
