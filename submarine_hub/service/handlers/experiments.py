"""REST handlers for experiments (runs), templates, pipelines and code uploads."""

from __future__ import annotations

import asyncio
import mimetypes
import os
import uuid
from pathlib import Path
from typing import Any

from ...core import paths, previews
from ...core.errors import InvalidInput, NotFound, SubmarineError
from ...core.experiments import metrics as run_metrics
from ...core.experiments import pipelines, runs, templates
from ...core.experiments.backend import FINAL_STATES
from ...core.experiments.spec import SPEC_SCHEMA
from ...core.validation import parse_yaml
from .base import BaseHandler
from .streaming import StreamedUpload

LOG_CHUNK = 256 * 1024
FOLLOW_POLL_S = 0.3


class ExperimentsBase(BaseHandler):
    def spec_body(self) -> dict[str, Any]:
        """A JSON body, or YAML with ``Content-Type: application/yaml``."""
        if "yaml" in self.request.headers.get("Content-Type", ""):
            try:
                data = parse_yaml(self.body.decode("utf-8"))
            except UnicodeDecodeError as e:
                raise InvalidInput(f"The request body is not valid YAML: {e}") from None
            if not isinstance(data, dict):
                raise InvalidInput("The request body must be a mapping (an experiment spec).")
            return data
        return self.get_json_body()

    @property
    def manager(self) -> Any:
        return self.core.experiments

    async def run_json(self, row: Any) -> dict[str, Any]:
        out = runs.to_json(row)
        async with self.core.db.session() as s:
            out["metrics"] = (await run_metrics.metrics_summary(s, [row.id])).get(row.id, {})
            out["params"] = await run_metrics.params_of(s, row.id)
        out["logs"] = await self.manager.backend.log_names(row.id) if row.launched_at else []
        state = await self.manager.backend.state(row.id) if row.launched_at else None
        out["replicas"] = (
            [{"name": r.name, "status": r.status, "exit_code": r.exit_code} for r in state.replicas]
            if state
            else []
        )
        return out


class ExperimentsHandler(ExperimentsBase):
    path = "/experiments"

    async def get(self) -> None:
        identity = await self.identity()
        status = self.get_query_argument("status", None)
        f = runs.Filters(
            team=self.get_query_argument("team", None),
            owner=self.get_query_argument("owner", None),
            status=[x for x in status.split(",") if x] if status else None,
            tag=self.get_query_argument("tag", None),
            since=self.get_query_argument("since", None),
            until=self.get_query_argument("until", None),
            parent=self.int_arg("parent"),
            pipeline=self.int_arg("pipeline"),
            before=self.int_arg("before"),
            limit=self.int_arg("limit", 50, maximum=500),
        )
        async with self.core.db.session() as s:
            rows, cursor = await runs.search(s, identity, f)
            items = [runs.to_json(r, full=False) for r in rows]
            if self.flag_arg("metrics"):
                summary = await run_metrics.metrics_summary(s, [r.id for r in rows])
                for item in items:
                    item["metrics"] = summary.get(item["id"], {})
        self.write_json({"items": items, "next": cursor})

    async def post(self) -> None:
        identity = await self.identity()
        data = self.spec_body()
        parent = self.int_arg("parent")
        async with self.core.db.session() as s:
            sub = await runs.prepare(s, identity, data, uploads=self.core.uploads)
            row = await runs.create(
                s, identity, sub, quota_defaults=self.core.quota_defaults, parent_id=parent
            )
        self.manager.wake()
        self.write_json(runs.to_json(row), status=201)


class ExperimentHandler(ExperimentsBase):
    path = "/experiments/{run_id}"

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await runs.get(s, identity, run_id)
        self.write_json(await self.run_json(row))


class ExperimentKillHandler(ExperimentsBase):
    path = "/experiments/{run_id}/kill"

    async def post(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await runs.request_kill(s, identity, run_id)
        self.manager.wake()
        self.write_json(runs.to_json(row), status=202)


class ExperimentRerunHandler(ExperimentsBase):
    path = "/experiments/{run_id}/rerun"

    async def post(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await runs.rerun(s, identity, run_id, quota_defaults=self.core.quota_defaults)
        self.manager.wake()
        self.write_json(runs.to_json(row), status=201)


class ExperimentLogsHandler(ExperimentsBase):
    path = "/experiments/{run_id}/logs"

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        rid = run_id
        async with self.core.db.session() as s:
            row = await runs.get(s, identity, rid)
        backend = self.manager.backend
        names = await backend.log_names(rid) if row.launched_at else []
        name = self.get_query_argument("name", None) or (names[0] if names else "main-0")
        if names and name not in names:
            raise NotFound(f"Run {rid} has no log {name!r}; its logs: {', '.join(names)}.")
        offset = self.int_arg("offset", 0, minimum=0)
        follow = self.flag_arg("follow")
        self.set_header("Content-Type", "text/plain; charset=UTF-8")
        self.set_header("X-Accel-Buffering", "no")
        while True:
            chunk = await backend.read_log(rid, name, offset, LOG_CHUNK)
            if chunk:
                offset += len(chunk)
                self.write(chunk)
                await self.flush()
                continue
            if not follow:
                break
            async with self.core.db.session() as s:
                row = await runs.get(s, identity, rid)
            if row.status in FINAL_STATES:
                tail = await backend.read_log(rid, name, offset, LOG_CHUNK)
                if not tail:
                    break
                continue
            if self.request.connection.stream.closed():  # type: ignore[union-attr]
                return
            await asyncio.sleep(FOLLOW_POLL_S)
        self.set_header("X-Submarine-Log-Offset", str(offset))
        self.finish()


class ExperimentArtifactsHandler(StreamedUpload, ExperimentsBase):
    """``GET``: a run's artifacts (``?path=P``: one, streamed). ``PUT ?path=P``: add one
    while the run lives (its owner or its token; streamed, hashed, replaced atomically):
    how a notebook's interactive run keeps a file with ``log_artifact``."""

    path = "/experiments/{run_id}/artifacts"
    _target: tuple[Path, Path, str] | None = None

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "PUT" or self._deferred_error is not None:
            return
        try:
            identity = await self.identity()
            rid = int(self.path_kwargs["run_id"])  # parsed already
            rel = paths.safe_relpath(self.get_query_argument("path", None))
            async with self.core.db.session() as s:
                run_metrics.check_artifact_write(identity, await runs.get(s, identity, rid))
            root = self.manager.local_artifacts(rid)
            if root is None:
                raise InvalidInput(
                    "Runs on this platform keep their artifacts in their own storage: call "
                    "log_artifact inside the run, or upload the file as a model version."
                )
            paths.contained(root, rel)  # refused before the body comes
            tmp = root / f".upload-{uuid.uuid4().hex}"
            await self.open_upload(lambda: _open_new(tmp), lambda: tmp.unlink(missing_ok=True))
            self._target = (tmp, root, rel)
        except SubmarineError as e:
            self._deferred_error = e

    async def put(self, run_id: int) -> None:
        assert self._target is not None
        tmp, root, rel = self._target
        try:
            size, sha256 = await self.close_upload(rel)
            await asyncio.to_thread(_move_into, tmp, root, rel)
        finally:
            tmp.unlink(missing_ok=True)
        self.write_json({"path": rel, "size": size, "sha256": sha256}, status=201)

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        rid = run_id
        async with self.core.db.session() as s:
            await runs.get(s, identity, rid)
        root = self._root(rid)
        wanted = self.get_query_argument("path", None)
        if wanted is None:  # a walk of the folder: off the event loop
            self.write_json({"items": await asyncio.to_thread(_list_artifacts, root)})
            return
        target = paths.contained(root, wanted)
        if not target.is_file():
            raise NotFound(f"Run {rid} has no artifact {wanted!r}.")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        self.set_header("Content-Disposition", f'attachment; filename="{target.name}"')
        f = await asyncio.to_thread(target.open, "rb")
        try:
            while chunk := await asyncio.to_thread(f.read, LOG_CHUNK):
                self.write(chunk)
                await self.flush()
        finally:
            f.close()
        self.finish()

    def _root(self, run_id: int) -> Path:
        return Path(self.manager.artifacts_location(run_id))


class ExperimentArtifactPreviewHandler(ExperimentsBase):
    """``GET ?path=P&rows=20``: the head of a run's data artifact as JSON (Parquet: its
    columns with their types, the first rows, the file's row count), for the explorer's
    preview; the file itself is never sent whole."""

    path = "/experiments/{run_id}/artifacts/preview"

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await runs.get(s, identity, run_id)
        wanted = self.get_query_argument("path", None)
        if not wanted:
            raise InvalidInput("Name the artifact: ?path=FILE.parquet.")
        rows = self.int_arg("rows", 20, minimum=1, maximum=previews.MAX_PREVIEW_ROWS)
        target = paths.contained(Path(self.manager.artifacts_location(run_id)), wanted)
        if not target.is_file():
            raise NotFound(f"Run {run_id} has no artifact {wanted!r}.")
        if target.suffix.lower() not in (".parquet", ".pq"):
            raise InvalidInput(
                f"{target.name}: previews here are of Parquet files (.parquet); fetch other "
                "files from the artifacts URL."
            )
        self.write_json(await asyncio.to_thread(previews.parquet_head, target, rows))


def _list_artifacts(root: Path) -> list[dict[str, Any]]:
    """The files of a run's artifacts folder (none while it has none), but uploads still
    arriving."""
    if not root.exists():
        return []
    return [
        {"path": str(p.relative_to(root)), "size": p.stat().st_size}
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.startswith(".upload-")
    ]


def _open_new(path: Path) -> Any:
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("wb")


def _move_into(tmp: Path, root: Path, rel: str) -> None:
    """Put the upload at ``rel`` under ``root``: contained when checked again now that its
    folders exist (the run may have put a symbolic link on the way since)."""
    paths.contained(root, rel).parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, paths.contained(root, rel))


class ExperimentMetricsHandler(ExperimentsBase):
    path = "/experiments/{run_id}/metrics"

    async def get(self, run_id: int) -> None:
        identity = await self.identity()
        rid = run_id
        key = self.get_query_argument("key", None)
        max_points = self.int_arg("max_points", 1000, maximum=100_000)
        async with self.core.db.session() as s:
            await runs.get(s, identity, rid)
            if key:
                points = await run_metrics.metric_history(s, rid, key, max_points)
                self.write_json({"key": key, "points": points})
                return
            summary = (await run_metrics.metrics_summary(s, [rid])).get(rid, {})
        self.write_json({"metrics": summary})

    async def post(self, run_id: int) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            n = await run_metrics.log_batch(s, identity, run_id, body)
        self.write_json({"stored": n}, status=201)


class ExperimentSchemaHandler(BaseHandler):
    path = "/experiment-schema"
    public = True

    async def get(self) -> None:
        self.write_json(SPEC_SCHEMA)


class UploadsHandler(BaseHandler):
    path = "/uploads"

    async def post(self) -> None:
        identity = await self.identity()
        out = await asyncio.to_thread(self.core.uploads.save, identity, self.body)
        self.write_json(out, status=201)


# --- templates ---------------------------------------------------------------------------


class TemplatesHandler(BaseHandler):
    path = "/templates"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            rows = await templates.list_visible(s, identity, self.get_query_argument("team", None))
            items = [templates.to_json(t) for t in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        groups = await self.core.hub_groups()
        async with self.core.db.session() as s:
            row = await templates.create(s, identity, body, groups)
            out = templates.to_json(row)
        self.write_json(out, status=201)


class TemplateHandler(BaseHandler):
    path = "/templates/{scope}/{name}"

    async def get(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            out = templates.to_json(await templates.get(s, identity, f"{scope}/{name}"))
        self.write_json(out)

    async def patch(self, scope: str, name: str) -> None:
        identity = await self.identity()
        body = self.get_json_body()
        async with self.core.db.session() as s:
            out = templates.to_json(await templates.update(s, identity, f"{scope}/{name}", body))
        self.write_json(out)

    async def delete(self, scope: str, name: str) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            await templates.delete(s, identity, f"{scope}/{name}")
        self.set_status(204)
        self.finish()


class TemplateRunsHandler(ExperimentsBase):
    path = "/templates/{scope}/{name}/runs"

    async def post(self, scope: str, name: str) -> None:
        """Instantiate: ``{parameters, meta: {name, team, tags}, resources, ...}``."""
        identity = await self.identity()
        body = self.checked_body()
        spec = {k: v for k, v in body.items() if k != "parameters"}
        spec.setdefault("meta", {}).setdefault("name", name)
        spec["task"] = {"template": f"{scope}/{name}", "parameters": body.get("parameters", {})}
        async with self.core.db.session() as s:
            sub = await runs.prepare(s, identity, spec, uploads=self.core.uploads)
            row = await runs.create(
                s,
                identity,
                sub,
                quota_defaults=self.core.quota_defaults,
                parent_id=self.int_arg("parent"),
            )
        self.manager.wake()
        self.write_json(runs.to_json(row), status=201)


# --- pipelines ---------------------------------------------------------------------------


class PipelinesHandler(ExperimentsBase):
    path = "/pipelines"

    async def get(self) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            rows = await pipelines.list_visible(s, identity, self.get_query_argument("team", None))
            items = [pipelines.to_json(r) for r in rows]
        self.write_json({"items": items})

    async def post(self) -> None:
        identity = await self.identity()
        body = self.spec_body()
        async with self.core.db.session() as s:
            row = await pipelines.create(s, identity, body, self.core.quota_defaults)
            out = pipelines.to_json(row, {})
        self.manager.wake()
        self.write_json(out, status=201)


class PipelineHandler(ExperimentsBase):
    path = "/pipelines/{pipeline_id}"

    async def get(self, pipeline_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await pipelines.get(s, identity, pipeline_id)
            out = pipelines.to_json(row, await pipelines.latest_runs(s, row.id))
        self.write_json(out)


class PipelineTerminateHandler(ExperimentsBase):
    path = "/pipelines/{pipeline_id}/terminate"

    async def post(self, pipeline_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await pipelines.terminate(s, identity, pipeline_id)
            out = pipelines.to_json(row, await pipelines.latest_runs(s, row.id))
        self.manager.wake()
        self.write_json(out, status=202)


class PipelineRetryHandler(ExperimentsBase):
    path = "/pipelines/{pipeline_id}/retry"

    async def post(self, pipeline_id: int) -> None:
        identity = await self.identity()
        async with self.core.db.session() as s:
            row = await pipelines.retry(
                s, identity, pipeline_id, quota_defaults=self.core.quota_defaults
            )
            out = pipelines.to_json(row, await pipelines.latest_runs(s, row.id))
        self.manager.wake()
        self.write_json(out, status=202)


EXPERIMENT_HANDLERS: list[type[BaseHandler]] = [
    ExperimentsHandler,
    ExperimentSchemaHandler,
    ExperimentHandler,
    ExperimentKillHandler,
    ExperimentRerunHandler,
    ExperimentLogsHandler,
    ExperimentArtifactsHandler,
    ExperimentArtifactPreviewHandler,
    ExperimentMetricsHandler,
    UploadsHandler,
    TemplatesHandler,
    TemplateHandler,
    TemplateRunsHandler,
    PipelinesHandler,
    PipelineHandler,
    PipelineTerminateHandler,
    PipelineRetryHandler,
]
