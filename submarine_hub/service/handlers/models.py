"""REST handlers for the model registry: models, versions, their files, aliases."""

from __future__ import annotations

import asyncio
import mimetypes
import uuid
from typing import Any

from tornado import web

from ...core import models, paths
from ...core.errors import Conflict, NotFound, SubmarineError
from ...core.experiments import metrics as run_metrics
from ...core.experiments import runs
from .base import BaseHandler
from .streaming import StreamedUpload

CHUNK = 1024 * 1024
#: Where a model file's body waits in the artifact store until it is complete.
PARTIAL = ".partial"


class ModelsBase(BaseHandler):
    async def model(self, team: str, name: str) -> Any:
        identity = await self.identity()
        async with self.core.db.session() as s:
            return await models.get_model(s, identity, team, name)

    async def version_json(self, s: Any, model: Any, version: Any) -> dict[str, Any]:
        return models.version_json(model, version, await models.aliases_of(s, model))


class ModelsHandler(ModelsBase):
    path = "/models"

    async def get(self) -> None:
        identity = await self.identity()
        team = self.get_query_argument("team", None)
        archived = self.flag_arg("archived")
        async with self.core.db.session() as s:
            rows = await models.list_models(s, identity, team, archived)
            items = [models.model_json(r, await models.aliases_of(s, r)) for r in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await models.create_model(s, identity, body)
            out = models.model_json(row, {})
        self.write_json(out, status=201)


class ModelHandler(ModelsBase):
    path = "/models/{team}/{name}"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await models.get_model(s, identity, team, name)
            out = models.model_json(row, await models.aliases_of(s, row))
            out["versions"] = [
                await self.version_json(s, row, v) for v in await models.list_versions(s, row)
            ]
        self.write_json(out)

    async def patch(self, team: str, name: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            row = await models.update_model(s, identity, team, name, body)
            out = models.model_json(row, await models.aliases_of(s, row))
        self.write_json(out)

    async def delete(self, team: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            prefix = await models.delete_model(s, identity, team, name)
        await asyncio.to_thread(self.core.artifacts.delete_prefix, prefix)
        self.set_status(204)
        self.finish()


class VersionsHandler(ModelsBase):
    path = "/models/{team}/{name}/versions"

    async def get(self, team: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await models.get_model(s, identity, team, name)
            items = [await self.version_json(s, row, v) for v in await models.list_versions(s, row)]
        self.write_json({"items": items})

    async def post(self, team: str, name: str) -> None:
        """A new version: empty (then PUT files, then POST .../ready), or ``from_run``:
        ``{"from_run": {"run_id": 7, "paths": ["model.joblib"]}}`` copies a run's outputs."""
        identity = await self.identity()
        body = self.checked_body()
        from_run = body.pop("from_run", None)
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            if from_run is not None:
                run_id = from_run["run_id"]
                files = [models.check_file_path(p) for p in from_run["paths"]]
                run = await runs.get(s, identity, run_id)
                body.setdefault("source_run_id", run.id)
                snapshot = (await run_metrics.metrics_summary(s, [run.id])).get(run.id, {})
                body.setdefault("metrics", snapshot)
            version = await models.create_version(
                s, identity, model, body, self.core.artifacts.base_url
            )
            if from_run is not None:
                root = self.core.experiments.artifacts_location(run.id)
                prefix = models.storage_prefix(model, version.version)
                for rel in files:
                    key = paths.join_key(prefix, rel)
                    written = await asyncio.to_thread(
                        _copy_output, self.core.artifacts, root, rel, key, run.id
                    )
                    models.add_file(version, rel, written.size, written.sha256)
                models.finalize(version)
            out = await self.version_json(s, model, version)
        self.write_json(out, status=201)


def _copy_output(store: Any, root: str, rel: str, key: str, run_id: int) -> Any:
    source = paths.contained(root, rel)
    if not source.is_file():
        raise NotFound(f"Run {run_id} has no output {rel!r}.")
    return store.copy_in(source, key)


class VersionHandler(ModelsBase):
    path = "/models/{team}/{name}/versions/{version}"

    async def get(self, team: str, name: str, version: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            row = await models.get_version(s, model, version)
            out = await self.version_json(s, model, row)
        self.write_json(out)

    async def patch(self, team: str, name: str, version: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            row = await models.update_version(
                s, model, await models.get_version(s, model, version), body
            )
            out = await self.version_json(s, model, row)
        self.write_json(out)

    async def delete(self, team: str, name: str, version: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            row = await models.get_version(s, model, version)
            prefix = await models.delete_version(s, identity, model, row)
        await asyncio.to_thread(self.core.artifacts.delete_prefix, prefix)
        self.set_status(204)
        self.finish()


class VersionReadyHandler(ModelsBase):
    path = "/models/{team}/{name}/versions/{version}/ready"

    async def post(self, team: str, name: str, version: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            row = await models.get_version(s, model, version)
            await s.refresh(row, with_for_update=True)  # after a file being recorded
            models.finalize(row)
            out = await self.version_json(s, model, row)
        self.write_json(out)


@web.stream_request_body
class VersionFilesHandler(StreamedUpload, ModelsBase):
    """``PUT ...?path=P``: stream a file in (any size, bounded memory, hashed; send
    ``X-Content-SHA256`` to have it checked). ``GET ...?path=P``: stream it out."""

    path = "/models/{team}/{name}/versions/{version}/files"
    _target: tuple[int, str, str, str] | None = None

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "PUT" or self._deferred_error is not None:
            return
        try:
            kwargs = self.path_kwargs
            identity = await self.identity()
            rel = models.check_file_path(self.get_query_argument("path", None))
            async with self.core.db.session() as s:
                model = await models.get_model(s, identity, kwargs["team"], kwargs["name"])
                row = await models.get_version(s, model, kwargs["version"])
                models.check_uploading(row)
            key = paths.join_key(models.storage_prefix(model, row.version), rel)
            # the body goes aside first: the version's file changes only once it is
            # complete, and only while the version is still uploading (see put)
            store = self.core.artifacts
            partial = f"{PARTIAL}/{uuid.uuid4().hex}"
            await self.open_upload(lambda: store.open_write(partial), lambda: store.delete(partial))
            self._target = (row.id, rel, key, partial)
        except SubmarineError as e:
            self._deferred_error = e

    async def put(self, team: str, name: str, version: str) -> None:
        assert self._target is not None
        version_id, rel, key, partial = self._target
        store = self.core.artifacts
        try:
            size, sha256 = await self.close_upload(rel)
            async with self.core.db.session() as s:
                identity = await self.identity()
                model = await models.get_model(s, identity, team, name)
                row = await models.get_version(s, model, version)
                await s.refresh(row, with_for_update=True)  # a concurrent "ready" waits
                if row.id != version_id:
                    raise Conflict(f"Version {version} changed while the file was sent.")
                models.check_uploading(row)
                await asyncio.to_thread(store.move, partial, key)
                models.add_file(row, rel, size, sha256)
        finally:
            await asyncio.to_thread(store.delete, partial)
        self.write_json({"path": rel, "size": size, "sha256": sha256}, status=201)

    async def get(self, team: str, name: str, version: str) -> None:
        identity = await self.identity()
        rel = models.check_file_path(self.get_query_argument("path", None))
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            row = await models.get_version(s, model, version)
        entry = next((f for f in row.files if f["path"] == rel), None)
        if entry is None:
            raise NotFound(f"Version {row.version} of {team}/{name} has no file {rel!r}.")
        key = paths.join_key(models.storage_prefix(model, row.version), rel)
        reader = await asyncio.to_thread(self.core.artifacts.open_read, key)
        self.set_header("Content-Type", mimetypes.guess_type(rel)[0] or "application/octet-stream")
        self.set_header("Content-Length", str(entry["size"]))
        self.set_header("X-Content-SHA256", entry["sha256"])
        try:
            while chunk := await asyncio.to_thread(reader.read, CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            await asyncio.to_thread(reader.close)
        self.finish()


class AliasHandler(ModelsBase):
    path = "/models/{team}/{name}/aliases/{alias}"

    async def put(self, team: str, name: str, alias: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            number = await models.set_alias(s, model, alias, body.get("version"))
        self.write_json({"model": f"{team}/{name}", "alias": alias, "version": number})

    async def delete(self, team: str, name: str, alias: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            model = await models.get_model(s, identity, team, name)
            await models.delete_alias(s, model, alias)
        self.set_status(204)
        self.finish()


MODEL_HANDLERS: list[type[BaseHandler]] = [
    ModelsHandler,
    ModelHandler,
    VersionsHandler,
    VersionHandler,
    VersionReadyHandler,
    VersionFilesHandler,
    AliasHandler,
]
