"""MLflow experiments and runs on the platform's runs, metrics and params.

- An MLflow experiment is a named group of a team's runs (:class:`MlflowExperiment`);
  experiment ``"0"`` is the team's ``Default`` one, made when first used. A run
  submitted through the platform (not through MLflow) is in ``Default``.
- ``runs/create`` starts an *interactive* platform run (no process of the platform's;
  the MLflow client ends it with ``runs/update``), owned by the caller, in the team.
- ``runs/update`` on a run the platform executes (an experiment, a notebook job: the
  client attached to it through ``MLFLOW_RUN_ID``) renames it but never changes its
  status: the platform ends it when its processes end.
- Metrics, params go to the platform's own tables (``core/experiments/metrics.py``), so
  the panel, CLI, compare and the SDK see them; tags are key-value (MLflow's).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from ...store.mlflow_tables import MlflowExperiment, MlflowLoggedModel, MlflowRun, MlflowRunTag
from ...store.models import Experiment, Metric, Param
from .. import run_search
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..experiments import metrics as run_metrics
from ..experiments import runs
from ..experiments.backend import FINAL_STATES
from ..identity import Identity
from ..validation import INT64_MAX, is_finite_number
from .filters import _compare, parse_filter
from .inputs import dataset_inputs, model_inputs

DEFAULT_NAME = "Default"
DEFAULT_ID = "0"
ACTIVE, DELETED = "active", "deleted"
MLFLOW_CLIENT = "mlflow"  # placement["client"] of a run MLflow's client created
STATUS = {
    "pending": "SCHEDULED",
    "running": "RUNNING",
    "succeeded": "FINISHED",
    "failed": "FAILED",
    "killed": "KILLED",
}
FROM_STATUS = {"FINISHED": "succeeded", "FAILED": "failed", "KILLED": "killed"}
MAX_RESULTS = 50_000
TOUCH_EVERY = 60.0  # seconds: how often a log call records a run's activity, at most
#: MLflow's tag showing why the platform ended a run (its reason, as our API shows it)
END_REASON_TAG = "submarine.end_reason"


def check_team(identity: Identity, team: str) -> None:
    """A caller outside ``team`` (a run token of another team included) sees nothing."""
    if not (identity.admin or identity.is_member(team)):
        raise NotFound(f"No team {team!r} that you can see (the tracking URI names it).")


def ms(when: datetime | None) -> int | None:
    return int(when.timestamp() * 1000) if when else None


def _str(data: dict[str, Any], key: str, *, required: bool = False, default: str = "") -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise InvalidInput(f"Missing value for required parameter '{key}'.")
        return default
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be a string.")
    return value


def _tag_list(value: Any, what: str = "tags") -> dict[str, str]:
    if value in (None, ""):
        return {}
    if not isinstance(value, list):
        raise InvalidInput(f"'{what}' must be a list of {{key, value}}.")
    out = {}
    for i, t in enumerate(value):
        if not isinstance(t, dict) or not isinstance(t.get("key"), str) or not t["key"]:
            raise InvalidInput(f"{what}[{i}] needs a 'key'.")
        if len(t["key"]) > 250:
            raise InvalidInput(f"{what}[{i}]: a key has at most 250 characters.")
        out[t["key"]] = str(t.get("value", ""))
    return out


def page_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def parse_page_token(token: Any) -> int:
    if token in (None, ""):
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(str(token).encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        raise InvalidInput("Invalid page_token.") from None
    if not isinstance(offset, int) or not 0 <= offset <= INT64_MAX:
        raise InvalidInput("Invalid page_token.")
    return offset


def max_results(value: Any, default: int = 1000) -> int:
    if value in (None, ""):
        return default
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("'max_results' must be a whole number.") from None
    if not 1 <= n <= MAX_RESULTS:
        raise InvalidInput(f"'max_results' must be between 1 and {MAX_RESULTS}.")
    return n


# --- experiments ----------------------------------------------------------------------


async def default_experiment(session: AsyncSession, team: str, owner: str) -> MlflowExperiment:
    row = await session.scalar(
        select(MlflowExperiment).where(
            MlflowExperiment.team == team, MlflowExperiment.name == DEFAULT_NAME
        )
    )
    if row is None:
        try:
            async with session.begin_nested():  # another request may make it at once
                row = MlflowExperiment(team=team, name=DEFAULT_NAME, owner=owner, tags={})
                session.add(row)
        except IntegrityError:
            return await default_experiment(session, team, owner)
    return row


def experiment_id(row: MlflowExperiment) -> str:
    return DEFAULT_ID if row.name == DEFAULT_NAME else str(row.id)


async def get_experiment(
    session: AsyncSession, identity: Identity, team: str, exp_id: Any
) -> MlflowExperiment:
    check_team(identity, team)
    if exp_id in (None, ""):
        raise InvalidInput("Missing value for required parameter 'experiment_id'.")
    text = str(exp_id)
    if text == DEFAULT_ID:
        return await default_experiment(session, team, identity.name)
    if not text.isdigit() or len(text) > 18:
        raise NotFound(f"No experiment with id {text!r} in team {team!r}.")
    row = await session.get(MlflowExperiment, int(text))
    if row is None or row.team != team:
        raise NotFound(f"No experiment with id {text!r} in team {team!r}.")
    return row


async def experiment_by_name(
    session: AsyncSession, identity: Identity, team: str, name: str
) -> MlflowExperiment:
    check_team(identity, team)
    if name == DEFAULT_NAME:
        return await default_experiment(session, team, identity.name)
    row = await session.scalar(
        select(MlflowExperiment).where(MlflowExperiment.team == team, MlflowExperiment.name == name)
    )
    if row is None:
        raise NotFound(f"Could not find experiment with name '{name}' in team {team!r}.")
    return row


async def create_experiment(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> MlflowExperiment:
    check_team(identity, team)
    name = _str(data, "name", required=True)
    if len(name) > 500:
        raise InvalidInput("An experiment name has at most 500 characters.")
    if name == DEFAULT_NAME:
        await default_experiment(session, team, identity.name)
    exists = await session.scalar(
        select(MlflowExperiment.id).where(
            MlflowExperiment.team == team, MlflowExperiment.name == name
        )
    )
    if exists:
        raise Conflict(f"Experiment '{name}' already exists in team {team!r}.")
    row = MlflowExperiment(
        team=team, name=name, owner=identity.name, tags=_tag_list(data.get("tags"))
    )
    session.add(row)
    await session.flush()
    return row


def experiment_json(row: MlflowExperiment) -> dict[str, Any]:
    eid = experiment_id(row)
    return {
        "experiment_id": eid,
        "name": row.name,
        "artifact_location": f"mlflow-artifacts:/experiments/{eid}",
        "lifecycle_stage": row.lifecycle_stage,
        "creation_time": ms(row.created_at),
        "last_update_time": ms(row.updated_at),
        "tags": [{"key": k, "value": v} for k, v in sorted(row.tags.items())],
    }


async def search_experiments(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> tuple[list[MlflowExperiment], str | None]:
    check_team(identity, team)
    await default_experiment(session, team, identity.name)
    q = select(MlflowExperiment).where(MlflowExperiment.team == team)
    view = data.get("view_type") or "ACTIVE_ONLY"
    if view == "ACTIVE_ONLY":
        q = q.where(MlflowExperiment.lifecycle_stage == ACTIVE)
    elif view == "DELETED_ONLY":
        q = q.where(MlflowExperiment.lifecycle_stage == DELETED)
    elif view != "ALL":
        raise InvalidInput("'view_type' must be ACTIVE_ONLY, DELETED_ONLY or ALL.")
    for c in parse_filter(data.get("filter")):
        if c.entity == "attributes" and c.key == "run_name":
            c.key = "name"
        if c.key != "name" or c.entity not in ("attributes", "tags"):
            raise InvalidInput("Experiments are searched by name only (name = / LIKE '...').")
        q = q.where(_compare(MlflowExperiment.name, c.op, c.value))
    limit = max_results(data.get("max_results"), 1000)
    offset = parse_page_token(data.get("page_token"))
    q = q.order_by(MlflowExperiment.updated_at.desc(), MlflowExperiment.id.desc())
    rows = list((await session.scalars(q.offset(offset).limit(limit + 1))).all())
    token = page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


def _check_owner_or_admin(identity: Identity, owner: str, what: str) -> None:
    # team members share their experiments, as on MLflow's own server; a run token
    # changes only what its run logs
    if identity.confined:
        raise Forbidden(f"A run's token does not change {what}.")


async def update_experiment(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any], action: str
) -> None:
    row = await get_experiment(session, identity, team, data.get("experiment_id"))
    _check_owner_or_admin(identity, row.owner, f"experiment {row.name!r}")
    if action == "update":
        name = _str(data, "new_name", required=True)
        if row.name == DEFAULT_NAME:
            raise InvalidInput("The Default experiment keeps its name.")
        if await session.scalar(
            select(MlflowExperiment.id).where(
                MlflowExperiment.team == team, MlflowExperiment.name == name
            )
        ):
            raise Conflict(f"Experiment '{name}' already exists in team {team!r}.")
        row.name = name
    elif action in ("delete", "restore"):
        if row.name == DEFAULT_NAME and action == "delete":
            raise InvalidInput("The Default experiment cannot be deleted.")
        row.lifecycle_stage = DELETED if action == "delete" else ACTIVE
    elif action == "set-experiment-tag":
        key = _str(data, "key", required=True)
        row.tags = {**row.tags, key: str(data.get("value", ""))}
    elif action == "delete-experiment-tag":
        key = _str(data, "key", required=True)
        row.tags = {k: v for k, v in row.tags.items() if k != key}
    row.updated_at = datetime.now(timezone.utc)
    await session.flush()


# --- runs -----------------------------------------------------------------------------


def parse_run_id(value: Any) -> int:
    text = str(value or "")
    if not text:
        raise InvalidInput("Missing value for required parameter 'run_id'.")
    if not text.isdigit() or len(text) > 18 or int(text) == 0:
        raise NotFound(f"Run '{text}' not found.")
    return int(text)


async def get_run_row(
    session: AsyncSession, identity: Identity, team: str, run_id: Any
) -> Experiment:
    check_team(identity, team)
    rid = parse_run_id(run_id)
    try:
        row = await runs.get(session, identity, rid)
    except NotFound:
        raise NotFound(f"Run '{rid}' not found in team {team!r}.") from None
    if row.team != team:
        raise NotFound(f"Run '{rid}' not found in team {team!r}.")
    return row


async def create_run(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> Experiment:
    exp = await get_experiment(session, identity, team, data.get("experiment_id") or DEFAULT_ID)
    if exp.lifecycle_stage != ACTIVE:
        raise InvalidInput(f"Experiment {experiment_id(exp)} is deleted; restore it first.")
    tags = _tag_list(data.get("tags"))
    name = _str(data, "run_name") or tags.get("mlflow.runName") or "mlflow-run"
    row = await runs.start_interactive(session, identity, {"name": name[:255], "team": team})
    row.placement = {**(row.placement or {}), "client": MLFLOW_CLIENT}
    if identity.run_id is not None and identity.run_id != row.id:
        # made with a platform run's token (inside that run): it ends with that run
        row.placement["parent_run"] = identity.run_id
    start = data.get("start_time")
    if is_finite_number(start) and 0 < start < 2**53:
        row.started_at = datetime.fromtimestamp(start / 1000, timezone.utc)
    session.add(MlflowRun(run_id=row.id, mlflow_experiment_id=exp.id, lifecycle_stage=ACTIVE))
    tags.setdefault("mlflow.runName", row.name)
    tags.setdefault("mlflow.user", _str(data, "user_id") or identity.name)
    for key, value in tags.items():
        session.add(MlflowRunTag(run_id=row.id, key=key, value=value))
    await session.flush()
    return row


def _is_mlflow_run(row: Experiment) -> bool:
    return row.kind == runs.INTERACTIVE and (row.placement or {}).get("client") == MLFLOW_CLIENT


async def update_run(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> Experiment:
    row = await writable_run(session, identity, team, data.get("run_id") or data.get("run_uuid"))
    name = _str(data, "run_name")
    if name:
        row.name = name[:255]
        await set_tags(session, row.id, {"mlflow.runName": row.name})
    status = data.get("status")
    if status not in (None, "") and status not in (*STATUS.values(),):
        raise InvalidInput(f"'status' must be one of {', '.join(STATUS.values())}.")
    if status in FROM_STATUS and _is_mlflow_run(row) and row.status not in FINAL_STATES:
        runs.finish(row, FROM_STATUS[status])
        end = data.get("end_time")
        if is_finite_number(end) and 0 < end < 2**53:
            row.finished_at = datetime.fromtimestamp(end / 1000, timezone.utc)
    await session.flush()
    return row


async def writable_run(
    session: AsyncSession, identity: Identity, team: str, run_id: Any
) -> Experiment:
    """The run ``run_id`` of ``team``, for a caller who may change it (who logs to it);
    an MLflow-created run counts the call as activity (:func:`reap`)."""
    row = await get_run_row(session, identity, team, run_id)
    _check_writer(identity, row)
    touch(row)
    return row


def touch(row: Experiment, now: datetime | None = None) -> None:
    """Record that MLflow's client used the run (at most once a minute: a log call does
    not rewrite the run's row every time)."""
    if not _is_mlflow_run(row) or row.status in FINAL_STATES:
        return
    now = now or datetime.now(timezone.utc)
    last = _seen(row)
    if last is None or (now - last).total_seconds() >= TOUCH_EVERY:
        row.placement = {**(row.placement or {}), "heartbeat_at": now.isoformat()}


def _seen(row: Experiment) -> datetime | None:
    text = (row.placement or {}).get("heartbeat_at")
    seen = datetime.fromisoformat(text) if text else row.started_at or row.created_at
    if seen is not None and seen.tzinfo is None:
        seen = seen.replace(tzinfo=timezone.utc)
    return seen


def _check_writer(identity: Identity, row: Experiment) -> None:
    """Who changes a run through MLflow: as who logs to it (its owner, or its token)."""
    if not runs.token_reaches(identity, row):
        raise Forbidden(f"A run's token logs to its own run ({identity.run_id}), not to {row.id}.")
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(f"Only {row.owner} changes run {row.id}.")


async def set_lifecycle(
    session: AsyncSession, identity: Identity, team: str, run_id: Any, stage: str
) -> None:
    row = await writable_run(session, identity, team, run_id)
    link = await session.get(MlflowRun, row.id)
    if link is None:
        exp = await default_experiment(session, team, identity.name)
        link = MlflowRun(run_id=row.id, mlflow_experiment_id=exp.id)
        session.add(link)
    link.lifecycle_stage = stage
    await session.flush()


async def set_tags(session: AsyncSession, run_id: int, tags: dict[str, str]) -> None:
    for key, value in tags.items():
        await session.merge(MlflowRunTag(run_id=run_id, key=key, value=value))


async def log(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any], kind: str
) -> None:
    """``log-metric``, ``log-parameter``, ``set-tag``, ``delete-tag``, ``log-batch``."""
    row = await writable_run(session, identity, team, data.get("run_id") or data.get("run_uuid"))
    metrics: list[dict[str, Any]] = []
    params: list[dict[str, Any]] = []
    tags: list[dict[str, Any]] = []
    if kind == "log-metric":
        metrics = [data]
    elif kind == "log-parameter":
        params = [data]
    elif kind == "set-tag":
        tags = [data]
    elif kind == "delete-tag":
        key = _str(data, "key", required=True)
        await session.execute(
            delete(MlflowRunTag).where(MlflowRunTag.run_id == row.id, MlflowRunTag.key == key)
        )
        return
    else:
        metrics, params, tags = (data.get(k) or [] for k in ("metrics", "params", "tags"))
        if not all(isinstance(x, list) for x in (metrics, params, tags)):
            raise InvalidInput("'metrics', 'params' and 'tags' must be lists.")
        if len(metrics) > 1000 or len(params) > 100 or len(tags) > 100:
            raise InvalidInput("A batch holds at most 1000 metrics, 100 params and 100 tags.")
    points = []
    for i, m in enumerate(metrics):
        if not isinstance(m, dict):
            raise InvalidInput(f"metrics[{i}] must be an object.")
        ts = m.get("timestamp")
        step = m.get("step", 0)
        if isinstance(step, str) and step.lstrip("-").isdigit():
            step = int(step)
        if isinstance(ts, str) and ts.isdigit():
            ts = int(ts)
        points.append(
            {
                "key": _str(m, "key", required=True),
                "value": m.get("value"),
                "step": step if step is not None else 0,
                "timestamp": ts / 1000 if is_finite_number(ts) else None,
            }
        )
    values = {}
    for i, p in enumerate(params):
        if not isinstance(p, dict):
            raise InvalidInput(f"params[{i}] must be an object.")
        key = _str(p, "key", required=True)
        if len(key) > 250:
            raise InvalidInput(f"params[{i}]: a key has at most 250 characters.")
        values[key] = str(p.get("value", ""))[:6000]
    if points or values:
        # a point MLflow's client sends again (a retry) is stored once, as MLflow's store does
        await run_metrics.log_batch(
            session, identity, row.id, {"metrics": points, "params": values, "replay": True}
        )
    if tags:
        await set_tags(session, row.id, _tag_list(tags))


async def metric_history(
    session: AsyncSession, identity: Identity, team: str, run_id: Any, key: str, limit: int
) -> list[dict[str, Any]]:
    row = await get_run_row(session, identity, team, run_id)
    if not key:
        raise InvalidInput("Missing value for required parameter 'metric_key'.")
    rows = await session.execute(
        select(Metric.value, Metric.timestamp, Metric.step)
        .where(Metric.experiment_id == row.id, Metric.key == key)
        .order_by(Metric.step, Metric.timestamp, Metric.id)
        .limit(limit)
    )
    return [
        {"key": key, "value": v, "timestamp": int(t * 1000), "step": s} for v, t, s in rows.all()
    ]


# --- reading runs back ----------------------------------------------------------------


async def runs_json(
    session: AsyncSession, team: str, rows: list[Experiment]
) -> list[dict[str, Any]]:
    """Runs as MLflow's ``Run`` messages (info, data, inputs, outputs), read in a few
    queries for the whole page."""
    if not rows:
        return []
    ids = [r.id for r in rows]
    links = {
        r.run_id: r
        for r in (await session.scalars(select(MlflowRun).where(MlflowRun.run_id.in_(ids)))).all()
    }
    exp_names = dict(
        (
            await session.execute(
                select(MlflowExperiment.id, MlflowExperiment.name).where(
                    MlflowExperiment.id.in_({link.mlflow_experiment_id for link in links.values()})
                )
            )
        ).all()
    )
    tags: dict[int, dict[str, str]] = {}
    for rid, k, v in await session.execute(
        select(MlflowRunTag.run_id, MlflowRunTag.key, MlflowRunTag.value).where(
            MlflowRunTag.run_id.in_(ids)
        )
    ):
        tags.setdefault(rid, {})[k] = v
    params: dict[int, dict[str, str]] = {}
    for rid, k, v in await session.execute(
        select(Param.experiment_id, Param.key, Param.value).where(Param.experiment_id.in_(ids))
    ):
        params.setdefault(rid, {})[k] = v
    latest = await latest_points(session, ids)
    outputs: dict[int, list[str]] = {}
    for mid, source in await session.execute(
        select(MlflowLoggedModel.id, MlflowLoggedModel.source_run_id)
        .where(MlflowLoggedModel.source_run_id.in_(ids))
        .order_by(MlflowLoggedModel.created_at)
    ):
        if source is not None:
            outputs.setdefault(source, []).append(mid)
    out = []
    for row in rows:
        link = links.get(row.id)
        if link is not None and exp_names.get(link.mlflow_experiment_id) != DEFAULT_NAME:
            eid = str(link.mlflow_experiment_id)
        else:
            eid = DEFAULT_ID
        own_tags = {"mlflow.runName": row.name, "mlflow.user": row.owner, **tags.get(row.id, {})}
        for label in row.spec.get("meta", {}).get("tags", []) if row.spec else []:
            own_tags.setdefault(f"submarine.tag.{label}", "")
        if row.reason and row.status in FINAL_STATES:
            own_tags.setdefault(END_REASON_TAG, row.reason)
        info = {
            "run_id": str(row.id),
            "run_uuid": str(row.id),
            "run_name": row.name,
            "experiment_id": eid,
            "user_id": row.owner,
            "status": STATUS.get(row.status, "RUNNING"),
            "start_time": ms(row.started_at or row.created_at),
            "artifact_uri": f"mlflow-artifacts:/runs/{row.id}",
            "lifecycle_stage": link.lifecycle_stage if link else ACTIVE,
        }
        if row.finished_at:
            info["end_time"] = ms(row.finished_at)
        out.append(
            {
                "info": info,
                "data": {
                    "metrics": latest.get(row.id, []),
                    "params": [{"key": k, "value": v} for k, v in params.get(row.id, {}).items()],
                    "tags": [{"key": k, "value": v} for k, v in own_tags.items()],
                },
                "inputs": {
                    "dataset_inputs": dataset_inputs(row),
                    "model_inputs": model_inputs(row),
                },
                "outputs": {
                    "model_outputs": [{"model_id": m, "step": 0} for m in outputs.get(row.id, [])]
                },
            }
        )
    return out


async def latest_points(session: AsyncSession, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Each run's latest point of every metric (highest step, then last logged)."""
    out: dict[int, list[dict[str, Any]]] = {}
    seen: set[tuple[int, str]] = set()
    q = (
        select(Metric.experiment_id, Metric.key, Metric.value, Metric.timestamp, Metric.step)
        .where(Metric.experiment_id.in_(ids))
        .order_by(Metric.experiment_id, Metric.key, Metric.step.desc(), Metric.id.desc())
    )
    for rid, key, value, ts, step in await session.execute(q):
        if (rid, key) in seen:
            continue
        seen.add((rid, key))
        out.setdefault(rid, []).append(
            {"key": key, "value": value, "timestamp": int(ts * 1000), "step": step}
        )
    return out


async def search_runs(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> tuple[list[Experiment], str | None]:
    """MLflow's ``runs/search`` in ``team``: experiments, filter, view type, order, pages."""
    check_team(identity, team)
    exp_ids = data.get("experiment_ids") or []
    if not isinstance(exp_ids, list) or not exp_ids:
        raise InvalidInput("'experiment_ids' must name at least one experiment.")
    exps = [await get_experiment(session, identity, team, e) for e in exp_ids]
    named = [e.id for e in exps if e.name != DEFAULT_NAME]
    in_default = any(e.name == DEFAULT_NAME for e in exps)
    default_id = (await default_experiment(session, team, identity.name)).id
    q: Select[Any] = select(Experiment).where(Experiment.team == team)
    q = q.outerjoin(MlflowRun, MlflowRun.run_id == Experiment.id)
    where: list[ColumnElement[bool]] = []
    if named:
        where.append(MlflowRun.mlflow_experiment_id.in_(named))
    if in_default:
        where.append(MlflowRun.run_id.is_(None))
        where.append(MlflowRun.mlflow_experiment_id == default_id)
    q = q.where(or_(*where))
    view = data.get("run_view_type") or "ACTIVE_ONLY"
    if view == "ACTIVE_ONLY":
        q = q.where(or_(MlflowRun.lifecycle_stage.is_(None), MlflowRun.lifecycle_stage == ACTIVE))
    elif view == "DELETED_ONLY":
        q = q.where(MlflowRun.lifecycle_stage == DELETED)
    elif view != "ALL":
        raise InvalidInput("'run_view_type' must be ACTIVE_ONLY, DELETED_ONLY or ALL.")
    order = data.get("order_by") or []
    if not isinstance(order, list) or not all(isinstance(o, str) for o in order):
        raise InvalidInput("'order_by' must be a list of strings like 'metrics.acc DESC'.")
    # MLflow's filter and order_by syntax: the platform's one run search (core/run_search)
    q = run_search.apply(q, _str(data, "filter") or None, order or None)
    limit = max_results(data.get("max_results"), 1000)
    offset = parse_page_token(data.get("page_token"))
    rows = list((await session.scalars(q.offset(offset).limit(limit + 1))).unique().all())
    token = page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


# --- runs whose client is gone --------------------------------------------------------


async def reap(session: AsyncSession, idle_timeout: float) -> list[Experiment]:
    """End the MLflow-created runs still RUNNING whose client is gone, saying why:

    - one made inside a platform run (with its run token) ends when that run ends:
      KILLED if it was killed, else FAILED (its process stopped without ending it);
    - any other (interactive: a notebook, a laptop) that had no call for
      ``idle_timeout`` seconds (0: never) is FAILED.

    MLflow's client sends no heartbeat; its calls (log, set-tag, update...) count as one.
    """
    rows = (
        await session.scalars(
            select(Experiment).where(
                Experiment.status == runs.RUNNING, Experiment.kind == runs.INTERACTIVE
            )
        )
    ).all()
    mine = [r for r in rows if _is_mlflow_run(r)]
    parents = {p for r in mine if (p := (r.placement or {}).get("parent_run"))}
    ended_parents = {
        pid: status
        for pid, status in await session.execute(
            select(Experiment.id, Experiment.status).where(
                Experiment.id.in_(parents), Experiment.status.in_(FINAL_STATES)
            )
        )
    }
    now = datetime.now(timezone.utc)
    ended = []
    for row in mine:
        parent = (row.placement or {}).get("parent_run")
        if parent is not None:
            if parent in ended_parents:
                status = ended_parents[parent]
                runs.finish(
                    row,
                    "killed" if status == "killed" else "failed",
                    reason=(
                        f"its platform run {parent} ended ({status}) while this MLflow run "
                        "was still RUNNING: the process logging to it stopped without "
                        "ending it"
                    ),
                )
                ended.append(row)
            continue
        seen = _seen(row)
        if idle_timeout > 0 and seen is not None and (now - seen).total_seconds() > idle_timeout:
            runs.finish(
                row,
                "failed",
                reason=(
                    f"no MLflow call since {seen.isoformat(timespec='seconds')} "
                    f"(idle for more than {idle_timeout:g} s): its client stopped without "
                    "ending the run"
                ),
            )
            ended.append(row)
    if ended:
        await session.flush()
    return ended
