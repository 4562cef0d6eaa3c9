"""The dataset catalog and lineage: dataset -> run -> model version -> endpoint.

A dataset belongs to a team; ``shared`` makes it readable (and usable as an input) by
every team. Runs name datasets as inputs (``{name, dataset: "team/name"}``); the run
gets the dataset's URI and the link is recorded for lineage.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import (
    Dataset,
    Endpoint,
    Experiment,
    ModelVersion,
    RegisteredModel,
    RunDataset,
)
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .validation import reject_unknown

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
URI = re.compile(r"^([a-z][a-z0-9+.-]*://\S+|/\S*)$")
FIELDS = {"name", "team", "uri", "format", "description", "tags", "schema", "size", "shared"}
UPDATABLE = FIELDS - {"name", "team"}


def _clean(data: Any, allowed: set[str]) -> dict[str, Any]:
    reject_unknown(data, allowed, "dataset")
    out: dict[str, Any] = {}
    if "uri" in data:
        if not isinstance(data["uri"], str) or not URI.match(data["uri"]):
            raise InvalidInput(
                "'uri' must be a URL (s3://bucket/key, https://...) or an absolute path."
            )
        out["uri"] = data["uri"]
    for key in ("format", "description"):
        if key in data:
            if not isinstance(data[key], str):
                raise InvalidInput(f"'{key}' must be a string.")
            out[key] = data[key][:4000]
    if "tags" in data:
        tags = data["tags"]
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise InvalidInput("'tags' must be a list of names.")
        out["tags"] = sorted(set(tags))
    if "schema" in data:
        if data["schema"] is not None and not isinstance(data["schema"], dict):
            raise InvalidInput("'schema' must be an object (e.g. column: type).")
        out["schema"] = data["schema"]
    if "size" in data:
        size = data["size"]
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise InvalidInput("'size' must be a number of bytes.")
        out["size"] = size
    if "shared" in data:
        if not isinstance(data["shared"], bool):
            raise InvalidInput("'shared' must be true or false.")
        out["shared"] = data["shared"]
    return out


def can_read(identity: Identity, row: Dataset) -> bool:
    return row.shared or identity.admin or identity.is_member(row.team)


async def create(session: AsyncSession, identity: Identity, data: Any) -> Dataset:
    from .sessions import choose_team

    values = _clean(data, FIELDS)
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput("'name' must be 1-100 letters, digits, '_', '.' or '-'.")
    if "uri" not in values:
        raise InvalidInput("'uri' is required: where the data is.")
    team = choose_team(
        identity.name, sorted(identity.teams), data.get("team"), identity.default_team
    )
    exists = await session.scalar(
        select(Dataset.id).where(Dataset.team == team, Dataset.name == name)
    )
    if exists:
        raise Conflict(f"Dataset {team}/{name} already exists.")
    row = Dataset(team=team, name=name, owner=identity.name, **values)
    session.add(row)
    await session.flush()
    return row


async def get(
    session: AsyncSession, identity: Identity, ref: str, *, default_team: str = ""
) -> Dataset:
    team, _, name = ref.rpartition("/")
    team = team or default_team
    row = await session.scalar(select(Dataset).where(Dataset.team == team, Dataset.name == name))
    if row is None or not can_read(identity, row):
        raise NotFound(f"No dataset {ref!r} that you can see.")
    return row


async def list_visible(
    session: AsyncSession, identity: Identity, team: str | None = None, tag: str | None = None
) -> list[Dataset]:
    q = select(Dataset).order_by(Dataset.team, Dataset.name)
    if team:
        q = q.where(Dataset.team == team)
    if not identity.admin:
        q = q.where(or_(Dataset.shared.is_(True), Dataset.team.in_(sorted(identity.teams))))
    rows = list((await session.scalars(q)).all())
    return [r for r in rows if tag is None or tag in (r.tags or [])]


async def update(session: AsyncSession, identity: Identity, ref: str, data: Any) -> Dataset:
    row = await get(session, identity, ref)
    if not (identity.admin or identity.is_member(row.team)):
        raise Forbidden(f"Only members of team {row.team!r} change its datasets.")
    for key, value in _clean(data, UPDATABLE).items():
        setattr(row, key, value)
    await session.flush()
    return row


async def delete(session: AsyncSession, identity: Identity, ref: str) -> None:
    row = await get(session, identity, ref)
    if not (identity.admin or identity.is_member(row.team)):
        raise Forbidden(f"Only members of team {row.team!r} delete its datasets.")
    await session.delete(row)


def to_json(row: Dataset) -> dict[str, Any]:
    return {
        "id": row.id,
        "team": row.team,
        "name": row.name,
        "ref": f"{row.team}/{row.name}",
        "owner": row.owner,
        "uri": row.uri,
        "format": row.format,
        "description": row.description,
        "tags": row.tags,
        "schema": row.schema,
        "size": row.size,
        "shared": row.shared,
        "source_run_id": row.source_run_id,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


async def record_inputs(session: AsyncSession, run_id: int, dataset_ids: list[int]) -> None:
    for dataset_id in sorted(set(dataset_ids)):
        session.add(RunDataset(experiment_id=run_id, dataset_id=dataset_id))
    await session.flush()


# --- lineage --------------------------------------------------------------------------


async def lineage(
    session: AsyncSession,
    identity: Identity,
    *,
    dataset: str | None = None,
    run: int | None = None,
    model: str | None = None,
    version: str | None = None,
    endpoint: str | None = None,
) -> dict[str, Any]:
    """The graph around one object: datasets -> runs -> model versions -> endpoints.

    Only what ``identity`` may see is included."""
    nodes: dict[str, dict[str, Any]] = {}
    edges: set[tuple[str, str]] = set()

    def node(kind: str, key: Any, **attrs: Any) -> str:
        nid = f"{kind}:{key}"
        nodes.setdefault(nid, {"id": nid, "kind": kind, **attrs})
        return nid

    run_ids: set[int] = set()
    version_ids: set[int] = set()
    if dataset is not None:
        ds = await get(session, identity, dataset)
        node("dataset", f"{ds.team}/{ds.name}", uri=ds.uri)
        if ds.source_run_id is not None:
            run_ids.add(ds.source_run_id)
        run_ids |= set(
            (
                await session.scalars(
                    select(RunDataset.experiment_id).where(RunDataset.dataset_id == ds.id)
                )
            ).all()
        )
    if run is not None:
        row = await session.get(Experiment, run)
        if row is None or not (identity.admin or identity.is_member(row.team)):
            raise NotFound(f"No experiment {run} that you can see.")
        run_ids.add(row.id)
    if model is not None:
        from . import models as registry

        team, _, name = model.rpartition("/")
        m = await registry.get_model(session, identity, team, name)
        versions: Sequence[ModelVersion] = (
            [await registry.get_version(session, m, version)]
            if version
            else await registry.list_versions(session, m)
        )
        version_ids |= {v.id for v in versions}
        run_ids |= {v.source_run_id for v in versions if v.source_run_id}
    if endpoint is not None:
        team, _, name = endpoint.rpartition("/")
        ep = await session.scalar(
            select(Endpoint).where(Endpoint.team == team, Endpoint.name == name)
        )
        if ep is None or not (identity.admin or identity.is_member(ep.team)):
            raise NotFound(f"No endpoint {endpoint!r} that you can see.")
        version_ids |= {r["version_id"] for r in ep.resolved or [] if r.get("version_id")}
    # downstream of runs: the versions registered from them
    if run_ids:
        version_ids |= set(
            (
                await session.scalars(
                    select(ModelVersion.id).where(ModelVersion.source_run_id.in_(run_ids))
                )
            ).all()
        )
    versions = (
        (await session.scalars(select(ModelVersion).where(ModelVersion.id.in_(version_ids)))).all()
        if version_ids
        else []
    )
    run_ids |= {v.source_run_id for v in versions if v.source_run_id}
    model_rows = (
        {
            m.id: m
            for m in (
                await session.scalars(
                    select(RegisteredModel).where(
                        RegisteredModel.id.in_({v.model_id for v in versions})
                    )
                )
            ).all()
        }
        if versions
        else {}
    )
    runs_rows = (
        (await session.scalars(select(Experiment).where(Experiment.id.in_(run_ids)))).all()
        if run_ids
        else []
    )
    for r in runs_rows:
        if not (identity.admin or identity.is_member(r.team)):
            continue
        rid = node("run", r.id, name=r.name, team=r.team, status=r.status)
        links = (
            (
                await session.execute(
                    select(Dataset)
                    .join(RunDataset, RunDataset.dataset_id == Dataset.id)
                    .where(RunDataset.experiment_id == r.id)
                )
            )
            .scalars()
            .all()
        )
        for ds in links:
            if can_read(identity, ds):
                edges.add((node("dataset", f"{ds.team}/{ds.name}", uri=ds.uri), rid))
        made = (await session.scalars(select(Dataset).where(Dataset.source_run_id == r.id))).all()
        for ds in made:  # what the run produced (a SQL run's result)
            if can_read(identity, ds):
                edges.add((rid, node("dataset", f"{ds.team}/{ds.name}", uri=ds.uri)))
    for v in versions:
        m = model_rows[v.model_id]
        if not (identity.admin or identity.is_member(m.team)):
            continue
        vid = node(
            "model_version",
            f"{m.team}/{m.name}/{v.version}",
            model=f"{m.team}/{m.name}",
            version=v.version,
        )
        if v.source_run_id and f"run:{v.source_run_id}" in nodes:
            edges.add((f"run:{v.source_run_id}", vid))
    if versions:
        for ep in (
            await session.scalars(select(Endpoint).where(Endpoint.status != "stopped"))
        ).all():
            if not (identity.admin or identity.is_member(ep.team)):
                continue
            for route in ep.resolved or []:
                if route.get("version_id") in version_ids:
                    served = model_rows.get(route.get("model_id"))  # type: ignore[arg-type]
                    ver = next((x for x in versions if x.id == route["version_id"]), None)
                    if served and ver:
                        eid = node("endpoint", f"{ep.team}/{ep.name}", status=ep.status)
                        edges.add((f"model_version:{served.team}/{served.name}/{ver.version}", eid))
    return {
        "nodes": list(nodes.values()),
        "edges": [{"from": a, "to": b} for a, b in sorted(edges)],
    }
