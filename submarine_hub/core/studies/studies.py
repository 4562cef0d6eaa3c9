"""Studies: create, read, stop and resume; the scheduler's step (:func:`advance`) that
asks Optuna for trials, starts their runs and tells Optuna how they ended; what a trial
reports on its way (:func:`report`, which answers whether it should stop); and the
worker's call of a function study (:func:`next_trial`).

Every decision commits to the metastore with the trial's run, under the study's lock
(:class:`.engine.StudyCache`), so a service killed at any point and started again
neither loses nor repeats a trial: the stored trials are the study.

Who: members of a study's team see it and its trials; its owner (and hub admins)
stop and resume it. A trial's run token reports to its own trial only.
"""

from __future__ import annotations

import asyncio
import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Experiment, Metric, Study, StudyTrial
from .. import scopes
from ..errors import Conflict, Forbidden, InvalidInput, NotFound, Unavailable
from ..experiments import runs
from ..experiments.backend import ACTIVE_STATES, FINAL_STATES, SUCCEEDED
from ..identity import Identity
from ..quotas import QuotaExceeded
from ..sessions import choose_team, team_quota
from ..validation import INT64_MAX, is_finite_number, reject_unknown
from . import spec as specs
from . import trials as trial_runs

RUNNING = "running"
STOPPED = "stopped"
FINISHED = "finished"
FAILED = "failed"
STATUSES = (RUNNING, STOPPED, FINISHED, FAILED)
TRIAL_STATES = ("running", "complete", "pruned", "failed")
PRUNE_GRACE_S = 10.0  # a pruned trial's run has this long to stop on its own, then is killed
MAX_PAGE = 500


def _engine() -> Any:
    try:
        from . import engine
    except ImportError:
        raise Unavailable(
            "Studies need Optuna in the platform service's environment: "
            "pip install 'submarine-hub[tuning]'."
        ) from None
    return engine


async def _optuna(session: AsyncSession, cache: Any, study: Study) -> Any:
    """The study's Optuna study: cached, or built from its stored trials."""
    found = cache.cached(study.id)
    if found is None:
        found = cache.get(study.id, study.spec, await trials_of(session, study.id))
    return found


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def can_read(identity: Identity, row: Study) -> bool:
    return identity.admin or identity.is_member(row.team)


def _check_manage(identity: Identity, row: Study) -> None:
    if identity.confined or not (identity.admin or row.owner == identity.name):
        raise Forbidden(
            f"Only {row.owner} (who created it) or a hub admin stops or resumes study {row.id}."
        )


async def get(session: AsyncSession, identity: Identity, study_id: int) -> Study:
    row = await session.get(Study, study_id)
    if row is None or not can_read(identity, row):
        raise NotFound(f"No study {study_id} that you can see.")
    return row


async def trials_of(session: AsyncSession, study_id: int) -> list[StudyTrial]:
    q = select(StudyTrial).where(StudyTrial.study_id == study_id).order_by(StudyTrial.number)
    return list((await session.scalars(q)).all())


def trial_limit(spec: dict[str, Any]) -> int:
    """How many trials the study asks for: ``trials``, at most the grid's size."""
    if spec["sampler"]["name"] == "grid":
        return min(spec["trials"], _engine().grid_size(spec))
    return int(spec["trials"])


async def create(
    session: AsyncSession, identity: Identity, data: Any, *, quota_defaults: dict[str, Any]
) -> Study:
    if identity.kind != "user":
        raise Forbidden("Studies are created by users (their trials run as them).")
    spec = specs.normalize(data)
    try:
        _engine().check_available(spec)
    except ValueError as e:
        raise InvalidInput(str(e)) from None
    team = choose_team(identity.name, sorted(identity.teams), spec["team"], identity.default_team)
    spec["team"] = team
    quota = await team_quota(session, team, quota_defaults)
    cap = quota.max_running_experiments
    if cap is not None and spec["parallelism"] > cap:
        raise QuotaExceeded(
            f"Team {team!r} runs at most {cap} experiment(s) at once (its quota's "
            f"max_running_experiments); a study's parallelism ({spec['parallelism']}) cannot "
            "be more. Ask for less, or ask a hub admin to raise the quota."
        )
    if identity.run_id is not None:  # made by a run (a sweep): its trials are its children
        spec["parent_run"] = identity.run_id
    trial = spec["trial"]
    if trial["kind"] == "template":  # named, visible and runnable in the team: fail now
        from ..experiments import templates

        await templates.get(session, identity, trial["template"])
    now = utcnow()
    row = Study(
        name=spec["name"],
        team=team,
        owner=identity.name,
        spec=spec,
        status=RUNNING,
        reason="",
        created_at=now,
        started_at=now,
        elapsed=0.0,
    )
    session.add(row)
    await session.flush()
    return row


async def search(
    session: AsyncSession, identity: Identity, *, team: str | None, status: str | None, limit: int
) -> list[Study]:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"'limit' must be between 1 and {MAX_PAGE}.")
    q = scopes.of_teams(select(Study), Study.team, identity, team)
    if status is not None:
        if status not in STATUSES:
            raise InvalidInput(f"'status' must be one of {', '.join(STATUSES)}.")
        q = q.where(Study.status == status)
    return list((await session.scalars(q.order_by(Study.id.desc()).limit(limit))).all())


def _elapsed(row: Study, now: datetime | None = None) -> float:
    total = row.elapsed or 0.0
    if row.status == RUNNING and row.started_at is not None:
        total += ((now or utcnow()) - _aware(row.started_at)).total_seconds()
    return total


async def _runs(session: AsyncSession, ids: list[int]) -> dict[int, Experiment]:
    if not ids:
        return {}
    rows = await session.scalars(select(Experiment).where(Experiment.id.in_(ids)))
    return {r.id: r for r in rows}


async def stop(session: AsyncSession, identity: Identity, study_id: int) -> Study:
    """No new trials; running trials' runs are killed and counted as failed."""
    row = await get(session, identity, study_id)
    _check_manage(identity, row)
    if row.status != RUNNING:
        raise Conflict(f"Study {study_id} is not running ({row.status}).")
    row.elapsed = _elapsed(row)
    row.status, row.reason, row.finished_at = STOPPED, f"stopped by {identity.name}", utcnow()
    for t in await trials_of(session, study_id):
        if t.state != "running":
            continue
        run = await session.get(Experiment, t.run_id) if t.run_id else None
        if run is not None and run.status in ACTIVE_STATES:
            run.kill_requested = True
            if run.backend == trial_runs.INLINE_BACKEND or run.launched_at is None:
                runs.finish(run, "killed", reason="its study was stopped")
        await _end_trial(session, row, t, "failed", reason="its study was stopped")
    for worker in await _workers(session, study_id, active_only=True):
        worker.kill_requested = True
    await session.flush()
    return row


async def resume(session: AsyncSession, identity: Identity, study_id: int, data: Any) -> Study:
    """Run a stopped or finished study again, optionally with ``trials`` more trials."""
    row = await get(session, identity, study_id)
    _check_manage(identity, row)
    reject_unknown(data if data is not None else {}, {"trials"}, "resume request")
    more = (data or {}).get("trials", 0)
    if isinstance(more, bool) or not isinstance(more, int) or not 0 <= more <= specs.MAX_TRIALS:
        raise InvalidInput(
            f"'trials' (more trials) must be a whole number from 0 to {specs.MAX_TRIALS}."
        )
    if row.status == RUNNING:
        raise Conflict(f"Study {study_id} is already running.")
    spec = dict(row.spec)
    spec["trials"] = min(specs.MAX_TRIALS, spec["trials"] + more)
    row.spec = spec
    row.status, row.reason, row.started_at, row.finished_at = RUNNING, "", utcnow(), None
    await session.flush()
    return row


# --- how trials end ------------------------------------------------------------------------


async def _end_trial(
    session: AsyncSession,
    study: Study,
    t: StudyTrial,
    state: str,
    *,
    value: float | None = None,
    reason: str = "",
    cache: Any = None,
) -> None:
    t.state, t.value, t.reason, t.finished_at = state, value, reason, utcnow()
    if cache is not None:
        optuna_study = await _optuna(session, cache, study)
        _engine().tell(optuna_study, t.number, state, value)
    elif cache is None:
        pass  # stop(): the cache is dropped by the caller (service) and rebuilt


async def _objective(session: AsyncSession, run_id: int, metric: str) -> float | None:
    """The run's last value of ``metric`` (highest step, then latest)."""
    q = (
        select(Metric.value)
        .where(Metric.experiment_id == run_id, Metric.key == metric)
        .order_by(Metric.step.desc(), Metric.timestamp.desc(), Metric.id.desc())
        .limit(1)
    )
    value = await session.scalar(q)
    return float(value) if value is not None else None


async def _steps(
    session: AsyncSession, run_ids: list[int], metric: str
) -> dict[int, dict[int, float]]:
    """Each run's intermediate values of ``metric``: {run: {step: value}} (last per step)."""
    out: dict[int, dict[int, float]] = {}
    if not run_ids:
        return out
    q = (
        select(Metric.experiment_id, Metric.step, Metric.value)
        .where(Metric.experiment_id.in_(run_ids), Metric.key == metric)
        .order_by(Metric.timestamp, Metric.id)
    )
    for run_id, step, value in await session.execute(q):
        out.setdefault(run_id, {})[int(step)] = float(value)
    return out


def _prune_reason(study: Study, t: StudyTrial, rows: list[StudyTrial]) -> str:
    pruner = study.spec["pruner"]["name"].replace("_", " ")
    metric = study.spec["objective"]["metric"]
    steps = {int(k): v for k, v in (t.intermediate or {}).items()}
    step = max(steps)
    text = f"pruned by the {pruner} pruner at step {step}: {metric} = {steps[step]:.6g}"
    if study.spec["pruner"]["name"] == "median":
        others = [
            float((r.intermediate or {})[str(step)])
            for r in rows
            if r.number != t.number
            and r.state in ("complete", "pruned")
            and str(step) in (r.intermediate or {})
        ]
        if others:
            text += f", the median of earlier trials there is {statistics.median(others):.6g}"
    return text


async def _judge(
    session: AsyncSession,
    cache: Any,
    study: Study,
    t: StudyTrial,
    steps: dict[int, float],
    rows: list[StudyTrial],
) -> bool:
    """Record ``steps`` as the trial's intermediate values; prune it if its pruner says so."""
    if t.state != "running":
        return t.state == "pruned"
    have = {int(k): v for k, v in (t.intermediate or {}).items()}
    if steps == {k: have.get(k) for k in steps} or not steps:
        return False
    have.update(steps)
    t.intermediate = {str(k): v for k, v in sorted(have.items())}
    engine = _engine()
    optuna_study = cache.get(study.id, study.spec, rows)
    if not engine.report(optuna_study, t.number, have):
        return False
    await _end_trial(session, study, t, "pruned", reason=_prune_reason(study, t, rows), cache=cache)
    return True


# --- the scheduler's step -------------------------------------------------------------------


@dataclass
class Progress:
    started: list[int]  # runs queued this step
    active: int  # trial (or worker) runs still going


async def _workers(session: AsyncSession, study_id: int, *, active_only: bool) -> list[Experiment]:
    from ...store.models import ExperimentTag

    q = select(Experiment).where(
        Experiment.kind == trial_runs.WORKER_KIND,
        Experiment.id.in_(
            select(ExperimentTag.experiment_id).where(
                ExperimentTag.tag == trial_runs.study_tag(study_id)
            )
        ),
    )
    if active_only:
        q = q.where(Experiment.status.in_(ACTIVE_STATES))
    return list((await session.scalars(q)).all())


async def advance(
    session: AsyncSession,
    cache: Any,
    study: Study,
    owner: Identity,
    *,
    quota_defaults: dict[str, Any],
    uploads: Any,
) -> Progress:
    """One step of a running study (call under the study's lock)."""
    spec = study.spec
    if spec["trial"]["kind"] == "function":
        return await _advance_function(session, cache, study, owner, quota_defaults)
    rows = await trials_of(session, study.id)
    cache.get(study.id, spec, rows)  # built from the stored trials if not cached
    metric = spec["objective"]["metric"]
    run_of = await _runs(session, [t.run_id for t in rows if t.run_id])
    now = utcnow()
    live = [(t, run_of[t.run_id]) for t in rows if t.state == "running" and t.run_id in run_of]
    steps = await _steps(
        session, [run.id for _, run in live if run.status in ACTIVE_STATES], metric
    )
    for t, run in live:
        if run.status in ACTIVE_STATES:
            if run.id in steps:
                await _judge(session, cache, study, t, steps[run.id], rows)
            continue
        await _finish_from_run(session, cache, study, t, run, rows)
    for t in rows:  # pruned trials whose runs go on: past the grace, they are killed
        going = run_of.get(t.run_id or 0)
        if t.state == "pruned" and going is not None and going.status in ACTIVE_STATES:
            ended = _aware(t.finished_at or now)
            if (now - ended).total_seconds() >= PRUNE_GRACE_S and not going.kill_requested:
                going.kill_requested = True
    active = sum(1 for r in run_of.values() if r.status in ACTIVE_STATES)
    started: list[int] = []
    if study.status != RUNNING:
        return Progress(started, active)
    limit = trial_limit(spec)
    timed_out = spec["timeout"] is not None and _elapsed(study, now) >= spec["timeout"]
    while not timed_out and len(rows) < limit and active < spec["parallelism"]:
        t = await _ask(session, cache, study, len(rows))
        run = await trial_runs.start_run(
            session,
            owner,
            study,
            t.number,
            t.params,
            quota_defaults=quota_defaults,
            uploads=uploads,
        )
        t.run_id = run.id
        rows.append(t)
        started.append(run.id)
        active += 1
    if active == 0 and (len(rows) >= limit or timed_out):
        study.elapsed = _elapsed(study, now)
        study.status, study.finished_at = FINISHED, now
        study.reason = (
            "its time budget ran out"
            if timed_out and len(rows) < limit
            else (f"all {len(rows)} trials ended")
        )
    await session.flush()
    return Progress(started, active)


async def _advance_function(
    session: AsyncSession,
    cache: Any,
    study: Study,
    owner: Identity,
    quota_defaults: dict[str, Any],
) -> Progress:
    """A function study's step: its workers take trials themselves, so this only keeps
    ``parallelism`` workers going, fails the trials of workers that ended before they
    reported, and ends the study. It reads no trial but those (the fast path's trials are
    judged when they report)."""
    spec = study.spec
    workers = await _workers(session, study.id, active_only=False)
    ended = [w.id for w in workers if w.status in FINAL_STATES]
    if ended:
        orphans = (
            await session.scalars(
                select(Experiment).where(
                    Experiment.kind == trial_runs.INLINE_KIND,
                    Experiment.status.in_(ACTIVE_STATES),
                    Experiment.parent_id.in_(ended),
                )
            )
        ).all()
        for run in orphans:
            runs.finish(run, "failed", reason="its worker run ended before it reported")
            t = await session.scalar(select(StudyTrial).where(StudyTrial.run_id == run.id))
            if t is not None and t.state == "running":
                await _end_trial(session, study, t, "failed", reason=run.reason, cache=cache)
    stored = await session.scalar(
        select(func.count(StudyTrial.id)).where(StudyTrial.study_id == study.id)
    )
    stored = stored or 0
    limit = trial_limit(spec)
    now = utcnow()
    timed_out = spec["timeout"] is not None and _elapsed(study, now) >= spec["timeout"]
    going = [w for w in workers if w.status in ACTIVE_STATES]
    want = 0 if timed_out else min(spec["parallelism"], limit - stored)
    started: list[int] = []
    for i in range(len(going), want):
        w = await trial_runs.start_worker(
            session, owner, study, len(workers) + i, quota_defaults=quota_defaults
        )
        started.append(w.id)
    active = len(going) + len(started)
    if active == 0 and (stored >= limit or timed_out):
        study.elapsed = _elapsed(study, now)
        study.status, study.finished_at = FINISHED, now
        study.reason = (
            "its time budget ran out"
            if timed_out and stored < limit
            else f"all {stored} trials ended"
        )
    await session.flush()
    return Progress(started, active)


async def _ask(session: AsyncSession, cache: Any, study: Study, count: int) -> StudyTrial:
    """Ask Optuna for trial number ``count`` (the number of stored trials) and store it."""
    optuna_study = await _optuna(session, cache, study)
    if study.spec["sampler"]["name"] == "gp":
        # the Gaussian process is fitted on every ask (tenths of a second, more as trials
        # add up): off the event loop; the study's lock, held by every caller, keeps
        # anything else off this Optuna study meanwhile
        number, values = await asyncio.to_thread(_engine().ask, optuna_study, study.spec)
    else:
        number, values = _engine().ask(optuna_study, study.spec)
    if number != count:  # the cache went out of step with the metastore: rebuild
        cache.drop(study.id)
        raise Conflict(f"study {study.id}: Optuna's trial {number} is not the next stored one")
    t = StudyTrial(
        study_id=study.id,
        number=number,
        params=values,
        state="running",
        reason="",
        created_at=utcnow(),
    )
    session.add(t)  # flushed with its run
    return t


async def _finish_from_run(
    session: AsyncSession,
    cache: Any,
    study: Study,
    t: StudyTrial,
    run: Experiment,
    rows: list[StudyTrial],
) -> None:
    metric = study.spec["objective"]["metric"]
    final = await _steps(session, [run.id], metric)
    if run.id in final and await _judge(session, cache, study, t, final[run.id], rows):
        return
    value = await _objective(session, run.id, metric)
    if run.status == SUCCEEDED and value is not None:
        await _end_trial(session, study, t, "complete", value=value, cache=cache)
    elif run.status == SUCCEEDED:
        await _end_trial(
            session,
            study,
            t,
            "failed",
            cache=cache,
            reason=f"its run {run.id} succeeded but logged no {metric!r} metric",
        )
    else:
        await _end_trial(
            session,
            study,
            t,
            "failed",
            cache=cache,
            reason=f"its run {run.id} {run.status}: {run.reason}".rstrip(": "),
        )


# --- what trials say -----------------------------------------------------------------------


def _number(value: Any, name: str) -> float:
    if not is_finite_number(value):
        raise InvalidInput(f"'{name}' must be a finite number.")
    return float(value)


def _step(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= INT64_MAX:
        raise InvalidInput("'step' must be a whole number from 0.")
    return value


async def trial_of_run(
    session: AsyncSession, identity: Identity, run_id: int
) -> tuple[Study, StudyTrial]:
    t = await session.scalar(select(StudyTrial).where(StudyTrial.run_id == run_id))
    if t is None:
        raise NotFound(f"Run {run_id} is no trial of a study that you can see.")
    study = await get(session, identity, t.study_id)
    if identity.run_id is not None and identity.run_id != run_id:
        raise Forbidden(
            f"A run's token reports for its own trial (run {identity.run_id}), not run {run_id}."
        )
    if identity.run_id is None and not (identity.admin or study.owner == identity.name):
        raise Forbidden(
            f"Only {study.owner} (who created study {study.id}) or the trial's run reports."
        )
    return study, t


async def trial_ids(session: AsyncSession, identity: Identity, run_id: int) -> tuple[int, int]:
    """(study id, trial number) of trial run ``run_id``, checked as :func:`report` does."""
    study, t = await trial_of_run(session, identity, run_id)
    return study.id, t.number


async def report(
    session: AsyncSession, cache: Any, identity: Identity, run_id: int, data: Any
) -> dict[str, Any]:
    """Trial run ``run_id`` reached ``{value, step}``: store the point (as its objective
    metric at that step) and answer ``{"prune": bool, "reason": ...}``. Call under the lock."""
    reject_unknown(data, {"value", "step"}, "trial report")
    value, step = _number(data.get("value"), "value"), _step(data.get("step"))
    study, t = await trial_of_run(session, identity, run_id)
    if t.state == "running":
        session.add(
            Metric(
                experiment_id=run_id,
                key=study.spec["objective"]["metric"][:255],
                value=value,
                step=step,
                timestamp=utcnow().timestamp(),
            )
        )
        rows = await trials_of(session, study.id)
        t = next(r for r in rows if r.id == t.id)
        await _judge(session, cache, study, t, {step: value}, rows)
        await session.flush()
    return {
        "prune": t.state == "pruned",
        "state": t.state,
        "reason": t.reason,
        "study_id": study.id,
        "number": t.number,
    }


MAX_BATCH = specs.MAX_BATCH


async def _end_reported(
    session: AsyncSession, cache: Any, study: Study, worker: Experiment, reported: list[Any]
) -> list[bool]:
    """End the trials a worker reports on (each ``{run_id, value | error}``); for each,
    whether it was still running (a report sent again finds it ended: nothing happens).
    Two reads for the lot, one write at the commit."""
    ids = []
    for prev in reported:
        if not isinstance(prev, dict):
            raise InvalidInput("'previous' must be {run_id, value} or {run_id, error} (or a list).")
        reject_unknown(prev, {"run_id", "value", "error"}, "previous trial")
        run_id = prev.get("run_id")
        if isinstance(run_id, bool) or not isinstance(run_id, int) or not 0 < run_id <= INT64_MAX:
            raise InvalidInput("'previous.run_id' is no trial of this worker.")
        if "error" not in prev:
            _number(prev.get("value"), "previous.value")
        ids.append(run_id)
    if not ids:
        return []
    trials = {
        t.run_id: t
        for t in await session.scalars(
            select(StudyTrial).where(StudyTrial.study_id == study.id, StudyTrial.run_id.in_(ids))
        )
    }
    found = {
        r.id: r
        for r in await session.scalars(
            select(Experiment).where(Experiment.id.in_(ids), Experiment.parent_id == worker.id)
        )
    }
    out = []
    metric = study.spec["objective"]["metric"][:255]
    with session.no_autoflush:
        for prev in reported:
            t, run = trials.get(prev["run_id"]), found.get(prev["run_id"])
            if t is None or run is None:
                raise InvalidInput("'previous.run_id' is no trial of this worker.")
            if t.state == "running" and run.status in ACTIVE_STATES:
                if "error" in prev:
                    runs.finish(run, "failed", reason=str(prev["error"])[:2000])
                    await _end_trial(session, study, t, "failed", reason=run.reason, cache=cache)
                else:
                    value = float(prev["value"])
                    session.add(
                        Metric(experiment_id=run.id, key=metric, value=value, step=0,
                               timestamp=utcnow().timestamp())
                    )  # fmt: skip
                    runs.finish(run, SUCCEEDED)
                    await _end_trial(session, study, t, "complete", value=value, cache=cache)
                out.append(True)
                continue
            if run.status in ACTIVE_STATES:  # pruned meanwhile: the run ends as the trial did
                runs.finish(run, SUCCEEDED, reason=t.reason)
            out.append(False)
    return out


async def next_trial(
    session: AsyncSession, cache: Any, identity: Identity, study_id: int, data: Any
) -> dict[str, Any]:
    """A worker of function study ``study_id`` ends the trials it reports on
    (``{"previous": {"run_id", "value" | "error"}}``, or a list of such) and gets the next
    ``count`` (default 1, at most 16) trials, or ``{"done": true}``. Idempotent: asked
    again before reporting, it gives the worker's unfinished trials again (new tokens),
    never others. The first trial's fields are also at the top level. Call under the lock.
    (The fast path: it reads only this worker's trials, never the whole study.)"""
    reject_unknown(data, {"previous", "count"}, "next-trial request")
    count = data.get("count", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BATCH:
        raise InvalidInput(f"'count' must be a whole number from 1 to {MAX_BATCH}.")
    study = await get(session, identity, study_id)
    worker = await session.get(Experiment, identity.run_id) if identity.run_id else None
    if (
        worker is None
        or worker.kind != trial_runs.WORKER_KIND
        or worker.status in FINAL_STATES
        or trial_runs.study_tag(study_id) not in worker.spec["meta"].get("tags", [])
    ):
        raise Forbidden(
            f"Only the worker runs of study {study_id} (with their tokens) take its trials."
        )
    prev = data.get("previous")
    reported = prev if isinstance(prev, list) else [] if prev is None else [prev]
    if len(reported) > MAX_BATCH:
        raise InvalidInput(f"At most {MAX_BATCH} trials in 'previous'.")
    ended = await _end_reported(session, cache, study, worker, reported)
    just_ended = bool(ended) and all(ended)  # it holds no other trial: none to give again
    if not just_ended:
        unfinished = list(
            (
                await session.scalars(
                    select(Experiment).where(
                        Experiment.parent_id == worker.id,
                        Experiment.kind == trial_runs.INLINE_KIND,
                        Experiment.status.in_(ACTIVE_STATES),
                    )
                )
            ).all()
        )
        if unfinished:  # answers lost on the way: the same trials again
            numbers = {
                t.run_id: t
                for t in await session.scalars(
                    select(StudyTrial).where(StudyTrial.run_id.in_([r.id for r in unfinished]))
                )
            }
            again = []
            for run in unfinished:
                token = runs.new_token(run.id)
                run.token_hash = runs.token_hash(token)
                again.append(_assignment(numbers[run.id], run, token))
            await session.flush()
            return _batch(again)
    stored = await session.scalar(
        select(func.count(StudyTrial.id)).where(StudyTrial.study_id == study_id)
    )
    stored = stored or 0
    timeout = study.spec["timeout"]
    room = trial_limit(study.spec) - stored
    if study.status != RUNNING or room <= 0 or (timeout is not None and _elapsed(study) >= timeout):
        await session.flush()
        return {"done": True, "trials": []}
    asked = [await _ask(session, cache, study, stored + i) for i in range(min(count, room))]
    made = await trial_runs.add_inline(
        session, study, worker, [(t.number, t.params) for t in asked]
    )
    out = []
    for t, (run, token) in zip(asked, made, strict=True):
        t.run_id = run.id
        out.append(_assignment(t, run, token))
    return _batch(out)


def _batch(trials: list[dict[str, Any]]) -> dict[str, Any]:
    return {**trials[0], "done": False, "trials": trials}


def _assignment(t: StudyTrial, run: Experiment, token: str) -> dict[str, Any]:
    return {"done": False, "number": t.number, "params": t.params, "run_id": run.id, "token": token}


# --- what the API shows --------------------------------------------------------------------


def best(study: Study, rows: list[StudyTrial]) -> StudyTrial | None:
    done = [
        t for t in rows if t.state == "complete" and t.value is not None and math.isfinite(t.value)
    ]
    if not done:
        return None
    pick = max if study.spec["objective"]["direction"] == "maximize" else min
    return pick(done, key=lambda t: (t.value, -t.number))


def trial_json(t: StudyTrial, run: Experiment | None = None) -> dict[str, Any]:
    out = {
        "number": t.number,
        "state": t.state,
        "params": t.params,
        "value": t.value,
        "reason": t.reason,
        "run_id": t.run_id,
        "intermediate": t.intermediate or {},
        "created_at": t.created_at.isoformat() if t.created_at else None,
        "finished_at": t.finished_at.isoformat() if t.finished_at else None,
    }
    if run is not None:
        out["run_status"] = run.status
        out["duration"] = runs.to_json(run, full=False)["duration"]
    return out


def to_json(
    study: Study,
    rows: list[StudyTrial],
    *,
    full: bool = False,
    run_of: dict[int, Experiment] | None = None,
) -> dict[str, Any]:
    counts = {s: 0 for s in TRIAL_STATES}
    for t in rows:
        counts[t.state] = counts.get(t.state, 0) + 1
    top = best(study, rows)
    out: dict[str, Any] = {
        "id": study.id,
        "name": study.name,
        "team": study.team,
        "owner": study.owner,
        "status": study.status,
        "reason": study.reason,
        "objective": study.spec["objective"],
        "sampler": study.spec["sampler"]["name"],
        "pruner": study.spec["pruner"]["name"],
        "trial_kind": study.spec["trial"]["kind"],
        "trials": study.spec["trials"],
        "trial_limit": trial_limit(study.spec),
        "parallelism": study.spec["parallelism"],
        "timeout": study.spec["timeout"],
        "elapsed": round(_elapsed(study), 3),
        "counts": counts,
        "best": trial_json(top) if top else None,
        "created_at": study.created_at.isoformat(),
        "finished_at": study.finished_at.isoformat() if study.finished_at else None,
    }
    if full:
        out["spec"] = study.spec
        out["items"] = [trial_json(t, (run_of or {}).get(t.run_id or 0)) for t in rows]
    return out


async def importances(session: AsyncSession, study: Study) -> dict[str, float]:
    return _engine().importances(study.spec, await trials_of(session, study.id))


async def count_by_team(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(
        select(Study.team, func.count(Study.id)).where(Study.status == RUNNING).group_by(Study.team)
    )
    return dict(rows.all())
