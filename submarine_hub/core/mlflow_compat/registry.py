"""MLflow's model registry on the platform's: a registered model is a registry model of
the team, a version a version (its files copied from the logged model or run artifacts
the MLflow ``source`` names, then ``ready``), an alias the same alias. MLflow's stages are
not kept (aliases replace them, as in MLflow 2.9+): every version's stage is ``None``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ...store.artifact_folders import Folder, StoreFolder, copy_files
from ...store.artifacts import ArtifactStore
from ...store.models import ModelVersion, RegisteredModel
from .. import models
from ..errors import InvalidInput, NotFound
from ..identity import Identity
from . import logged_models, tracking
from .errors import NotImplementedByPlatform
from .filters import _compare, parse_filter
from .tracking import _str, _tag_list, check_team, ms

HIDDEN_TAGS = ("mlflow.source", "mlflow.model_id", "mlflow.run_id")
RunFolder = Callable[[int], Folder]


def _name(data: dict[str, Any]) -> str:
    return _str(data, "name", required=True)


async def get_model(
    session: AsyncSession, identity: Identity, team: str, name: str
) -> RegisteredModel:
    check_team(identity, team)
    try:
        return await models.get_model(session, identity, team, name)
    except NotFound:
        raise NotFound(f"Registered Model with name={name} not found") from None


async def create_model(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> RegisteredModel:
    check_team(identity, team)
    body: dict[str, Any] = {"name": _name(data), "team": team}
    if data.get("description"):
        body["description"] = _str(data, "description")
    tags = _tag_list(data.get("tags"))
    if tags:
        body["tags"] = tags
    return await models.create_model(session, identity, body)


async def update_model(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any], action: str
) -> RegisteredModel | None:
    row = await get_model(session, identity, team, _name(data))
    if action == "update":
        await models.update_model(
            session, identity, team, row.name, {"description": _str(data, "description")}
        )
    elif action == "set-tag":
        key = _str(data, "key", required=True)
        row.tags = {**row.tags, key: str(data.get("value", ""))}
    elif action == "delete-tag":
        key = _str(data, "key", required=True)
        row.tags = {k: v for k, v in row.tags.items() if k != key}
    elif action == "delete":
        await models.delete_model(session, identity, team, row.name)
        return None
    elif action == "rename":
        raise NotImplementedByPlatform(
            "Renaming a registered model is not supported by Submarine Hub: its versions' "
            "files are stored under its name. Register the versions under the new name."
        )
    await session.flush()
    return row


async def search_models(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> tuple[list[RegisteredModel], str | None]:
    check_team(identity, team)
    q = select(RegisteredModel).where(RegisteredModel.team == team)
    for c in parse_filter(_str(data, "filter")):
        if c.key != "name":
            raise InvalidInput("Registered models are searched by name (name = / LIKE '...').")
        q = q.where(_compare(RegisteredModel.name, c.op, c.value))
    limit = tracking.max_results(data.get("max_results"), 100)
    offset = tracking.parse_page_token(data.get("page_token"))
    rows = list(
        await session.scalars(q.order_by(RegisteredModel.name).offset(offset).limit(limit + 1))
    )
    token = tracking.page_token(offset + limit) if len(rows) > limit else None
    return rows[:limit], token


async def model_json(session: AsyncSession, row: RegisteredModel) -> dict[str, Any]:
    aliases = await models.aliases_of(session, row)
    latest = await session.scalar(
        select(ModelVersion)
        .where(ModelVersion.model_id == row.id)
        .order_by(ModelVersion.version.desc())
        .limit(1)
    )
    return {
        "name": row.name,
        "creation_timestamp": ms(row.created_at),
        "last_updated_timestamp": ms(row.updated_at),
        "user_id": row.owner,
        "description": row.description,
        "latest_versions": [version_json(row, latest, aliases)] if latest else [],
        "tags": [{"key": k, "value": v} for k, v in row.tags.items()],
        "aliases": [{"alias": a, "version": str(v)} for a, v in sorted(aliases.items())],
    }


def version_json(model: RegisteredModel, v: ModelVersion, aliases: dict[str, int]) -> dict:
    status = {"ready": "READY", "uploading": "PENDING_REGISTRATION", "archived": "READY"}
    out: dict[str, Any] = {
        "name": model.name,
        "version": str(v.version),
        "creation_timestamp": ms(v.created_at),
        "last_updated_timestamp": ms(v.updated_at),
        "user_id": v.owner,
        "current_stage": "Archived" if v.status == models.ARCHIVED else "None",
        "description": v.description,
        "source": v.tags.get(
            "mlflow.source", f"mlflow-artifacts:/registry/{model.name}/{v.version}"
        ),
        "status": status.get(v.status, "READY"),
        "tags": [{"key": k, "value": t} for k, t in v.tags.items() if k not in HIDDEN_TAGS],
        "aliases": sorted(a for a, n in aliases.items() if n == v.version),
    }
    if v.source_run_id is not None:
        out["run_id"] = str(v.source_run_id)
    if v.tags.get("mlflow.model_id"):
        out["model_id"] = v.tags["mlflow.model_id"]
    return out


async def source_folder(
    session: AsyncSession,
    identity: Identity,
    team: str,
    source: str,
    store: ArtifactStore,
    run_folder: RunFolder,
) -> tuple[Folder, int | None, str | None]:
    """The files an MLflow ``source`` names (in ``team``), the run they came from and the
    logged model's id: ``models:/m-...``, ``mlflow-artifacts:/models/m-...``,
    ``runs:/<run>/<path>``, ``mlflow-artifacts:/runs/<run>/<path>``."""
    from .artifacts import parse_proxy_path

    model_id = None
    if source.startswith("models:/m-"):
        model_id = source[len("models:/") :].strip("/")
        path = f"models/{model_id}"
    elif source.startswith("runs:/"):
        path = "runs/" + source[len("runs:/") :].strip("/")
    elif source.startswith("mlflow-artifacts:/"):
        path = source[len("mlflow-artifacts:/") :].strip("/")
    else:
        raise InvalidInput(
            f"Unsupported model source {source!r}: register a logged model (models:/m-...) or "
            "run artifacts (runs:/<run id>/<path>) of this platform."
        )
    where = parse_proxy_path(path)
    if where.kind == "models":
        lm = await logged_models.get(session, identity, team, where.owner)
        folder: Folder = StoreFolder(store, logged_models.storage_prefix(lm))
        sub = where.rel
        run_id = lm.source_run_id
        model_id = lm.id
    elif where.kind == "runs":
        run = await tracking.get_run_row(session, identity, team, where.owner)
        folder, sub, run_id = run_folder(run.id), where.rel, run.id
    else:
        raise InvalidInput(f"Unsupported model source {source!r}.")
    if sub:
        folder = _Sub(folder, sub)
    return folder, run_id, model_id


class _Sub:
    """A subfolder of a folder."""

    def __init__(self, folder: Folder, prefix: str) -> None:
        self.folder, self.prefix = folder, prefix.strip("/")

    def _rel(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if rel else self.prefix

    def listing(self, rel: str) -> list[Any]:
        return self.folder.listing(self._rel(rel))

    def files(self) -> list[Any]:
        from ...store.artifact_folders import Entry

        cut = len(self.prefix) + 1
        return [
            Entry(e.path[cut:], e.is_dir, e.size)
            for e in self.folder.files()
            if e.path.startswith(self.prefix + "/")
        ]

    def is_file(self, rel: str) -> bool:
        return self.folder.is_file(self._rel(rel))

    def read_chunks(self, rel: str) -> Any:
        return self.folder.read_chunks(self._rel(rel))

    def write_stream(self, rel: str, chunks: Any) -> Any:
        return self.folder.write_stream(self._rel(rel), chunks)


async def create_version(
    session: AsyncSession,
    identity: Identity,
    team: str,
    data: dict[str, Any],
    store: ArtifactStore,
    run_folder: RunFolder,
) -> tuple[RegisteredModel, ModelVersion]:
    """A new version whose files are a copy of what ``source`` names, ready at once."""
    model = await get_model(session, identity, team, _name(data))
    source = _str(data, "source", required=True)
    folder, run_id, model_id = await source_folder(
        session, identity, team, source, store, run_folder
    )
    if data.get("run_id") not in (None, ""):
        run_id = (await tracking.get_run_row(session, identity, team, data["run_id"])).id
    entries = await asyncio.to_thread(folder.files)
    if not any(e.path == "MLmodel" for e in entries):
        raise InvalidInput(
            f"{source} holds no MLmodel file: register a model logged with mlflow.<flavor>."
            "log_model (or upload files as a version through the platform's API)."
        )
    tags = {**_tag_list(data.get("tags")), "mlflow.source": source}
    if model_id:
        tags["mlflow.model_id"] = model_id
    body: dict[str, Any] = {"framework": "mlflow", "tags": tags}
    if data.get("description"):
        body["description"] = _str(data, "description")
    if run_id is not None:
        body["source_run_id"] = run_id
    version = await models.create_version(session, identity, model, body, store.base_url)
    target = StoreFolder(store, models.storage_prefix(model, version.version))
    written = await asyncio.to_thread(copy_files, folder, target)
    for w in written:
        models.add_file(version, w.path, w.size, w.sha256)
    models.finalize(version)
    await session.flush()
    return model, version


async def get_version(
    session: AsyncSession, identity: Identity, team: str, name: str, version: Any
) -> tuple[RegisteredModel, ModelVersion]:
    model = await get_model(session, identity, team, name)
    text = str(version or "")
    if not text.isdigit() or len(text) > 9:
        raise NotFound(f"Model Version (name={name}, version={text}) not found")
    try:
        return model, await models.get_version(session, model, int(text))
    except NotFound:
        raise NotFound(f"Model Version (name={name}, version={text}) not found") from None


async def update_version(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any], action: str
) -> tuple[RegisteredModel, ModelVersion] | None:
    model, version = await get_version(session, identity, team, _name(data), data.get("version"))
    if action == "update":
        await models.update_version(
            session, model, version, {"description": _str(data, "description")}
        )
    elif action == "set-tag":
        key = _str(data, "key", required=True)
        if key in HIDDEN_TAGS:
            raise InvalidInput(f"Tag {key!r} is kept by the platform.")
        version.tags = {**version.tags, key: str(data.get("value", ""))}
    elif action == "delete-tag":
        key = _str(data, "key", required=True)
        version.tags = {k: v for k, v in version.tags.items() if k != key or k in HIDDEN_TAGS}
    elif action == "delete":
        await models.delete_version(session, identity, model, version)
        return None
    elif action == "transition-stage":
        raise NotImplementedByPlatform(
            "Model stages are not supported by Submarine Hub; use aliases instead "
            "(MlflowClient.set_registered_model_alias)."
        )
    await session.flush()
    return model, version


async def search_versions(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> list[tuple[RegisteredModel, ModelVersion]]:
    check_team(identity, team)
    q = (
        select(RegisteredModel, ModelVersion)
        .join(ModelVersion, ModelVersion.model_id == RegisteredModel.id)
        .where(RegisteredModel.team == team)
    )
    for c in parse_filter(_str(data, "filter")):
        if c.key == "name":
            q = q.where(_compare(RegisteredModel.name, c.op, c.value))
        elif c.key == "run_id" and c.op == "=":
            rid = int(c.value) if str(c.value).isdigit() and len(str(c.value)) < 19 else -1
            q = q.where(ModelVersion.source_run_id == rid)
        else:
            raise InvalidInput("Model versions are searched by name or run_id.")
    limit = tracking.max_results(data.get("max_results"), 1000)
    q = q.order_by(RegisteredModel.name, ModelVersion.version.desc()).limit(limit)
    return [(m, v) for m, v in (await session.execute(q)).all()]


async def set_alias(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> None:
    model = await get_model(session, identity, team, _name(data))
    await models.set_alias(session, model, _str(data, "alias", required=True), data.get("version"))


async def delete_alias(
    session: AsyncSession, identity: Identity, team: str, data: dict[str, Any]
) -> None:
    model = await get_model(session, identity, team, _name(data))
    await models.delete_alias(session, model, _str(data, "alias", required=True))


async def version_by_alias(
    session: AsyncSession, identity: Identity, team: str, name: str, alias: str
) -> tuple[RegisteredModel, ModelVersion]:
    model = await get_model(session, identity, team, name)
    if not alias:
        raise InvalidInput("Missing value for required parameter 'alias'.")
    number = (await models.aliases_of(session, model)).get(alias)
    if number is None:
        raise NotFound(f"Registered model alias {alias} not found.")
    return model, await models.get_version(session, model, number)


Reader = Callable[[], Awaitable[Any]]
