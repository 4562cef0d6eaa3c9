"""Metering: what each session, run replica, notebook job, endpoint and environment build
held (CPU cores, memory, GPUs) from when to when, as :class:`UsageRecord` rows.

The rows are derived from the objects' own records (a session's admission and release, a
run's start and end as its backend reported them, an endpoint's status), never from the
service's clock alone: metering again is idempotent (each object and interval has one row,
keyed), and a run that outlived a service restart is metered to its real end once the
scheduler has read that end from the backend. A record is *open* (``ended_at`` None) while
its object holds its resources; reports count an open record up to now.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import exists, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import (
    GLOBAL_SCOPE,
    Endpoint,
    EnvironmentProfile,
    Experiment,
    Session,
    UsageRecord,
)
from .. import endpoints
from ..errors import InvalidInput
from ..resources import Resources
from .prices import DISK_KIND

SESSION = "session"
RUN = "run"
NOTEBOOK_JOB = "notebook_job"
ENDPOINT = "endpoint"
BUILD = "build"
DISK = DISK_KIND  # a team's stored bytes (core.usage.disk), not derived by the Meter
KINDS = (SESSION, RUN, NOTEBOOK_JOB, ENDPOINT, BUILD, DISK)

_RUN_ACTIVE = ("pending", "running")
_ENDPOINT_DOWN = ("stopped", "failed")


@dataclass(frozen=True)
class Interval:
    """One object's holding, as the meter derives it."""

    key: str
    kind: str
    object_id: int
    team: str
    user: str
    started_at: datetime
    ended_at: datetime | None
    replica: str = ""
    cpu: float = 0.0
    memory: int = 0
    gpus: int = 0
    image: str = ""
    gpu_type: str = ""
    cpu_time: float | None = None
    peak_memory: int | None = None


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _resources(data: Any) -> Resources:
    try:
        return Resources.parse(data)
    except InvalidInput:  # stored before a rule tightened: meter what is readable
        return Resources()


def session_intervals(row: Session, image: str = "") -> list[Interval]:
    ended = None
    if row.state != "active":
        ended = max(_aware(row.stopped_at or row.created_at), _aware(row.created_at))
    return [
        Interval(
            key=f"{SESSION}:{row.id}",
            kind=SESSION,
            object_id=row.id,
            team=row.team,
            user=row.user,
            started_at=_aware(row.created_at),
            ended_at=ended,
            cpu=row.cpu or 0.0,
            memory=row.memory or 0,
            gpus=row.gpus or 0,
            image=image,
        )
    ]


def run_intervals(row: Experiment) -> list[Interval]:
    """One interval per replica of a run that started (a queued or refused run held
    nothing); ended when the run ended, as its backend reported it."""
    if row.started_at is None or row.kind == "interactive":
        return []
    ended = row.finished_at if row.status not in _RUN_ACTIVE else None
    kind = NOTEBOOK_JOB if row.kind == "notebook" else RUN
    spec = row.spec or {}
    env = spec.get("environment") or {}
    image = env.get("image") or env.get("profile") or ""
    measured = ((row.placement or {}).get("usage") or {}) if row.placement else {}
    out = []
    for role, body in (spec.get("spec") or {}).items():
        res = _resources(body.get("resources") or spec.get("resources"))
        for index in range(int(body.get("replicas") or 1)):
            name = f"{role}-{index}"
            real = measured.get(name) or {}
            out.append(
                Interval(
                    key=f"{RUN}:{row.id}:{name}",
                    kind=kind,
                    object_id=row.id,
                    replica=name,
                    team=row.team,
                    user=row.owner,
                    started_at=_aware(row.started_at),
                    ended_at=max(_aware(ended), _aware(row.started_at)) if ended else None,
                    cpu=res.cpu or 0.0,
                    memory=res.memory or 0,
                    gpus=res.gpus,
                    image=image,
                    cpu_time=real.get("cpu_time"),
                    peak_memory=real.get("peak_memory"),
                )
            )
    return out


def build_intervals(env: EnvironmentProfile, status: dict[str, Any]) -> list[Interval]:
    """A build of ``env`` (its backend's status): one process, one core, while it ran."""
    started = status.get("started_at")
    if not started:
        return []
    finished = status.get("finished_at") if status.get("state") in ("ready", "failed") else None
    start = datetime.fromtimestamp(float(started), timezone.utc)
    return [
        Interval(
            key=f"{BUILD}:{env.id}:{str(status.get('spec_hash', ''))[:16]}:{int(float(started))}",
            kind=BUILD,
            object_id=env.id,
            team=env.scope if env.scope != GLOBAL_SCOPE else GLOBAL_SCOPE,
            user=env.owner,
            started_at=start,
            ended_at=max(datetime.fromtimestamp(float(finished), timezone.utc), start)
            if finished
            else None,
            cpu=1.0,
            image=f"{env.scope}/{env.name}",
        )
    ]


class Meter:
    """Brings the usage records up to date with the objects they meter.

    ``builds``: ``env -> build status`` (the environment backend's ``status``), or None
    where nothing is built. ``team``: meter one team's objects only (an admission does,
    under the team's lock).
    """

    def __init__(self, builds: Callable[[EnvironmentProfile], dict[str, Any]] | None = None):
        self.builds = builds

    async def sync(
        self, session: AsyncSession, *, team: str | None = None, now: datetime | None = None
    ) -> int:
        """Open, close or add records; returns how many rows changed."""
        now = now or datetime.now(timezone.utc)
        wanted: list[Interval] = []
        wanted += await self._sessions(session, team)
        wanted += await self._runs(session, team)
        wanted += await self._endpoints(session, team, now)
        if self.builds is not None:
            wanted += await self._builds(session, team)
        return await _apply(session, wanted)

    async def _sessions(self, s: AsyncSession, team: str | None) -> list[Interval]:
        metered = exists().where(
            UsageRecord.kind == SESSION,
            UsageRecord.object_id == Session.id,
            UsageRecord.ended_at.is_not(None),
        )
        q = select(Session, EnvironmentProfile).outerjoin(
            EnvironmentProfile, EnvironmentProfile.id == Session.environment_id
        )
        q = q.where(or_(Session.state == "active", ~metered))
        if team is not None:
            q = q.where(Session.team == team)
        out: list[Interval] = []
        for row, env in (await s.execute(q)).all():
            image = (env.image or f"{env.scope}/{env.name}") if env is not None else ""
            out += session_intervals(row, image)
        return out

    async def _runs(self, s: AsyncSession, team: str | None) -> list[Interval]:
        metered = exists().where(
            UsageRecord.kind.in_((RUN, NOTEBOOK_JOB)),
            UsageRecord.object_id == Experiment.id,
            UsageRecord.ended_at.is_not(None),
        )
        q = select(Experiment).where(
            Experiment.started_at.is_not(None),
            Experiment.kind != "interactive",
            or_(Experiment.status.in_(_RUN_ACTIVE), ~metered),
        )
        if team is not None:
            q = q.where(Experiment.team == team)
        out: list[Interval] = []
        for row in (await s.scalars(q)).all():
            out += run_intervals(row)
        return out

    async def _endpoints(self, s: AsyncSession, team: str | None, now: datetime) -> list[Interval]:
        """An endpoint's up-periods: one record from when it was created (or asked again
        after a failure) until it is stopped or failed (its row's last change), or deleted
        (the meter's time: deleting needs a stop first, so rarely)."""
        opened = {
            r.object_id: r
            for r in (
                await s.scalars(
                    select(UsageRecord).where(
                        UsageRecord.kind == ENDPOINT, UsageRecord.ended_at.is_(None)
                    )
                )
            ).all()
            if team is None or r.team == team
        }
        q = select(Endpoint).where(
            or_(Endpoint.status.not_in(_ENDPOINT_DOWN), Endpoint.id.in_(sorted(opened)))
        )
        if team is not None:
            q = q.where(Endpoint.team == team)
        rows = {r.id: r for r in (await s.scalars(q)).all()}
        out: list[Interval] = []
        for endpoint_id, rec in opened.items():
            row = rows.get(endpoint_id)
            if row is None or row.status in _ENDPOINT_DOWN:
                end = _aware(row.updated_at) if row is not None else now
                out.append(_with_end(rec, max(end, _aware(rec.started_at))))
        for row in rows.values():
            if row.status in _ENDPOINT_DOWN or row.id in opened:
                continue
            ends = (
                await s.scalars(
                    select(UsageRecord.ended_at).where(
                        UsageRecord.kind == ENDPOINT, UsageRecord.object_id == row.id
                    )
                )
            ).all()
            count = len(ends)
            # the up-period's real start, as the endpoint's row recorded it (older rows:
            # created for the first period, last changed for later ones)
            start = endpoints.started_at(row) or _aware(
                row.created_at if count == 0 else row.updated_at
            )
            start = max([start, *(_aware(e) for e in ends if e is not None)])
            res = _resources((row.config or {}).get("resources") or None)
            out.append(
                Interval(
                    key=f"{ENDPOINT}:{row.id}:{count + 1}",
                    kind=ENDPOINT,
                    object_id=row.id,
                    team=row.team,
                    user=row.owner,
                    started_at=min(start, now),
                    ended_at=None,
                    cpu=res.cpu or 0.0,
                    memory=res.memory or 0,
                    gpus=res.gpus,
                )
            )
        return out

    async def _builds(self, s: AsyncSession, team: str | None) -> list[Interval]:
        assert self.builds is not None
        q = select(EnvironmentProfile)
        if team is not None:
            q = q.where(EnvironmentProfile.scope == team)
        out: list[Interval] = []
        for env in (await s.scalars(q)).all():
            try:
                status = self.builds(env)
            except Exception:  # a backend that cannot say: nothing to meter now
                continue
            out += build_intervals(env, status)
        return out


def _with_end(rec: UsageRecord, end: datetime) -> Interval:
    return Interval(
        key=rec.key,
        kind=rec.kind,
        object_id=rec.object_id,
        team=rec.team,
        user=rec.user,
        started_at=_aware(rec.started_at),
        ended_at=end,
        replica=rec.replica,
        cpu=rec.cpu,
        memory=rec.memory,
        gpus=rec.gpus,
        image=rec.image,
        gpu_type=rec.gpu_type,
        cpu_time=rec.cpu_time,
        peak_memory=rec.peak_memory,
    )


async def _apply(session: AsyncSession, wanted: Iterable[Interval]) -> int:
    """Insert the intervals not recorded yet, close the open records whose interval ended
    (once: only an open record is closed), in key order (concurrent meters lock rows in
    the same order)."""
    items = sorted({i.key: i for i in wanted}.values(), key=lambda i: i.key)
    if not items:
        return 0
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    changed = 0
    now = datetime.now(timezone.utc)
    for item in items:
        values = {
            "key": item.key,
            "kind": item.kind,
            "object_id": item.object_id,
            "replica": item.replica,
            "team": item.team,
            "user": item.user,
            "cpu": item.cpu,
            "memory": item.memory,
            "gpus": item.gpus,
            "gpu_type": item.gpu_type,
            "image": item.image,
            "started_at": item.started_at,
            "ended_at": item.ended_at,
            "cpu_time": item.cpu_time,
            "peak_memory": item.peak_memory,
            "created_at": now,
            "updated_at": now,
        }
        # RETURNING, not rowcount: an ORM insert on psycopg reports rowcount -1
        added = await session.scalar(
            insert(UsageRecord)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(UsageRecord.id)
        )
        if added is not None:
            changed += 1
            continue
        if item.ended_at is not None:
            closed = await session.scalar(
                update(UsageRecord)
                .where(UsageRecord.key == item.key, UsageRecord.ended_at.is_(None))
                .values(
                    ended_at=item.ended_at,
                    cpu_time=item.cpu_time,
                    peak_memory=item.peak_memory,
                    updated_at=now,
                )
                .returning(UsageRecord.id)
            )
            changed += closed is not None
    return changed
