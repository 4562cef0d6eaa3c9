"""MLflow 3's logged models (``m-<hex>``): what ``mlflow.<flavor>.log_model`` records.

Their files go to the artifact store under ``mlflow-models/<team>/<model id>/`` (through
the ``mlflow-artifacts`` proxy); registering one as a version copies them into the
registry's own storage of that version.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.mlflow_tables import MlflowLoggedModel
from ..errors import InvalidInput, NotFound
from ..identity import Identity
from . import tracking
from .filters import parse_filter
from .tracking import _str, _tag_list, check_team, ms

PENDING, READY, FAILED = "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"


def storage_prefix(row: MlflowLoggedModel) -> str:
    return f"mlflow-models/{row.team}/{row.id}"


async def create(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> MlflowLoggedModel:
    exp = await tracking.get_experiment(session, identity, team, data.get("experiment_id"))
    run_id = data.get("source_run_id")
    source = None
    if run_id not in (None, ""):
        source = (await tracking.get_run_row(session, identity, team, run_id)).id
    params = {p["key"]: str(p.get("value", "")) for p in _params(data.get("params"))}
    row = MlflowLoggedModel(
        id=f"m-{uuid.uuid4().hex}",
        team=team,
        owner=identity.name,
        mlflow_experiment_id=exp.id,
        name=_str(data, "name") or "model",
        source_run_id=source,
        model_type=_str(data, "model_type"),
        status=PENDING,
        tags=_tag_list(data.get("tags")),
        params=params,
    )
    session.add(row)
    await session.flush()
    return row


def _params(value: Any) -> list[dict[str, Any]]:
    if value in (None, ""):
        return []
    if not isinstance(value, list) or not all(
        isinstance(p, dict) and isinstance(p.get("key"), str) for p in value
    ):
        raise InvalidInput("'params' must be a list of {key, value}.")
    return value


async def get(
    session: AsyncSession, identity: Identity, team: str, model_id: Any
) -> MlflowLoggedModel:
    check_team(identity, team)
    row = await session.get(MlflowLoggedModel, str(model_id or ""))
    if row is None or row.team != team:
        raise NotFound(f"Logged model with ID '{model_id}' not found in team {team!r}.")
    return row


async def update(
    session: AsyncSession,
    identity: Identity,
    team: str,
    model_id: str,
    data: dict[str, Any],
    action: str,
) -> MlflowLoggedModel:
    row = await get(session, identity, team, model_id)
    if action == "finalize":
        status = data.get("status")
        if status not in (READY, FAILED):
            raise InvalidInput(f"'status' must be {READY} or {FAILED}.")
        row.status = status
    elif action == "set-tags":
        row.tags = {**row.tags, **_tag_list(data.get("tags"))}
    elif action == "delete-tag":
        row.tags = {k: v for k, v in row.tags.items() if k != data.get("tag_key")}
    elif action == "params":
        more = {p["key"]: str(p.get("value", "")) for p in _params(data.get("params"))}
        row.params = {**row.params, **more}
    row.updated_at = datetime.now(timezone.utc)
    await session.flush()
    return row


async def search_models(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> tuple[list[MlflowLoggedModel], str | None]:
    check_team(identity, team)
    q = select(MlflowLoggedModel).where(MlflowLoggedModel.team == team)
    exp_ids = data.get("experiment_ids") or []
    if exp_ids:
        exps = [await tracking.get_experiment(session, identity, team, e) for e in exp_ids]
        q = q.where(MlflowLoggedModel.mlflow_experiment_id.in_([e.id for e in exps]))
    for c in parse_filter(_str(data, "filter")):
        column = {
            "source_run_id": MlflowLoggedModel.source_run_id,
            "name": MlflowLoggedModel.name,
            "model_id": MlflowLoggedModel.id,
        }.get(c.key)
        if column is None or c.op != "=":
            raise InvalidInput("Logged models are searched by source_run_id, name or model_id (=).")
        value: Any = c.value
        if c.key == "source_run_id":
            value = int(value) if str(value).isdigit() and len(str(value)) < 19 else -1
        q = q.where(column == value)
    limit = tracking.max_results(data.get("max_results"), 100)
    offset = tracking.parse_page_token(data.get("page_token"))
    q = q.order_by(MlflowLoggedModel.created_at.desc())
    rows = list((await session.scalars(q.offset(offset).limit(limit + 1))).all())
    token = tracking.page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


async def to_json(session: AsyncSession, row: MlflowLoggedModel) -> dict[str, Any]:
    exp = await session.get(tracking.MlflowExperiment, row.mlflow_experiment_id)
    info: dict[str, Any] = {
        "model_id": row.id,
        "experiment_id": tracking.experiment_id(exp) if exp else tracking.DEFAULT_ID,
        "name": row.name,
        "artifact_uri": f"mlflow-artifacts:/models/{row.id}",
        "creation_timestamp_ms": ms(row.created_at),
        "last_updated_timestamp_ms": ms(row.updated_at),
        "status": row.status,
        "tags": [{"key": k, "value": v} for k, v in row.tags.items()],
    }
    if row.model_type:
        info["model_type"] = row.model_type
    if row.source_run_id is not None:
        info["source_run_id"] = str(row.source_run_id)
    return {
        "info": info,
        "data": {
            "params": [{"key": k, "value": v} for k, v in row.params.items()],
            "metrics": [],
        },
    }
