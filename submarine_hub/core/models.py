"""The model registry: registered models of a team, their immutable versions, aliases.

A version's files live in the artifact store under ``models/<team>/<name>/<version>/``.
A version is created empty (``uploading``), files are streamed in one by one (each
hashed on the way), and ``finalize`` makes it ``ready``; or it is created from a run's
outputs in one step. Aliases (``production``, ``staging``, any name) point at versions.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..store.models import Endpoint, Experiment, ModelAlias, ModelVersion, RegisteredModel
from . import scopes
from .errors import Conflict, Forbidden, InvalidInput, NotFound
from .identity import Identity
from .paths import safe_relpath
from .validation import parse_id, reject_unknown

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
ALIAS = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
UPLOADING, READY, ARCHIVED = "uploading", "ready", "archived"
EDITABLE = {"description", "tags", "archived"}
VERSION_FIELDS = {
    "description", "framework", "signature", "metrics", "tags", "source_run_id",
    "source_notebook", "from_run",
}  # fmt: skip
FRAMEWORKS = (
    "", "sklearn", "onnx", "pytorch", "tensorflow", "xgboost", "lightgbm", "custom", "mlflow",
)  # fmt: skip


def _tags(value: Any, what: str = "tags") -> dict[str, str]:
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(t, str) for t in value):
        return {t: "" for t in value}
    if not isinstance(value, dict):
        raise InvalidInput(f"'{what}' must be an object of name: value (or a list of names).")
    return {str(k)[:64]: "" if v is None else str(v)[:256] for k, v in value.items()}


def _text(data: dict[str, Any], key: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be a string.")
    return value


async def create_model(session: AsyncSession, identity: Identity, data: Any) -> RegisteredModel:
    reject_unknown(data, {"name", "team", "description", "tags"}, "model")
    name = data.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        raise InvalidInput("'name' must be 1-100 letters, digits, '_', '.' or '-'.")
    team = _team(identity, data.get("team"))
    exists = await session.scalar(
        select(RegisteredModel.id).where(RegisteredModel.team == team, RegisteredModel.name == name)
    )
    if exists:
        raise Conflict(f"Model {team}/{name} already exists.")
    row = RegisteredModel(
        team=team,
        name=name,
        owner=identity.name,
        description=_text(data, "description"),
        tags=_tags(data.get("tags")),
    )
    session.add(row)
    await session.flush()
    return row


def _team(identity: Identity, wanted: Any) -> str:
    from .sessions import choose_team

    return choose_team(identity.name, sorted(identity.teams), wanted, identity.default_team)


async def get_model(
    session: AsyncSession, identity: Identity, team: str, name: str
) -> RegisteredModel:
    row = await session.scalar(
        select(RegisteredModel).where(RegisteredModel.team == team, RegisteredModel.name == name)
    )
    if row is None or not (identity.admin or identity.is_member(team)):
        raise NotFound(f"No model {team}/{name} that you can see.")
    return row


async def list_models(
    session: AsyncSession, identity: Identity, team: str | None = None, archived: bool = False
) -> list[RegisteredModel]:
    q = select(RegisteredModel).order_by(RegisteredModel.team, RegisteredModel.name)
    q = scopes.of_teams(q, RegisteredModel.team, identity, team or None)
    if not archived:
        q = q.where(RegisteredModel.archived.is_(False))
    return list((await session.scalars(q)).all())


async def update_model(
    session: AsyncSession, identity: Identity, team: str, name: str, data: Any
) -> RegisteredModel:
    row = await get_model(session, identity, team, name)
    reject_unknown(data, EDITABLE, "model")
    if "description" in data:
        row.description = _text(data, "description")
    if "tags" in data:
        row.tags = _tags(data["tags"])
    if "archived" in data:
        if not isinstance(data["archived"], bool):
            raise InvalidInput("'archived' must be true or false.")
        row.archived = data["archived"]
    await session.flush()
    return row


async def delete_model(session: AsyncSession, identity: Identity, team: str, name: str) -> str:
    """Delete a model and its versions; returns the storage prefix to remove."""
    row = await get_model(session, identity, team, name)
    if not (identity.admin or row.owner == identity.name):
        raise Forbidden(
            f"Only {row.owner} (who registered it) or a hub admin deletes {team}/{name}."
        )
    await _refuse_if_served(session, row.id, None)
    await session.execute(delete(ModelAlias).where(ModelAlias.model_id == row.id))
    await session.execute(delete(ModelVersion).where(ModelVersion.model_id == row.id))
    await session.delete(row)
    return f"models/{team}/{name}"


async def _refuse_if_served(
    session: AsyncSession, model_id: int, version_id: int | None, what: str = "this model"
) -> None:
    for ep in (await session.scalars(select(Endpoint).where(Endpoint.status != "stopped"))).all():
        for route in ep.resolved or []:
            if route.get("model_id") == model_id and version_id in (None, route.get("version_id")):
                raise Conflict(
                    f"Endpoint {ep.team}/{ep.name} serves {what}; stop or update it first."
                )


# --- versions -------------------------------------------------------------------------


def storage_prefix(model: RegisteredModel, version: int) -> str:
    return f"models/{model.team}/{model.name}/{version}"


async def create_version(
    session: AsyncSession,
    identity: Identity,
    model: RegisteredModel,
    data: dict[str, Any],
    store_url: str,
) -> ModelVersion:
    """A new, empty version (``uploading``) with its provenance."""
    reject_unknown(data, VERSION_FIELDS, "model version")
    if model.archived:
        raise InvalidInput(f"Model {model.team}/{model.name} is archived; unarchive it first.")
    framework = data.get("framework", "")
    if framework not in FRAMEWORKS:
        raise InvalidInput(f"'framework' must be one of {', '.join(f for f in FRAMEWORKS if f)}.")
    signature = data.get("signature")
    if signature is not None and not isinstance(signature, dict):
        raise InvalidInput("'signature' must be an object (e.g. {inputs: [...], outputs: [...]}).")
    metrics = data.get("metrics") or {}
    if not isinstance(metrics, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values()
    ):
        raise InvalidInput("'metrics' must be an object of name: number.")
    run_id = data.get("source_run_id")
    if run_id is not None:
        run = await session.get(Experiment, run_id) if isinstance(run_id, int) else None
        if run is None or not (identity.admin or identity.is_member(run.team)):
            raise NotFound(f"No run {run_id!r} that you can see.")
        if run.team != model.team:
            raise InvalidInput(f"Run {run_id} belongs to team {run.team!r}, not {model.team!r}.")
    notebook = data.get("source_notebook")
    if notebook is not None and not isinstance(notebook, dict):
        raise InvalidInput("'source_notebook' must be {space, path, version}.")
    model.latest += 1
    row = ModelVersion(
        model_id=model.id,
        version=model.latest,
        owner=identity.name,
        status=UPLOADING,
        description=_text(data, "description"),
        framework=framework,
        signature=signature,
        metrics={k: float(v) for k, v in metrics.items()},
        tags=_tags(data.get("tags")),
        source_run_id=run_id,
        source_notebook=notebook,
        storage_uri=f"{store_url}/{storage_prefix(model, model.latest)}",
        files=[],
        size=0,
    )
    session.add(row)
    await session.flush()
    return row


def check_file_path(path: Any) -> str:
    """A version file's path, checked by the one containment rule (``core.paths``)."""
    return safe_relpath(path)


def check_uploading(version: ModelVersion) -> None:
    """Refuse (409) any change to the files of a version that is not ``uploading``: once
    ready (or archived), a version's files are what was registered, for good."""
    if version.status != UPLOADING:
        raise Conflict(
            f"Version {version.version} is {version.status}: its files cannot change any "
            "more; create a new version for new files."
        )


def add_file(version: ModelVersion, path: str, size: int, sha256: str) -> None:
    files = [f for f in version.files if f["path"] != path]
    files.append({"path": path, "size": size, "sha256": sha256})
    version.files = sorted(files, key=lambda f: f["path"])
    version.size = sum(f["size"] for f in version.files)


def finalize(version: ModelVersion) -> None:
    check_uploading(version)
    if not version.files:
        raise InvalidInput(f"Version {version.version} has no files yet; upload at least one.")
    version.status = READY


async def get_version(
    session: AsyncSession, model: RegisteredModel, ref: str | int
) -> ModelVersion:
    """A version by number (``3``) or alias (``production``)."""
    number: int | None
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isascii() and ref.isdigit()):
        number = parse_id(ref, "version")
    else:
        number = await session.scalar(
            select(ModelAlias.version).where(
                ModelAlias.model_id == model.id, ModelAlias.alias == ref
            )
        )
        if number is None:
            raise NotFound(f"Model {model.team}/{model.name} has no version or alias {ref!r}.")
    row = await session.scalar(
        select(ModelVersion).where(
            ModelVersion.model_id == model.id, ModelVersion.version == number
        )
    )
    if row is None:
        raise NotFound(f"Model {model.team}/{model.name} has no version {number}.")
    return row


async def list_versions(session: AsyncSession, model: RegisteredModel) -> list[ModelVersion]:
    q = (
        select(ModelVersion)
        .where(ModelVersion.model_id == model.id)
        .order_by(ModelVersion.version.desc())
    )
    return list((await session.scalars(q)).all())


async def update_version(
    session: AsyncSession, model: RegisteredModel, version: ModelVersion, data: Any
) -> ModelVersion:
    """Change a version's description, tags, or archive it: a version an endpoint serves
    is not archived (update or stop the endpoint first)."""
    reject_unknown(data, EDITABLE, "model version")
    if "description" in data:
        version.description = _text(data, "description")
    if "tags" in data:
        version.tags = _tags(data["tags"])
    if "archived" in data:
        if data["archived"] is True and version.status == READY:
            await _refuse_if_served(session, model.id, version.id, f"version {version.version}")
            version.status = ARCHIVED
        elif data["archived"] is False and version.status == ARCHIVED:
            version.status = READY
        elif not isinstance(data["archived"], bool):
            raise InvalidInput("'archived' must be true or false.")
    return version


async def delete_version(
    session: AsyncSession, identity: Identity, model: RegisteredModel, version: ModelVersion
) -> str:
    if not (identity.admin or version.owner == identity.name or model.owner == identity.name):
        raise Forbidden(
            f"Only {version.owner} or the model's owner deletes version {version.version}."
        )
    await _refuse_if_served(session, model.id, version.id)
    await session.execute(
        delete(ModelAlias).where(
            ModelAlias.model_id == model.id, ModelAlias.version == version.version
        )
    )
    await session.delete(version)
    return storage_prefix(model, version.version)


async def aliases_of(session: AsyncSession, model: RegisteredModel) -> dict[str, int]:
    rows = await session.execute(
        select(ModelAlias.alias, ModelAlias.version).where(ModelAlias.model_id == model.id)
    )
    return dict(rows.all())


async def set_alias(
    session: AsyncSession, model: RegisteredModel, alias: str, version_ref: Any
) -> int:
    if not ALIAS.fullmatch(alias) or alias.isdigit():
        raise InvalidInput("An alias is 1-64 lowercase letters, digits, '_' or '-', not a number.")
    if isinstance(version_ref, bool) or not isinstance(version_ref, int | str):
        raise InvalidInput("'version' must be a version number.")
    version = await get_version(session, model, version_ref)
    if version.status != READY:
        raise InvalidInput(f"Version {version.version} is {version.status}; only ready versions.")
    existing = await session.get(ModelAlias, (model.id, alias))
    if existing:
        existing.version = version.version
    else:
        session.add(ModelAlias(model_id=model.id, alias=alias, version=version.version))
    await session.flush()
    return version.version


async def delete_alias(session: AsyncSession, model: RegisteredModel, alias: str) -> None:
    existing = await session.get(ModelAlias, (model.id, alias))
    if existing is None:
        raise NotFound(f"Model {model.team}/{model.name} has no alias {alias!r}.")
    await session.delete(existing)


def model_json(row: RegisteredModel, aliases: dict[str, int] | None = None) -> dict[str, Any]:
    return {
        "id": row.id,
        "team": row.team,
        "name": row.name,
        "ref": f"{row.team}/{row.name}",
        "owner": row.owner,
        "description": row.description,
        "tags": row.tags,
        "archived": row.archived,
        "latest_version": row.latest,
        "aliases": aliases if aliases is not None else {},
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def version_json(
    model: RegisteredModel, v: ModelVersion, aliases: dict[str, int]
) -> dict[str, Any]:
    return {
        "model": f"{model.team}/{model.name}",
        "version": v.version,
        "id": v.id,
        "status": v.status,
        "owner": v.owner,
        "description": v.description,
        "framework": v.framework,
        "signature": v.signature,
        "metrics": v.metrics,
        "tags": v.tags,
        "aliases": sorted(a for a, n in aliases.items() if n == v.version),
        "source_run_id": v.source_run_id,
        "source_notebook": v.source_notebook,
        "storage_uri": v.storage_uri,
        "files": v.files,
        "size": v.size,
        "created_at": v.created_at.isoformat(),
    }


async def count_versions(session: AsyncSession, model_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count(ModelVersion.id)).where(ModelVersion.model_id == model_id)
        )
        or 0
    )


def now() -> datetime:
    return datetime.now(timezone.utc)
