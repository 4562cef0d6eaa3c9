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
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from tornado import web

from ...core.errors import InvalidInput, NotFound, SubmarineError
from ...core.identity import Identity
from ...core.mlflow_compat import artifacts, inputs, logged_models, tracking
from ...core.mlflow_compat.errors import EndpointNotFound, NotImplementedByPlatform, error_code
from ...core.paths import safe_relpath
from ...core.sessions import choose_team
from ...store import db
from ...store.artifact_folders import Folder, LocalFolder, StoreFolder
from .base import BaseHandler
from .streaming import StreamedUpload

Operation = Callable[["Call"], Awaitable[dict[str, Any]]]
#: (method, operation) -> its function; a logged model's id is ``{model_id}`` in the key
OPERATIONS: dict[tuple[str, str], Operation] = {}
#: GET calls that may write: the team's Default experiment is made when first used
MAY_WRITE = frozenset({"experiments/get", "experiments/get-by-name", "experiments/search"})
#: the OpenAPI document's path of an operation (``openapi.yaml``, tag ``mlflow``)
DOC_PATH = "/{{team}}/api/2.0/mlflow/{op}"
#: bulk calls: the document's schema checks the body but not each of its list's items
#: (up to a thousand metric points, which ``tracking.log`` checks as it stores them; the
#: schema's check of each would take longer than storing the batch)
BULK = frozenset({"runs/log-batch"})

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


@dataclass
class Call:
    """One MLflow call, as every operation gets it: the caller, the team of the tracking
    URI, the arguments (the JSON body checked against the OpenAPI document, or the query
    of a GET), the operation's path and one database session (committed after it)."""

    handler: MlflowApiHandler
    identity: Identity
    team: str
    data: dict[str, Any]
    path: str  # e.g. "runs/get", "logged-models/m-1/tags"
    s: AsyncSession
    #: what to do once the session committed (files of a deleted model)
    after: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    @property
    def action(self) -> str:
        """The second part of the path: ``runs/log-batch`` -> ``log-batch``."""
        return self.path.split("/")[1]

    @property
    def run_id(self) -> Any:
        """The run the call names (MLflow's clients send ``run_id``, old ones ``run_uuid``)."""
        return self.data.get("run_id") or self.data.get("run_uuid")

    def text(self, key: str, *, required: bool = False) -> str:
        return tracking._str(self.data, key, required=required)

    def paged(self, key: str, items: list[Any], token: str | None) -> dict[str, Any]:
        """A page of a search, as MLflow answers it (``next_page_token`` if there is more)."""
        out: dict[str, Any] = {key: items}
        if token:
            out["next_page_token"] = token
        return out


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
        code = error_code(exc if exc else Exception(), status_code)
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
    """``api/2.0/mlflow/<operation>`` (and ``api/3.0``): one handler, a table of operations.

    Everything the operations share is here, once: finding the operation, reading its
    arguments (checked against the OpenAPI document), who calls in which team, the
    session, and (in :class:`MlflowBase`) MLflow's error shape for whatever it raises."""

    async def _dispatch(self, op: str) -> None:
        method = self.request.method or "GET"
        key = op.strip("/")
        template, fn = find_operation(method, key)
        if method == "GET" and key in MAY_WRITE:
            db.reading(False)  # SQLite: begin as a writer (a reader cannot always upgrade)
        identity = await self.identity()
        data = self._arguments(method, template)
        team = await self.team()
        async with self.core.db.session() as s:
            call = Call(self, identity, team, data, key, s)
            out = await fn(call)
        for job in call.after:
            await job()
        self.write_json(out)

    def _arguments(self, method: str, template: str) -> dict[str, Any]:
        """A GET's query (``*_ids`` and repeated names as lists), or the JSON body as the
        OpenAPI document's schema of the operation states it (else a 400 naming the field)."""
        if method == "GET":
            data: dict[str, Any] = {}
            for name, values in self.request.query_arguments.items():
                decoded = [v.decode("utf-8", "replace") for v in values]
                data[name] = decoded if len(decoded) > 1 or name.endswith("_ids") else decoded[0]
            return data
        body = self.get_json_body() if self.body.strip() else {}
        return self.core.request_bodies.check(
            DOC_PATH.format(op=template), method, body, items=template not in BULK
        )

    async def get(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def post(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def patch(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])

    async def delete(self, **kwargs: Any) -> None:
        await self._dispatch(kwargs["op"])


def find_operation(method: str, key: str) -> tuple[str, Operation]:
    """The operation of ``method`` on ``key`` and its template (``logged-models/{model_id}``
    for ``logged-models/m-1``); MLflow's errors for what the platform does not serve."""
    fn = OPERATIONS.get((method, key))
    if fn is not None:
        return key, fn
    parts = key.split("/")
    if parts[0] == "logged-models" and len(parts) >= 2 and parts[1] != "search":
        # logged-models/<id>[/tags[/<key>]|/params]: the id (and a tag's key) is in the path
        template = "/".join(["logged-models", "{model_id}", *parts[2:3]])
        if len(parts) > 3 and parts[2] == "tags":
            template += "/{tag_key}"
        fn = OPERATIONS.get((method, template))
        if fn is not None:
            return template, fn
    if parts[0] in UNSUPPORTED:
        raise NotImplementedByPlatform(UNSUPPORTED[parts[0]])
    raise EndpointNotFound(
        f"MLflow call {method} {key!r} is not supported by Submarine Hub's MLflow API."
    )


def _model_id(call: Call) -> tuple[str, list[str]]:
    """The logged model's id in the path, and what follows it."""
    parts = call.path.split("/")
    return parts[1], parts[2:]


# --- experiments ----------------------------------------------------------------------


@operation("POST", "experiments/create")
async def _create_experiment(c: Call) -> dict[str, Any]:
    row = await tracking.create_experiment(c.s, c.identity, c.team, c.data)
    return {"experiment_id": tracking.experiment_id(row)}


@operation("GET", "experiments/get")
async def _get_experiment(c: Call) -> dict[str, Any]:
    row = await tracking.get_experiment(c.s, c.identity, c.team, c.data.get("experiment_id"))
    return {"experiment": tracking.experiment_json(row)}


@operation("GET", "experiments/get-by-name")
async def _experiment_by_name(c: Call) -> dict[str, Any]:
    name = c.text("experiment_name", required=True)
    row = await tracking.experiment_by_name(c.s, c.identity, c.team, name)
    return {"experiment": tracking.experiment_json(row)}


@operation("POST", "experiments/search")
@operation("GET", "experiments/search")
async def _search_experiments(c: Call) -> dict[str, Any]:
    rows, token = await tracking.search_experiments(c.s, c.identity, c.team, c.data)
    return c.paged("experiments", [tracking.experiment_json(r) for r in rows], token)


@operation(
    "POST",
    "experiments/update",
    "experiments/delete",
    "experiments/restore",
    "experiments/set-experiment-tag",
    "experiments/delete-experiment-tag",
)
async def _update_experiment(c: Call) -> dict[str, Any]:
    await tracking.update_experiment(c.s, c.identity, c.team, c.data, c.action)
    return {}


# --- runs -----------------------------------------------------------------------------


@operation("POST", "runs/create")
async def _create_run(c: Call) -> dict[str, Any]:
    row = await tracking.create_run(c.s, c.identity, c.team, c.data)
    (run,) = await tracking.runs_json(c.s, c.team, [row])
    return {"run": run}


@operation("GET", "runs/get")
async def _get_run(c: Call) -> dict[str, Any]:
    row = await tracking.get_run_row(c.s, c.identity, c.team, c.run_id)
    (run,) = await tracking.runs_json(c.s, c.team, [row])
    return {"run": run}


@operation("POST", "runs/update")
async def _update_run(c: Call) -> dict[str, Any]:
    row = await tracking.update_run(c.s, c.identity, c.team, c.data)
    (run,) = await tracking.runs_json(c.s, c.team, [row])
    return {"run_info": run["info"]}


@operation("POST", "runs/delete", "runs/restore")
async def _run_lifecycle(c: Call) -> dict[str, Any]:
    stage = tracking.DELETED if c.action == "delete" else tracking.ACTIVE
    await tracking.set_lifecycle(c.s, c.identity, c.team, c.run_id, stage)
    return {}


@operation(
    "POST",
    "runs/log-metric",
    "runs/log-parameter",
    "runs/set-tag",
    "runs/delete-tag",
    "runs/log-batch",
)
async def _log(c: Call) -> dict[str, Any]:
    await tracking.log(c.s, c.identity, c.team, c.data, c.action)
    return {}


@operation("POST", "runs/log-inputs")
async def _log_inputs(c: Call) -> dict[str, Any]:
    """Dataset inputs of a run (kept on the run, linked to same-named catalog datasets)
    and model inputs (logged models of the team the run used)."""
    row = await tracking.writable_run(c.s, c.identity, c.team, c.run_id)
    datasets, models = inputs.parse(c.data)
    await inputs.record_models(c.s, c.team, row, models)  # first: an unknown model keeps none
    await inputs.record(c.s, c.identity, row, datasets)
    return {}


@operation("POST", "runs/outputs", "runs/log-model")
async def _log_links(c: Call) -> dict[str, Any]:
    """Model outputs of a run: the run is checked, the links are known from the logged
    models themselves (their ``source_run_id``)."""
    await tracking.writable_run(c.s, c.identity, c.team, c.run_id)
    return {}


@operation("POST", "runs/search")
async def _search_runs(c: Call) -> dict[str, Any]:
    rows, token = await tracking.search_runs(c.s, c.identity, c.team, c.data)
    return c.paged("runs", await tracking.runs_json(c.s, c.team, rows), token)


@operation("GET", "metrics/get-history")
async def _metric_history(c: Call) -> dict[str, Any]:
    limit = tracking.max_results(c.data.get("max_results"), 25_000)
    key = c.text("metric_key", required=True)
    points = await tracking.metric_history(c.s, c.identity, c.team, c.run_id, key, limit)
    return {"metrics": points}


@operation("GET", "artifacts/list")
async def _list_run_artifacts(c: Call) -> dict[str, Any]:
    rel = c.data.get("path") or ""
    row = await tracking.get_run_row(c.s, c.identity, c.team, c.run_id)
    rel = safe_relpath(rel) if rel else ""
    entries = await asyncio.to_thread(c.handler.run_folder(row.id).listing, rel)
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
async def _create_logged_model(c: Call) -> dict[str, Any]:
    row = await logged_models.create(c.s, c.identity, c.team, c.data)
    return {"model": await logged_models.to_json(c.s, row)}


@operation("GET", "logged-models/{model_id}")
async def _get_logged_model(c: Call) -> dict[str, Any]:
    model_id, _ = _model_id(c)
    row = await logged_models.get(c.s, c.identity, c.team, model_id)
    return {"model": await logged_models.to_json(c.s, row)}


@operation("PATCH", "logged-models/{model_id}")
@operation("PATCH", "logged-models/{model_id}/tags")
@operation("DELETE", "logged-models/{model_id}/tags/{tag_key}")
@operation("POST", "logged-models/{model_id}/params")
async def _update_logged_model(c: Call) -> dict[str, Any]:
    model_id, rest = _model_id(c)
    action = "finalize" if not rest else ("params" if rest[0] == "params" else "set-tags")
    if c.handler.request.method == "DELETE":
        action, c.data["tag_key"] = "delete-tag", "/".join(rest[1:])
    row = await logged_models.update(c.s, c.identity, c.team, model_id, c.data, action)
    if action == "finalize":
        return {"model": await logged_models.to_json(c.s, row)}
    return {}


@operation("DELETE", "logged-models/{model_id}")
async def _delete_logged_model(c: Call) -> dict[str, Any]:
    model_id, _ = _model_id(c)
    await logged_models.get(c.s, c.identity, c.team, model_id)  # who may not see it: 404
    raise NotImplementedByPlatform(
        "Deleting a logged model is not supported by Submarine Hub; delete its run instead."
    )


@operation("POST", "logged-models/search")
async def _search_logged_models(c: Call) -> dict[str, Any]:
    rows, token = await logged_models.search_models(c.s, c.identity, c.team, c.data)
    return c.paged("models", [await logged_models.to_json(c.s, r) for r in rows], token)


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
        await self._locate(write=True)  # who may not write there: 404 or 403, as for a PUT
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


# the registry's operations join the table (a module of their own, for its size)
from . import mlflow_registry  # noqa: E402, F401
