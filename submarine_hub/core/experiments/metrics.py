"""Metrics and params of a run: who logs them, the checks on a batch, idempotent
replays, points a run spooled while the service was away, and what the API reads back
(the latest value per key, a key's history thinned to ``max_points``).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.models import Experiment, LatestMetric, Metric, Param
from ..errors import Conflict, Forbidden, InvalidInput
from ..identity import Identity
from ..validation import INT64_MAX, is_finite_number
from .backend import FINAL_STATES
from .runs import get, token_reaches

log = logging.getLogger("submarine_hub.runs")

MAX_POINTS_PER_REQUEST = 10_000


def _check_write(identity: Identity, row: Experiment) -> None:
    if not token_reaches(identity, row):
        raise Forbidden(f"A run's token logs to its own run ({identity.run_id}), not to {row.id}.")
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(f"Only {row.owner} logs to run {row.id}.")


def check_artifact_write(identity: Identity, row: Experiment) -> None:
    """Who adds a file to a run's artifacts: its owner (or its token), while it lives."""
    _check_write(identity, row)
    if row.status in FINAL_STATES:
        raise Conflict(f"Run {row.id} has ended ({row.status}): its artifacts no longer change.")


def _batch(run_id: int, data: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The metric rows and params of a batch, checked."""
    if not isinstance(data, dict):
        raise InvalidInput('The body must be {"metrics": [...], "params": {...}}.')
    points = data.get("metrics") or []
    params = data.get("params") or {}
    if not isinstance(points, list) or not isinstance(params, dict):
        raise InvalidInput("'metrics' must be a list and 'params' an object.")
    if len(points) > MAX_POINTS_PER_REQUEST:
        raise InvalidInput(f"At most {MAX_POINTS_PER_REQUEST} points per request.")
    now = datetime.now(timezone.utc).timestamp()
    rows = []
    for i, p in enumerate(points):
        if not isinstance(p, dict) or not isinstance(p.get("key"), str) or not p["key"]:
            raise InvalidInput(f"metrics[{i}] needs a 'key' (a name) and a 'value'.")
        value = p.get("value")
        if not is_finite_number(value):
            raise InvalidInput(f"metrics[{i}] ({p['key']}): 'value' must be a finite number.")
        step = p.get("step", 0)
        if isinstance(step, bool) or not isinstance(step, int) or abs(step) > INT64_MAX:
            raise InvalidInput(f"metrics[{i}] ({p['key']}): 'step' must be a whole number.")
        when = p.get("timestamp")
        if when is not None and not is_finite_number(when):
            raise InvalidInput(
                f"metrics[{i}] ({p['key']}): 'timestamp' must be seconds since the epoch."
            )
        rows.append(
            {
                "experiment_id": run_id,
                "key": p["key"][:255],
                "value": float(value),
                "step": step,
                "timestamp": float(when or now),
            }
        )
    return rows, params


async def log_batch(session: AsyncSession, identity: Identity, run_id: int, data: Any) -> int:
    """Store ``{"metrics": [{key, value, step?, timestamp?}], "params": {k: v}}``.

    With ``"replay": true`` (a batch sent again: its answer was lost, or it comes from a
    spool) points the run already has (same key, step and timestamp) are skipped, so a
    retry never stores a point twice. Returns the points stored."""
    row = await get(session, identity, run_id)
    _check_write(identity, row)
    rows, params = _batch(run_id, data)
    replay = data.get("replay", False)
    if not isinstance(replay, bool):
        raise InvalidInput("'replay' must be true or false.")
    return await _store_points(session, run_id, rows, params, replay=replay)


async def _store_points(
    session: AsyncSession,
    run_id: int,
    rows: list[dict[str, Any]],
    params: dict[str, Any],
    *,
    replay: bool,
) -> int:
    if rows and replay:
        have = {
            (k, st, ts)
            for k, st, ts in await session.execute(
                select(Metric.key, Metric.step, Metric.timestamp).where(
                    Metric.experiment_id == run_id,
                    # the batch's keys and steps: an index range (run, key, step)
                    Metric.key.in_({r["key"] for r in rows}),
                    Metric.step >= min(r["step"] for r in rows),
                    Metric.step <= max(r["step"] for r in rows),
                    Metric.timestamp >= min(r["timestamp"] for r in rows),
                    Metric.timestamp <= max(r["timestamp"] for r in rows),
                )
            )
        }
        fresh = []
        for r in rows:
            point = (r["key"], r["step"], r["timestamp"])
            if point not in have:
                have.add(point)
                fresh.append(r)
        rows = fresh
    if rows:
        await session.execute(cast(Table, Metric.__table__).insert(), rows)
        await _keep_latest(session, run_id, rows)
    for key, value in params.items():
        await session.merge(Param(experiment_id=run_id, key=str(key)[:255], value=str(value)))
    return len(rows)


async def _keep_latest(session: AsyncSession, run_id: int, rows: list[dict[str, Any]]) -> None:
    """Update the run's latest point per key (what run search reads): a point replaces it
    when its step is at least the stored one's (same step: the one logged last wins, as in
    :func:`metrics_summary`)."""
    best: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["key"] not in best or r["step"] >= best[r["key"]]["step"]:
            best[r["key"]] = r
    for key, r in best.items():
        have = await session.get(LatestMetric, (run_id, key))
        if have is None:
            session.add(
                LatestMetric(
                    experiment_id=run_id,
                    key=key,
                    value=r["value"],
                    step=r["step"],
                    timestamp=r["timestamp"],
                )
            )
        elif r["step"] >= have.step:
            have.value, have.step, have.timestamp = r["value"], r["step"], r["timestamp"]
    await session.flush()


async def take_spool(session: AsyncSession, row: Experiment, folder: Path) -> int:
    """Store the points a run's processes spooled in its ``folder`` (they could not reach
    the service before they exited; see ``client/spool.py``), skipping those it has, and
    remove the files. Only files naming this run count. Returns the points stored."""
    from ...client import spool

    stored, taken = 0, []
    for path, body in list(spool.pending(folder)):
        if body["run_id"] != row.id:
            continue
        points, params = body.get("points") or [], body.get("params") or {}
        n = MAX_POINTS_PER_REQUEST
        try:
            async with session.begin_nested():
                for i in range(0, max(len(points), 1), n):
                    rows, some = _batch(
                        row.id, {"metrics": points[i : i + n], "params": params if i == 0 else {}}
                    )
                    stored += await _store_points(session, row.id, rows, some, replay=True)
        except (InvalidInput, TypeError, ValueError) as e:
            log.warning("run %s: spooled metrics in %s refused: %s", row.id, path, e)
            continue
        taken.append(path)
    if taken:  # removed once they are stored for good (a rollback leaves them for later)

        def remove(_session: Any) -> None:
            for path in taken:
                spool.done(path)

        event.listen(session.sync_session, "after_commit", remove, once=True)
        log.info("run %s: %d spooled metric point(s) taken in", row.id, stored)
    return stored


async def metrics_summary(session: AsyncSession, run_ids: list[int]) -> dict[int, dict[str, float]]:
    """The latest value of every metric of each run: the highest step, then the last
    logged (batches may arrive out of order, so not simply the last row stored)."""
    if not run_ids:
        return {}
    top = (
        select(Metric.experiment_id, Metric.key, func.max(Metric.step).label("step"))
        .where(Metric.experiment_id.in_(run_ids))
        .group_by(Metric.experiment_id, Metric.key)
        .subquery()
    )
    last = (
        select(func.max(Metric.id).label("mid"))
        .join(
            top,
            (Metric.experiment_id == top.c.experiment_id)
            & (Metric.key == top.c.key)
            & (Metric.step == top.c.step),
        )
        .group_by(Metric.experiment_id, Metric.key)
        .subquery()
    )
    rows = await session.execute(
        select(Metric.experiment_id, Metric.key, Metric.value).join(last, Metric.id == last.c.mid)
    )
    out: dict[int, dict[str, float]] = {}
    for run_id, key, value in rows:
        out.setdefault(run_id, {})[key] = value
    return out


async def metric_history(
    session: AsyncSession, run_id: int, key: str, max_points: int = 1000
) -> list[dict[str, Any]]:
    rows = (
        await session.execute(
            select(Metric.step, Metric.value, Metric.timestamp)
            .where(Metric.experiment_id == run_id, Metric.key == key)
            .order_by(Metric.step, Metric.id)
        )
    ).all()
    stride = max(1, math.ceil(len(rows) / max_points))
    picked = list(rows[::stride])
    if rows and picked[-1] is not rows[-1]:
        picked.append(rows[-1])
    return [{"step": s, "value": v, "timestamp": t} for s, v, t in picked]


async def params_of(session: AsyncSession, run_id: int) -> dict[str, str]:
    rows = await session.execute(
        select(Param.key, Param.value).where(Param.experiment_id == run_id)
    )
    return dict(rows.all())
