"""MLflow's REST API, served per team under ``mlflow/<team>/`` (see docs/mlflow.md).

The paths and JSON are MLflow's own (``api/2.0/mlflow/...``, ``api/2.0/mlflow-artifacts/``),
so the ``mlflow`` client pointed at ``<hub>/services/submarine/mlflow/<team>`` works
unchanged; the work is the domain core's (``core/mlflow_compat``). Errors answer MLflow's
shape, ``{"error_code": ..., "message": ...}``, never a traceback or an HTML page.
"""

from __future__ import annotations

import asyncio
import json
import mimetypes
import os
import tempfile
from collections.abc import Awaitable, Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

from tornado import web

from ...core.errors import InvalidInput, NotFound, SubmarineError
from ...core.mlflow_compat import artifacts, inputs, logged_models, tracking
from ...core.mlflow_compat.errors import EndpointNotFound, NotImplementedByPlatform, error_code
from ...core.paths import safe_relpath
from ...core.sessions import choose_team
from ...store import db
from ...store.artifact_folders import Folder, LocalFolder, StoreFolder
from .base import BaseHandler
from .streaming import StreamedUpload

Operation = Callable[["MlflowApiHandler", dict[str, Any]], Awaitable[dict[str, Any]]]
OPERATIONS: dict[tuple[str, str], Operation] = {}
#: GET calls that may write: the team's Default experiment is made when first used
MAY_WRITE = frozenset({"experiments/get", "experiments/get-by-name", "experiments/search"})

#: MLflow calls the platform knowingly does not serve, and what to do instead
UNSUPPORTED = {
    "traces": "MLflow tracing is not supported by Submarine Hub.",
    "webhooks": "MLflow webhooks are not supported by Submarine Hub.",
    "prompts": "MLflow's prompt registry is not supported by Submarine Hub.",
    "gateway": "MLflow's AI gateway is not supported by Submarine Hub.",
    "scorers": "MLflow's scorers are not supported by Submarine Hub.",
    "datasets": "MLflow's evaluation datasets are not supported by Submarine Hub.",
}


def operation(method: str, *paths: str) -> Callable[[Operation], Operation]:
    def register(fn: Operation) -> Operation:
        for path in paths:
            OPERATIONS[(method, path)] = fn
        return fn

    return register


class MlflowBase(BaseHandler):
    """The team of the tracking URI, the caller, and MLflow's error shape."""

    path = "/mlflow"

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        message = (
            HTTPStatus(status_code).phrase
            if status_code in HTTPStatus._value2member_map_
            else "Error"
        )
        if isinstance(exc, SubmarineError):
            message = exc.message
        elif isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        if self._close_connection:
            self.set_header("Connection", "close")
        self.clear_header("Content-Type")
        self.set_header("Content-Type", "application/json; charset=UTF-8")
        code = error_code(exc, status_code) if exc else error_code(Exception(), status_code)
        self.finish(json.dumps({"error_code": code, "message": message}))

    async def team(self) -> str:
        named = self.path_kwargs.get("team")
        if named:
            return str(named)
        identity = await self.identity()
        try:
            return choose_team(identity.name, sorted(identity.teams), None, identity.default_team)
        except InvalidInput:
            raise InvalidInput(
                f"{identity.name} is in several teams ({', '.join(sorted(identity.teams))}): "
                "put the team in the tracking URI, e.g. MLFLOW_TRACKING_URI="
                f"<hub>/services/submarine/mlflow/{sorted(identity.teams)[0]}"
            ) from None

    def run_folder(self, run_id: int) -> Folder:
        local = self.core.experiments.local_artifacts(run_id)
        if local is not None:
            return LocalFolder(Path(local))
        return StoreFolder(self.core.artifacts, f"mlflow-runs/{run_id}")


class MlflowApiHandler(MlflowBase):
    """``api/2.0/mlflow/<operation>`` (and ``api/3.0``): one handler, a table of operations."""

    async def _dispatch(self, op: str) -> None:
        method = self.request.method or "GET"
        key = op.strip("/")
        fn = OPERATIONS.get((method, key))
        if fn is None:
            fn = _with_model_id(method, key)
        if fn is None:
            first = key.split("/")[0]
            if first in UNSUPPORTED:
                raise NotImplementedByPlatform(UNSUPPORTED[first])
            raise EndpointNotFound(
                f"MLflow call {method} {key!r} is not supported by Submarine Hub's MLflow API."
            )
        if method == "GET" and key in MAY_WRITE:
            db.reading(False)  # SQLite: begin as a writer (a reader cannot always upgrade)
        if method == "GET":
            data: dict[str, Any] = {}
            for name, values in self.request.query_arguments.items():
                decoded = [v.decode("utf-8", "replace") for v in values]
                data[name] = decoded if len(decoded) > 1 or name.endswith("_ids") else decoded[0]
        else:
            data = self.get_json_body() if self.body.strip() else {}
        data["__path__"] = key
        self.write_json(await fn(self, data))

    async def get(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def post(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def patch(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def delete(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])


def _with_model_id(method: str, key: str) -> Operation | None:
    """``logged-models/<id>[/tags[/<key>]|/params]``: the id is part of the path."""
    parts = key.split("/")
    if parts[0] != "logged-models" or len(parts) < 2 or parts[1] == "search":
        return None
    rest = "/".join(["logged-models", "{id}", *parts[2:3]])
    fn = OPERATIONS.get((method, rest))
    return fn


def _id_in_path(data: dict[str, Any]) -> tuple[str, list[str]]:
    parts = data["__path__"].split("/")
    return parts[1], parts[2:]


# --- experiments ----------------------------------------------------------------------


@operation("POST", "experiments/create")
async def _create_experiment(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.create_experiment(s, identity, team, data)
        return {"experiment_id": tracking.experiment_id(row)}


@operation("GET", "experiments/get")
async def _get_experiment(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.get_experiment(s, identity, team, data.get("experiment_id"))
        return {"experiment": tracking.experiment_json(row)}


@operation("GET", "experiments/get-by-name")
async def _experiment_by_name(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    name = tracking._str(data, "experiment_name", required=True)
    async with h.core.db.session() as s:
        row = await tracking.experiment_by_name(s, identity, team, name)
        return {"experiment": tracking.experiment_json(row)}


@operation("POST", "experiments/search")
@operation("GET", "experiments/search")
async def _search_experiments(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        rows, token = await tracking.search_experiments(s, identity, team, data)
        out: dict[str, Any] = {"experiments": [tracking.experiment_json(r) for r in rows]}
    if token:
        out["next_page_token"] = token
    return out


@operation(
    "POST",
    "experiments/update",
    "experiments/delete",
    "experiments/restore",
    "experiments/set-experiment-tag",
    "experiments/delete-experiment-tag",
)
async def _update_experiment(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    action = data["__path__"].split("/")[1]
    async with h.core.db.session() as s:
        await tracking.update_experiment(s, identity, team, data, action)
    return {}


# --- runs -----------------------------------------------------------------------------


@operation("POST", "runs/create")
async def _create_run(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.create_run(s, identity, team, data)
        (run,) = await tracking.runs_json(s, team, [row])
    return {"run": run}


@operation("GET", "runs/get")
async def _get_run(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.get_run_row(
            s, identity, team, data.get("run_id") or data.get("run_uuid")
        )
        (run,) = await tracking.runs_json(s, team, [row])
    return {"run": run}


@operation("POST", "runs/update")
async def _update_run(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.update_run(s, identity, team, data)
        (run,) = await tracking.runs_json(s, team, [row])
    return {"run_info": run["info"]}


@operation("POST", "runs/delete", "runs/restore")
async def _run_lifecycle(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    stage = tracking.DELETED if data["__path__"] == "runs/delete" else tracking.ACTIVE
    async with h.core.db.session() as s:
        await tracking.set_lifecycle(s, identity, team, data.get("run_id"), stage)
    return {}


@operation(
    "POST",
    "runs/log-metric",
    "runs/log-parameter",
    "runs/set-tag",
    "runs/delete-tag",
    "runs/log-batch",
)
async def _log(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        await tracking.log(s, identity, team, data, data["__path__"].split("/")[1])
    return {}


@operation("POST", "runs/log-inputs")
async def _log_inputs(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    """Dataset inputs of a run: kept on the run, linked to same-named catalog datasets."""
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.get_run_row(s, identity, team, data.get("run_id"))
        tracking._check_writer(identity, row)
        await inputs.record(s, identity, row, inputs.parse(data))
    return {}


@operation("POST", "runs/outputs", "runs/log-model")
async def _log_links(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    """Model outputs of a run: the run is checked, the links are known from the logged
    models themselves (their ``source_run_id``)."""
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await tracking.get_run_row(s, identity, team, data.get("run_id"))
        tracking._check_writer(identity, row)
    return {}


@operation("POST", "runs/search")
async def _search_runs(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        rows, token = await tracking.search_runs(s, identity, team, data)
        out: dict[str, Any] = {"runs": await tracking.runs_json(s, team, rows)}
    if token:
        out["next_page_token"] = token
    return out


@operation("GET", "metrics/get-history")
async def _metric_history(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    limit = tracking.max_results(data.get("max_results"), 25_000)
    async with h.core.db.session() as s:
        points = await tracking.metric_history(
            s, identity, team, data.get("run_id") or data.get("run_uuid"),
            tracking._str(data, "metric_key", required=True), limit,
        )  # fmt: skip
    return {"metrics": points}


@operation("GET", "artifacts/list")
async def _list_run_artifacts(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    rel = data.get("path") or ""
    async with h.core.db.session() as s:
        row = await tracking.get_run_row(
            s, identity, team, data.get("run_id") or data.get("run_uuid")
        )
    rel = safe_relpath(rel) if rel else ""
    entries = await asyncio.to_thread(h.run_folder(row.id).listing, rel)
    return {
        "root_uri": f"mlflow-artifacts:/runs/{row.id}",
        "files": [_file_json(e.path, e.is_dir, e.size) for e in entries],
    }


def _file_json(path: str, is_dir: bool, size: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {"path": path, "is_dir": is_dir}
    if size is not None:
        out["file_size"] = size
    return out


# --- logged models (MLflow 3) ---------------------------------------------------------


@operation("POST", "logged-models")
async def _create_logged_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        row = await logged_models.create(s, identity, team, data)
        return {"model": await logged_models.to_json(s, row)}


@operation("GET", "logged-models/{id}")
async def _get_logged_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    model_id, _ = _id_in_path(data)
    async with h.core.db.session() as s:
        row = await logged_models.get(s, identity, team, model_id)
        return {"model": await logged_models.to_json(s, row)}


@operation("PATCH", "logged-models/{id}")
@operation("PATCH", "logged-models/{id}/tags")
@operation("DELETE", "logged-models/{id}/tags")
@operation("POST", "logged-models/{id}/params")
async def _update_logged_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    model_id, rest = _id_in_path(data)
    method = h.request.method
    action = "finalize" if not rest else ("params" if rest[0] == "params" else "set-tags")
    if method == "DELETE":
        action, data["tag_key"] = "delete-tag", "/".join(rest[1:])
    async with h.core.db.session() as s:
        row = await logged_models.update(s, identity, team, model_id, data, action)
        if action == "finalize":
            return {"model": await logged_models.to_json(s, row)}
    return {}


@operation("DELETE", "logged-models/{id}")
async def _delete_logged_model(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    raise NotImplementedByPlatform(
        "Deleting a logged model is not supported by Submarine Hub; delete its run instead."
    )


@operation("POST", "logged-models/search")
async def _search_logged_models(h: MlflowApiHandler, data: dict[str, Any]) -> dict[str, Any]:
    identity, team = await h.identity(), await h.team()
    async with h.core.db.session() as s:
        rows, token = await logged_models.search_models(s, identity, team, data)
        out: dict[str, Any] = {"models": [await logged_models.to_json(s, r) for r in rows]}
    if token:
        out["next_page_token"] = token
    return out


# --- the artifacts proxy --------------------------------------------------------------


class MlflowArtifactsHandler(StreamedUpload, MlflowBase):
    """``api/2.0/mlflow-artifacts/artifacts[/<path>]``: list (``?path=``), download,
    upload (streamed into the run's folder or the artifact store)."""

    _upload: tuple[Folder, str, Path] | None = None

    async def prepare(self) -> None:
        await super().prepare()
        if self.request.method != "PUT" or self._deferred_error is not None:
            return
        try:
            folder, rel = await self._locate(write=True)
            if not rel:
                raise InvalidInput("Name the file to upload: artifacts/<path>.")
            fd, name = tempfile.mkstemp(prefix="submarine-mlflow-")
            os.close(fd)
            tmp = Path(name)
            await self.open_upload(lambda: tmp.open("wb"), lambda: tmp.unlink(missing_ok=True))
            self._upload = (folder, rel, tmp)
        except SubmarineError as e:
            self._deferred_error = e

    async def _locate(self, *, write: bool, path: str | None = None) -> tuple[Folder, str]:
        identity, team = await self.identity(), await self.team()
        wanted = self.path_kwargs.get("path") if path is None else path
        async with self.core.db.session() as s:
            return await artifacts.locate(
                s, identity, team, wanted or "", write=write,
                store=self.core.artifacts, run_folder=self.run_folder,
            )  # fmt: skip

    async def put(self, **kwargs: Any) -> None:
        assert self._upload is not None
        folder, rel, tmp = self._upload
        try:
            await self.close_upload(rel)
            await asyncio.to_thread(folder.write_stream, rel, _chunks(tmp))
        finally:
            tmp.unlink(missing_ok=True)
        self.write_json({})

    async def get(self, **kwargs: Any) -> None:
        if not self.path_kwargs.get("path"):  # a listing: ?path=<folder>
            wanted = self.get_query_argument("path", "")
            folder, rel = await self._locate(write=False, path=wanted)
            entries = await asyncio.to_thread(folder.listing, rel)
            files = [_file_json(e.path.rsplit("/", 1)[-1], e.is_dir, e.size) for e in entries]
            self.write_json({"files": files})
            return
        folder, rel = await self._locate(write=False)
        if not rel or not await asyncio.to_thread(folder.is_file, rel):
            raise NotFound(f"No artifact {self.path_kwargs.get('path')!r}.")
        kind = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        self.set_header("Content-Type", kind)
        chunks = iter(await asyncio.to_thread(lambda: folder.read_chunks(rel)))
        while (chunk := await asyncio.to_thread(next, chunks, None)) is not None:
            self.write(chunk)
            await self.flush()
        self.finish()

    async def delete(self, **kwargs: Any) -> None:
        raise NotImplementedByPlatform(
            "Deleting artifacts is not supported by Submarine Hub: a run's files stay with it."
        )


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as f:
        while chunk := f.read(1024 * 1024):
            yield chunk


class MlflowNotFoundHandler(MlflowBase):
    """Anything else under ``mlflow/``: MLflow's error shape."""

    public = True

    async def get(self, *args: Any, **kwargs: Any) -> None:
        raise EndpointNotFound(
            f"No MLflow API at {self.request.path}: point MLFLOW_TRACKING_URI at "
            "<hub>/services/submarine/mlflow/<team>."
        )

    post = put = patch = delete = get


def mlflow_routes(prefix: str) -> list[tuple[str, Any]]:
    """The routes of the MLflow API under the service's ``prefix``."""
    base = prefix + "mlflow/"
    team = r"(?P<team>[A-Za-z0-9][^/]*)/"
    routes: list[tuple[str, Any]] = []
    for where in (base + team, base):
        routes += [
            (where + r"api/(?:2\.0|3\.0)/mlflow/(?P<op>.+)", MlflowApiHandler),
            (where + r"api/2\.0/mlflow-artifacts/artifacts/?", MlflowArtifactsHandler),
            (where + r"api/2\.0/mlflow-artifacts/artifacts/(?P<path>.+)", MlflowArtifactsHandler),
        ]
    routes.append((base + ".*", MlflowNotFoundHandler))
    return routes


def _run_id(data: dict[str, Any]) -> Any:
    return data.get("run_id") or data.get("run_uuid")


# the registry's operations join the table (a module of their own, for its size)
from . import mlflow_registry  # noqa: E402, F401
