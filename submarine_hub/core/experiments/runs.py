"""Runs: submission, visibility, search, kill and rerun (metrics and params of a run:
:mod:`.metrics`).

A run belongs to a team and an owner. Members of the team (and hub admins) see it;
its owner and admins kill it. A run acts for its owner through a *run token* (given
to its processes as ``SUBMARINE_TOKEN``) that only reaches the run's own team.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import (
    Credential,
    Experiment,
    ExperimentTag,
)
from .. import datasets, environments, scopes
from ..errors import Forbidden, InvalidInput, NotFound
from ..identity import Identity
from ..quotas import Quota, QuotaExceeded
from ..resources import Resources, format_memory
from ..sessions import choose_team, lock_team, team_quota
from ..usage import budgets
from ..validation import reject_unknown
from . import spark, sql, templates
from . import spec as specs
from .backend import ACTIVE_STATES, FINAL_STATES, KILLED, PENDING, RUNNING, STATES

log = logging.getLogger("submarine_hub.runs")

TOKEN_PREFIX = "smr_"
MAX_PAGE = 500
RUN_SCOPE = "submarine:run"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token(run_id: int) -> str:
    return f"{TOKEN_PREFIX}{run_id}_{secrets.token_urlsafe(32)}"


def run_identity(row: Experiment) -> Identity:
    """Who a run's token speaks for: its owner, in the run's team only, never an admin."""
    return Identity(
        name=row.owner,
        kind="user",
        admin=False,
        teams=frozenset({row.team}),
        scopes=frozenset({RUN_SCOPE}),
        run_id=row.id,
    )


async def identity_for_token(session: AsyncSession, token: str) -> Identity | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    row = await session.scalar(select(Experiment).where(Experiment.token_hash == token_hash(token)))
    if row is None or row.status in FINAL_STATES:
        return None
    return run_identity(row)


def can_read(identity: Identity, row: Experiment) -> bool:
    return identity.admin or identity.is_member(row.team)


def token_reaches(identity: Identity, row: Experiment) -> bool:
    """Whether the caller, if it is a run's token, may write to ``row``: its own run, or an
    interactive run that token started (an MLflow run made inside it, e.g. a nested
    ``mlflow.start_run``: its ``placement["parent_run"]``). Any other caller: True."""
    if identity.run_id is None:
        return True
    return identity.run_id in (row.id, (row.placement or {}).get("parent_run"))


async def get(session: AsyncSession, identity: Identity, run_id: int) -> Experiment:
    row = await session.get(Experiment, run_id)
    if row is None or not can_read(identity, row):
        raise NotFound(f"No experiment {run_id} that you can see.")
    return row


@dataclass
class Submission:
    """A validated spec ready to be stored as a pending run."""

    spec: dict[str, Any]
    team: str
    kind: str
    template: str | None = None
    parameters: dict[str, Any] | None = None


def check_resources(team: str, quota: Quota, spec: dict[str, Any]) -> None:
    """Each replica must fit in what the team allows one session/replica to use."""
    for role, body in spec["spec"].items():
        want = Resources.parse(body.get("resources") or spec["resources"])
        checks: list[tuple[str, Any, Any, Callable[[Any], str], str]] = [
            ("CPU", want.cpu, quota.max_cpu_per_session, "{:g}".format, "max_cpu_per_session"),
            ("memory", want.memory, quota.max_memory_per_session, format_memory,
             "max_memory_per_session"),
            ("GPUs", want.gpus, quota.max_gpus_per_session, str, "max_gpus_per_session"),
        ]  # fmt: skip
        for label, amount, limit, fmt, name in checks:
            if limit is not None and amount is not None and amount > limit:
                raise QuotaExceeded(
                    f"A replica of team {team!r} may use at most {fmt(limit)} {label} (its "
                    f"quota's {name}); role {role!r} asks for {fmt(amount)}. Ask for less, "
                    "or ask a hub admin to raise the quota."
                )
    application = sql.spark_task(spec)
    if application is not None:  # a Spark run's executors count too
        spark.check_quota(team, quota, application)


def _default_environment(spec: dict[str, Any], identity: Identity, team: str) -> None:
    """A spec naming no environment (profile or image) runs in the caller's default one
    (the session's profile), when that belongs to the run's team or is global."""
    wanted = identity.default_environment
    if not wanted or spec["environment"].get("profile") or spec["environment"].get("image"):
        return
    try:
        scope, _ = environments.parse_ref(wanted)
    except InvalidInput:
        return
    if scope in (team, "_global"):
        spec["environment"]["profile"] = wanted


async def check_team_limits(
    session: AsyncSession, team: str, spec: dict[str, Any], quota_defaults: dict[str, Any]
) -> None:
    """Refuse (403, :class:`QuotaExceeded`) a normalised spec any of whose replicas asks for
    more CPU, memory or GPUs than ``team``'s quota gives one session or replica."""
    check_resources(team, await team_quota(session, team, quota_defaults), spec)


async def prepare(
    session: AsyncSession, identity: Identity, data: Any, *, uploads: Any = None
) -> Submission:
    """Validate a submission (a spec, maybe naming a template) for ``identity``."""
    if not isinstance(data, dict):
        raise InvalidInput("An experiment spec must be an object (JSON or YAML mapping).")
    spec = specs.normalize(data)
    wanted = spec["meta"].get("team")
    template_row = None
    if "template" in spec["task"]:
        template_row = await templates.get(session, identity, spec["task"]["template"])
        if wanted is None and template_row.scope != "_global":
            wanted = template_row.scope  # a team's template runs in that team by default
    team = choose_team(identity.name, sorted(identity.teams), wanted, identity.default_team)
    spec["meta"]["team"] = team
    template_ref = None
    values = None
    if template_row is not None:
        row = template_row
        body, values = templates.instantiate(row, spec["task"].get("parameters"))
        template_ref = row.name if row.scope == "_global" else f"{row.scope}/{row.name}"
        spec = specs.normalize(_overlay(body, data))
        spec["meta"]["team"] = team
    _default_environment(spec, identity, team)
    if spec["environment"].get("profile"):
        scope, name = environments.parse_ref(spec["environment"]["profile"])
        env = await environments.get(session, identity, scope, name)
        if env.scope not in (team, "_global"):
            raise Forbidden(
                f"Environment {env.scope}/{env.name} belongs to team {env.scope!r}, not {team!r}."
            )
        spec["environment"]["profile"] = f"{env.scope}/{env.name}"
        spec["environment"]["profile_id"] = env.id
        if not spec["environment"].get("image") and env.image:
            spec["environment"]["image"] = env.image
        if env.resources and not data.get("resources"):
            spec["resources"] = Resources.parse(env.resources).to_json()
    own_run = await session.get(Experiment, identity.run_id) if identity.confined else None
    if own_run is not None:
        _confine_credentials(own_run, spec)
    if spec["credentials"]:
        known = set(
            (
                await session.scalars(
                    select(Credential.name).where(
                        ((Credential.owner_kind == "team") & (Credential.owner == team))
                        | ((Credential.owner_kind == "user") & (Credential.owner == identity.name))
                    )
                )
            ).all()
        )
        missing = [c for c in spec["credentials"] if c not in known]
        if missing:
            raise InvalidInput(
                f"No credential(s) {', '.join(map(repr, missing))} of {identity.name} or team "
                f"{team!r}; see 'submarine credential list'."
            )
    await sql.check_connection(session, team, spec)
    for item in spec["inputs"]:
        if "dataset" in item:
            try:
                found = await datasets.get(session, identity, item["dataset"], default_team=team)
            except NotFound:
                raise InvalidInput(
                    f"Input {item['name']!r}: no dataset {item['dataset']!r} that you can see "
                    "(see 'submarine dataset list')."
                ) from None
            item["uri"] = found.uri
            item["dataset_id"] = found.id
    upload = spec.get("code", {}).get("upload")
    if upload and uploads is not None:
        reused = own_run is not None and (own_run.spec.get("code") or {}).get("upload") == upload
        if not reused:  # a run's token may reuse its own run's code, and what it uploaded
            uploads.check(identity, upload)
    kind = specs.task_kind(spec)
    return Submission(spec, team, kind, template_ref, values)


def _confine_credentials(own_run: Experiment, spec: dict[str, Any]) -> None:
    """A run's token submits runs with at most its own run's credentials (naming none: the
    same as its own run), never others of its owner's: those are personal, not its team's."""
    given = own_run.spec.get("credentials")
    if given is None:  # its own run has all of its owner's and its team's
        return
    if spec["credentials"] is None:
        spec["credentials"] = list(given)
        return
    extra = [c for c in spec["credentials"] if c not in given]
    if extra:
        raise Forbidden(
            f"Run {own_run.id}'s token may give the runs it submits only its own "
            f"credentials ({', '.join(map(repr, given)) or 'none'}), not "
            f"{', '.join(map(repr, extra))}."
        )


def _overlay(template_spec: dict[str, Any], given: dict[str, Any]) -> dict[str, Any]:
    """The template's spec with what the submitter set besides the task (name, tags...)."""
    out = dict(template_spec)
    meta = {**template_spec.get("meta", {}), **given.get("meta", {})}
    out["meta"] = meta
    for key, value in given.items():
        if key not in ("meta", "task"):
            out[key] = value
    return out


async def create(
    session: AsyncSession,
    identity: Identity,
    sub: Submission,
    *,
    quota_defaults: dict[str, Any],
    parent_id: int | None = None,
    rerun_of: int | None = None,
    pipeline: tuple[int, str] | None = None,
) -> Experiment:
    """Queue a prepared run: the one place every run (experiment, template run, rerun,
    pipeline step, notebook job, scheduled job) is created, so the one place the team's
    per-replica limits are checked (``quota_defaults``: the service's default quota)."""
    await check_team_limits(session, sub.team, sub.spec, quota_defaults)
    held = None
    if sub.kind != INTERACTIVE and parent_id is None and pipeline is None:
        # new work (not a step or child of admitted work) is checked against the budget
        await lock_team(session, sub.team)
        held = await budgets.check_admission(session, sub.team, "run")
    if parent_id is not None:
        parent = await get(session, identity, parent_id)
        if parent.team != sub.team or parent.status in FINAL_STATES:
            raise InvalidInput(f"Run {parent_id} is not a running run of team {sub.team!r}.")
        if identity.run_id not in (None, parent_id) or (
            identity.run_id is None and parent.owner != identity.name and not identity.admin
        ):
            raise Forbidden(f"Only run {parent_id} itself or its owner adds child runs to it.")
    row = Experiment(
        name=sub.spec["meta"]["name"],
        team=sub.team,
        owner=identity.name,
        kind=sub.kind,
        status=PENDING,
        reason=f"queued: {held.message()}" if budgets.holds_runs(held) and held else "queued",
        spec=sub.spec,
        template=sub.template,
        parameters=sub.parameters,
        parent_id=parent_id,
        rerun_of=rerun_of,
        pipeline_id=pipeline[0] if pipeline else None,
        pipeline_step=pipeline[1] if pipeline else None,
    )
    session.add(row)
    await session.flush()
    for tag in sub.spec["meta"]["tags"]:
        session.add(ExperimentTag(experiment_id=row.id, tag=tag))
    await session.flush()
    used = [i["dataset_id"] for i in sub.spec["inputs"] if i.get("dataset_id")]
    if used:
        await datasets.record_inputs(session, row.id, used)
    return row


async def request_kill(session: AsyncSession, identity: Identity, run_id: int) -> Experiment:
    row = await get(session, identity, run_id)
    parent_run = identity.run_id is not None and identity.run_id == row.parent_id
    if not (identity.admin or row.owner == identity.name or parent_run):
        raise Forbidden(f"Only {row.owner} (who submitted it) or a hub admin kills run {run_id}.")
    if row.status in FINAL_STATES:
        raise InvalidInput(f"Run {run_id} has already ended ({row.status}).")
    row.kill_requested = True
    if row.kind == INTERACTIVE:  # no process of the platform's: ended here
        finish(row, KILLED, reason=f"killed by {identity.name}")
    elif row.status == PENDING and row.launched_at is None:
        finish(row, KILLED, reason=f"killed by {identity.name} before it started")
    await session.flush()
    return row


async def rerun(
    session: AsyncSession, identity: Identity, run_id: int, *, quota_defaults: dict[str, Any]
) -> Experiment:
    row = await get(session, identity, run_id)
    if not identity.is_member(row.team) and not identity.admin:
        raise Forbidden(f"Only members of team {row.team!r} rerun its runs.")
    sub = Submission(row.spec, row.team, row.kind, row.template, row.parameters)
    return await create(
        session, identity, sub, quota_defaults=quota_defaults, rerun_of=row.id, parent_id=None
    )


INTERACTIVE = "interactive"
SESSION_BACKEND = "session"


async def start_interactive(session: AsyncSession, identity: Identity, data: Any) -> Experiment:
    """A run that records what a notebook session logs (no process of its own)."""
    reject_unknown(data, {"name", "team", "tags", "source"}, "tracking run")
    meta = {"name": data.get("name") or "notebook", "tags": data.get("tags") or []}
    if data.get("team"):
        meta["team"] = data["team"]
    spec = specs.normalize({"meta": meta, "task": {"command": ["(interactive)"]}})
    team = choose_team(
        identity.name, sorted(identity.teams), meta.get("team"), identity.default_team
    )
    spec["meta"]["team"] = team
    if isinstance(data.get("source"), dict):
        spec["meta"]["description"] = f"tracked from {data['source'].get('path', 'a notebook')}"
    # no processes, so no resources to check against a quota
    row = await create(session, identity, Submission(spec, team, INTERACTIVE), quota_defaults={})
    now = datetime.now(timezone.utc)
    row.status, row.reason, row.backend = RUNNING, "", SESSION_BACKEND
    row.launched_at = row.started_at = now
    row.placement = {"heartbeat_at": now.isoformat()}
    await session.flush()
    return row


async def heartbeat(session: AsyncSession, identity: Identity, run_id: int) -> Experiment:
    """The process tracking interactive run ``run_id`` is alive (its owner says so)."""
    row = await get(session, identity, run_id)
    if row.kind != INTERACTIVE:
        raise InvalidInput(f"Run {run_id} is not an interactive run.")
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(f"Only {row.owner} reports on run {run_id}.")
    if row.status not in FINAL_STATES:
        row.placement = {**(row.placement or {}), "heartbeat_at": _now_iso()}
        await session.flush()
    return row


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


async def reap_interactive(session: AsyncSession, timeout: float) -> list[Experiment]:
    """End the interactive runs whose process stopped reporting ``timeout`` seconds ago
    (its kernel died, its session or server stopped): failed, saying so."""
    rows = (
        await session.scalars(
            select(Experiment).where(Experiment.status == RUNNING, Experiment.kind == INTERACTIVE)
        )
    ).all()
    now = datetime.now(timezone.utc)
    ended = []
    for row in rows:
        if (row.placement or {}).get("client") == "mlflow":
            continue  # MLflow's client sends no heartbeat: it ends its run (runs/update)
        last = (row.placement or {}).get("heartbeat_at")
        seen = datetime.fromisoformat(last) if last else row.started_at or row.created_at
        if seen.tzinfo is None:
            seen = seen.replace(tzinfo=timezone.utc)
        if (now - seen).total_seconds() > timeout:
            finish(
                row,
                "failed",
                reason=(
                    f"the notebook stopped reporting at {seen.isoformat(timespec='seconds')}: "
                    "its kernel or session ended without ending the run"
                ),
            )
            ended.append(row)
    if ended:
        await session.flush()
    return ended


async def end_interactive(
    session: AsyncSession, identity: Identity, run_id: int, status: Any
) -> Experiment:
    row = await get(session, identity, run_id)
    if row.kind != INTERACTIVE:
        raise InvalidInput(f"Run {run_id} is not an interactive run; kill it instead.")
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(f"Only {row.owner} ends run {run_id}.")
    if status not in FINAL_STATES:
        raise InvalidInput(f"'status' must be one of {', '.join(FINAL_STATES)}.")
    if row.status not in FINAL_STATES:
        finish(row, status)
        await session.flush()
    return row


def finish(row: Experiment, status: str, *, reason: str = "", exit_code: int | None = None) -> None:
    row.status = status
    row.reason = reason
    row.exit_code = exit_code
    row.finished_at = datetime.now(timezone.utc)
    row.token_hash = None


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidInput(f"'{name}' must be an ISO 8601 time, like 2026-11-25T10:00Z.") from None


@dataclass
class Filters:
    team: str | None = None
    owner: str | None = None
    status: list[str] | None = None
    tag: str | None = None
    since: str | None = None
    until: str | None = None
    parent: int | None = None
    pipeline: int | None = None
    before: int | None = None  # cursor: runs with a smaller id
    limit: int = 50


async def search(
    session: AsyncSession, identity: Identity, f: Filters
) -> tuple[list[Experiment], int | None]:
    """Newest first; returns (page, cursor of the next page or None)."""
    if not 1 <= f.limit <= MAX_PAGE:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}.")
    q = select(Experiment)
    q = scopes.of_teams(q, Experiment.team, identity, f.team)
    if f.owner:
        q = q.where(Experiment.owner == f.owner)
    if f.status:
        bad = [s for s in f.status if s not in STATES]
        if bad:
            raise InvalidInput(f"Unknown status(es) {', '.join(bad)}; use {', '.join(STATES)}.")
        q = q.where(Experiment.status.in_(f.status))
    if f.tag:
        q = q.where(
            Experiment.id.in_(select(ExperimentTag.experiment_id).where(ExperimentTag.tag == f.tag))
        )
    since, until = _parse_time(f.since, "since"), _parse_time(f.until, "until")
    if since:
        q = q.where(Experiment.created_at >= since)
    if until:
        q = q.where(Experiment.created_at < until)
    if f.parent is not None:
        q = q.where(Experiment.parent_id == f.parent)
    if f.pipeline is not None:
        q = q.where(Experiment.pipeline_id == f.pipeline)
    if f.before is not None:
        q = q.where(Experiment.id < f.before)
    rows = list((await session.scalars(q.order_by(Experiment.id.desc()).limit(f.limit + 1))).all())
    cursor = rows[f.limit - 1].id if len(rows) > f.limit else None
    return rows[: f.limit], cursor


def to_json(row: Experiment, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "team": row.team,
        "owner": row.owner,
        "kind": row.kind,
        "status": row.status,
        "reason": row.reason,
        "tags": list(row.spec["meta"].get("tags", [])),
        "template": row.template,
        "parent_id": row.parent_id,
        "rerun_of": row.rerun_of,
        "pipeline_id": row.pipeline_id,
        "pipeline_step": row.pipeline_step,
        "backend": row.backend,
        "exit_code": row.exit_code,
        "kill_requested": row.kill_requested,
        "created_at": _iso(row.created_at),
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "duration": _duration(row),
    }
    if full:
        out["spec"] = row.spec
        out["parameters"] = row.parameters
        out["placement"] = row.placement
    return out


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _duration(row: Experiment) -> float | None:
    if not row.started_at:
        return None
    end = row.finished_at or datetime.now(timezone.utc)
    start = row.started_at if row.started_at.tzinfo else row.started_at.replace(tzinfo=timezone.utc)
    end = end if end.tzinfo else end.replace(tzinfo=timezone.utc)
    return round((end - start).total_seconds(), 3)


# --- what the scheduler reads ---------------------------------------------------------


async def active(
    session: AsyncSession, *, launched: bool | None = None, limit: int | None = None
) -> list[Experiment]:
    """Runs not ended, oldest first: launched ones (``True``), queued ones (``False``)."""
    q = select(Experiment).where(Experiment.status.in_(ACTIVE_STATES)).order_by(Experiment.id)
    if launched is True:
        q = q.where(Experiment.launched_at.is_not(None), Experiment.kind != INTERACTIVE)
    elif launched is False:
        q = q.where(Experiment.launched_at.is_(None))
    if limit is not None:
        q = q.limit(limit)
    return list((await session.scalars(q)).all())


async def any_queued(session: AsyncSession) -> bool:
    q = select(Experiment.id).where(Experiment.status == PENDING, Experiment.launched_at.is_(None))
    return (await session.scalar(q.limit(1))) is not None


async def kills_pending(session: AsyncSession) -> list[Experiment]:
    q = select(Experiment).where(
        Experiment.status.in_(ACTIVE_STATES), Experiment.kill_requested.is_(True)
    )
    return list((await session.scalars(q)).all())


async def running_by_team(session: AsyncSession) -> dict[str, int]:
    """Runs holding a slot of their team's ``max_running_experiments``.

    A run waiting on child runs it submitted (a sweep) holds no slot, so a quota of 1
    still lets a sweep finish.
    """
    child = select(Experiment.parent_id).where(
        Experiment.parent_id.is_not(None), Experiment.status.in_(ACTIVE_STATES)
    )
    rows = await session.execute(
        select(Experiment.team, func.count(Experiment.id))
        .where(Experiment.launched_at.is_not(None), Experiment.status.in_(ACTIVE_STATES))
        .where(Experiment.id.not_in(child), Experiment.kind != INTERACTIVE)
        .group_by(Experiment.team)
    )
    return dict(rows.all())


async def forget_tags(session: AsyncSession, run_id: int) -> None:
    await session.execute(delete(ExperimentTag).where(ExperimentTag.experiment_id == run_id))


async def mark_running(session: AsyncSession, run_id: int, started: datetime) -> None:
    await session.execute(
        update(Experiment)
        .where(Experiment.id == run_id, Experiment.status == PENDING)
        .values(status=RUNNING, reason="", started_at=started)
    )
