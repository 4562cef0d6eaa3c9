"""Where an ``mlflow-artifacts:/`` path is, and who may read or write it.

- ``runs/<run id>/<path>``: the run's own artifacts (what the platform's API and panel
  list for the run); written by its owner or its token while it lives.
- ``models/<m-...>/<path>``: a logged model's files (artifact store); written by who
  logged it.
- ``registry/<model>/<version>/<path>``: a registered version's files, read-only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from ...store.artifact_folders import Folder, StoreFolder
from ...store.artifacts import ArtifactStore
from ...store.models import Experiment
from .. import models
from ..errors import Conflict, Forbidden, InvalidInput, NotFound
from ..experiments import metrics as run_metrics
from ..experiments import runs
from ..identity import Identity
from ..paths import safe_relpath
from . import logged_models, registry, tracking

KINDS = ("runs", "models", "registry")


@dataclass
class ProxyPath:
    kind: str
    owner: str  # run id, logged model id, or "<model>/<version>"
    rel: str  # checked relative path inside it ("" for its root)


def parse_proxy_path(path: str) -> ProxyPath:
    parts = [p for p in (path or "").strip("/").split("/") if p]
    if not parts or parts[0] not in KINDS:
        raise NotFound(
            f"No artifact location {path!r}: this platform keeps artifacts under runs/<run id>, "
            "models/<logged model id> and registry/<model>/<version>."
        )
    need = 3 if parts[0] == "registry" else 2
    if len(parts) < need:
        if len(parts) == 1:
            return ProxyPath(parts[0], "", "")
        raise NotFound(f"No artifact location {path!r}.")
    owner = "/".join(parts[1:need])
    rest = "/".join(parts[need:])
    rel = safe_relpath(rest) if rest else ""
    return ProxyPath(parts[0], owner, rel)


async def locate(
    session: AsyncSession,
    identity: Identity,
    team: str,
    path: str,
    *,
    write: bool,
    store: ArtifactStore,
    run_folder: Callable[[int], Folder],
) -> tuple[Folder, str]:
    """The folder holding ``path`` and the path inside it, after the caller's checks."""
    tracking.check_team(identity, team)
    where = parse_proxy_path(path)
    if not where.owner:
        if write:
            raise InvalidInput("Write artifacts inside a run, a logged model or a version.")
        raise NotFound(f"List {where.kind}/<id> rather than {where.kind}.")
    if where.kind == "runs":
        row = await tracking.get_run_row(session, identity, team, where.owner)
        if write:
            run_metrics.check_artifact_write(identity, row)
        return run_folder(row.id), where.rel
    if where.kind == "models":
        lm = await logged_models.get(session, identity, team, where.owner)
        if write and not (identity.admin or lm.owner == identity.name):
            raise Forbidden(f"Only {lm.owner} adds files to logged model {lm.id}.")
        if write and identity.run_id is not None:
            source = await session.get(Experiment, lm.source_run_id) if lm.source_run_id else None
            if source is None or not runs.token_reaches(identity, source):
                raise Forbidden(f"A run's token writes only its own run's models, not {lm.id}.")
        return StoreFolder(store, logged_models.storage_prefix(lm)), where.rel
    name, _, number = where.owner.partition("/")
    model, version = await registry.get_version(session, identity, team, name, number)
    if write:
        raise Conflict(
            f"Version {version.version} of {name} is registered: its files do not change."
        )
    return StoreFolder(store, models.storage_prefix(model, version.version)), where.rel
