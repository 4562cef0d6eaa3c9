"""Notebook sessions: admitted atomically against their team's quota.

Admission locks the team's row (``UPDATE teams ...`` first: a row lock on PostgreSQL,
the database write lock on SQLite), then counts and inserts in the same transaction,
so concurrent spawns never overshoot a limit.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import EnvironmentProfile, Experiment, Session, Team
from . import environments
from .errors import Forbidden, InvalidInput, NotFound
from .identity import Identity
from .quotas import Quota, Usage, check_session, effective_quota
from .resources import Resources
from .usage import budgets

ACTIVE = "active"
STOPPED = "stopped"
SESSIONS_SCOPE = "custom:submarine:sessions"


def check_spawner(identity: Identity) -> None:
    if SESSIONS_SCOPE not in identity.scopes:
        raise Forbidden(f"Only JupyterHub's spawner (scope {SESSIONS_SCOPE}) admits sessions.")


async def lock_team(session: AsyncSession, team: str) -> Team:
    """Make sure ``team`` has a row, and hold a write lock on it until the transaction ends."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(Team)
        .values(name=team, description="", quota={})
        .on_conflict_do_nothing(index_elements=["name"])
    )
    await session.execute(update(Team).where(Team.name == team).values(updated_at=Team.updated_at))
    row = await session.get(Team, team, populate_existing=True)
    assert row is not None
    return row


async def usage_of(session: AsyncSession, team: str) -> Usage:
    row = (
        await session.execute(
            select(
                func.count(Session.id),
                func.coalesce(func.sum(Session.cpu), 0.0),
                func.coalesce(func.sum(Session.memory), 0),
                func.coalesce(func.sum(Session.gpus), 0),
            ).where(Session.team == team, Session.state == ACTIVE)
        )
    ).one()
    running = await session.scalar(
        select(func.count(Experiment.id)).where(
            Experiment.team == team,
            Experiment.status.in_(("pending", "running")),
            Experiment.launched_at.is_not(None),
            Experiment.kind != "interactive",
        )
    )
    return Usage(
        sessions=row[0],
        cpu=float(row[1] or 0),
        memory=int(row[2] or 0),
        gpus=int(row[3]),
        running_experiments=int(running or 0),
    )


async def team_quota(session: AsyncSession, team: str, defaults: dict[str, Any]) -> Quota:
    row = await session.get(Team, team)
    return effective_quota(defaults, row.quota if row else None)


def choose_team(user: str, teams: list[str], wanted: Any, default: str | None = None) -> str:
    """The team a request of ``user`` works in: ``wanted`` if named (a member's), else
    their only team, else ``default`` (the caller's session or setting) if a member's."""
    if wanted in (None, ""):
        if len(teams) == 1:
            return teams[0]
        if not teams:
            raise Forbidden(f"{user} is in no team yet; ask a hub admin to add you to one.")
        if default in teams:
            return default
        raise InvalidInput(
            f"{user} is in several teams ({', '.join(teams)}); say which one: "
            f"--team {teams[0]} on the command line ('team' in the API), or set a default "
            f"once with: submarine config set team {teams[0]}"
        )
    if not isinstance(wanted, str):
        raise InvalidInput("'team' must be a team name.")
    if wanted not in teams:
        raise Forbidden(f"{user} is not a member of team {wanted!r}.")
    return wanted


async def admit(
    session: AsyncSession,
    caller: Identity,
    data: Any,
    user: Identity,
    quota_defaults: dict[str, Any],
) -> tuple[Session, EnvironmentProfile | None]:
    """Admit ``user``'s session (asked by the spawner ``caller``) or raise why not."""
    check_spawner(caller)
    if not isinstance(data, dict):
        raise InvalidInput("The request body must be a JSON object.")
    if data.get("team") in (None, "") and len(user.teams) > 1:  # the form always asks
        raise InvalidInput(
            f"{user.name} is in several teams ({', '.join(sorted(user.teams))}); choose one "
            "on the spawn form (or give 'team' in the server's options)."
        )
    team = choose_team(user.name, sorted(user.teams), data.get("team"))
    env = None
    if data.get("environment"):
        if not isinstance(data["environment"], str):
            raise InvalidInput("'environment' must be a reference like 'team/name'.")
        scope, name = environments.parse_ref(data["environment"])
        env = await environments.get(session, user, scope, name)
        if env.scope not in (team, environments.GLOBAL_SCOPE):
            raise Forbidden(
                f"Environment {env.scope}/{env.name} belongs to team {env.scope}, not to "
                f"{team}; choose an environment of team {team}, or a global one."
            )
    want = Resources.parse(env.resources if env else None)
    if data.get("resources") is not None:
        override = Resources.parse(data["resources"])
        want = Resources(
            cpu=override.cpu if override.cpu is not None else want.cpu,
            memory=override.memory if override.memory is not None else want.memory,
            gpus=override.gpus or want.gpus,
        )
    server_name = data.get("server_name") or ""
    if not isinstance(server_name, str):
        raise InvalidInput("'server_name' must be a string.")

    team_row = await lock_team(session, team)
    quota = effective_quota(quota_defaults, team_row.quota)
    # a restarted spawn of the same server replaces its earlier admission
    await session.execute(
        update(Session)
        .where(Session.user == user.name, Session.server_name == server_name)
        .where(Session.state == ACTIVE)
        .values(state=STOPPED, stopped_at=datetime.now(timezone.utc))
    )
    check_session(team, quota, await usage_of(session, team), want)
    await budgets.check_admission(session, team, "session")
    row = Session(
        user=user.name,
        server_name=server_name,
        team=team,
        environment_id=env.id if env else None,
        cpu=want.cpu,
        memory=want.memory,
        gpus=want.gpus,
        state=ACTIVE,
    )
    session.add(row)
    await session.flush()
    return row, env


async def stop(session: AsyncSession, caller: Identity, session_id: int) -> Session:
    """Release a session's admission (its place in the team's quota): the spawner does when
    the server stops, an admin may; the session's user is refused (the server would keep
    running outside the quota)."""
    row = await session.get(Session, session_id)
    if row is None:
        raise NotFound(f"No session {session_id}.")
    if not (caller.admin or SESSIONS_SCOPE in caller.scopes):
        if caller.is_user(row.user):
            raise Forbidden(
                f"Only JupyterHub's spawner or a hub admin releases session {session_id}'s "
                "place in the quota; stop the server instead (from the hub's home page, or "
                f"POST /sessions/{session_id}/stop) and the spawner releases it."
            )
        raise NotFound(f"No session {session_id}.")
    if row.state == ACTIVE:
        row.state = STOPPED
        row.stopped_at = datetime.now(timezone.utc)
    await session.flush()
    return row


async def release_missing(
    session: AsyncSession, running: set[tuple[str, str]], admitted_before: datetime
) -> list[Session]:
    """Release the active admissions whose server is not in ``running`` (``(user,
    server_name)`` pairs the hub runs or is starting), admitted before ``admitted_before``
    (younger ones may belong to a spawn the hub does not list yet). What a spawner could
    not release (the service was down, or the hub stopped it before its servers) is
    released this way."""
    rows = (
        await session.scalars(
            select(Session).where(Session.state == ACTIVE, Session.created_at < admitted_before)
        )
    ).all()
    now = datetime.now(timezone.utc)
    gone = [r for r in rows if (r.user, r.server_name) not in running]
    for row in gone:
        row.state, row.stopped_at = STOPPED, now
    await session.flush()
    return gone


async def get_for_stop(session: AsyncSession, caller: Identity, session_id: int) -> Session:
    """The active session ``caller`` (its user or an admin) may stop."""
    row = await session.get(Session, session_id)
    if row is None or not (caller.admin or caller.is_user(row.user)):
        raise NotFound(f"No session {session_id}.")
    if row.state != ACTIVE:
        raise InvalidInput(f"Session {session_id} is not running.")
    return row


async def get_with_environment(
    session: AsyncSession, session_id: int
) -> tuple[Session, EnvironmentProfile | None]:
    row = await session.get(Session, session_id)
    if row is None:
        raise NotFound(f"No session {session_id}.")
    env = await session.get(EnvironmentProfile, row.environment_id) if row.environment_id else None
    return row, env


async def list_active(session: AsyncSession, identity: Identity) -> list[Session]:
    query = select(Session).where(Session.state == ACTIVE).order_by(Session.created_at)
    if not (identity.admin or SESSIONS_SCOPE in identity.scopes):
        query = query.where(Session.user == identity.name)
        if identity.confined:  # a run's token: its owner's sessions in the run's team only
            query = query.where(Session.team.in_(sorted(identity.teams)))
    return list((await session.scalars(query)).all())


def to_json(row: Session) -> dict[str, Any]:
    return {
        "id": row.id,
        "user": row.user,
        "server_name": row.server_name,
        "team": row.team,
        "environment_id": row.environment_id,
        "resources": Resources(cpu=row.cpu, memory=row.memory, gpus=row.gpus).to_json(),
        "state": row.state,
        "created_at": row.created_at.isoformat(),
        "stopped_at": row.stopped_at.isoformat() if row.stopped_at else None,
    }
