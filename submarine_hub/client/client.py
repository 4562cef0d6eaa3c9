"""``SubmarineClient``: the one HTTP client of the platform's REST API.

    >>> from submarine_hub import SubmarineClient
    >>> client = SubmarineClient()        # inside a session: no arguments needed
    >>> client.me()["teams"]

The CLI, the notebook magics and the JupyterLab panels (through the server
extension) all use it.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import tenacity

from ..core.spaces import space_of
from .config import Endpoint, default, default_headers, resolve

DEFAULT_TIMEOUT = 30.0
RETRY_FOR_S = 20.0  # how long a request is retried through a restart of the service
RETRY_STATUSES = (502, 503, 504)
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class SubmarineAPIError(Exception):
    """The service refused a request; ``message`` says why, ``status`` is the HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status})")
        self.status = status
        self.message = message


def error_message(resp: httpx.Response) -> str:
    """Why a request failed: the service's JSON ``message``, else the start of the body
    (a proxy's HTML page while the service restarts), else the status's phrase."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200] or resp.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or resp.reason_phrase)


def _raise_for_status(resp: httpx.Response) -> None:
    if resp.is_success:
        return
    raise SubmarineAPIError(resp.status_code, error_message(resp))


def _decode(resp: httpx.Response) -> Any:
    _raise_for_status(resp)
    if not resp.content:
        return None
    return resp.json()


FINAL_STATES = ("succeeded", "failed", "killed")
#: Never packed into a code upload: version control, caches, environments, tool state
#: (a session's home holds .local, .cache, .ipython... and .submarine, its save journal).
SKIP_IN_UPLOADS = {
    ".git", "__pycache__", ".ipynb_checkpoints", ".venv", "node_modules",
    ".submarine", ".cache", ".local", ".ipython", ".jupyter", ".npm", ".config",
}  # fmt: skip


def template_path(ref: str) -> str:
    """``team/name`` -> ``team/name``; a bare ``name`` is a global template."""
    return ref if "/" in ref else f"_global/{ref}"


def pack_folder(folder: Path, limit: int = 16 * 1024 * 1024) -> bytes:
    """A .tar.gz of ``folder``'s contents; refuses one over ``limit`` bytes."""
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder.")
    buf = io.BytesIO()

    def skip(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if Path(info.name).name in SKIP_IN_UPLOADS else info

    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for child in sorted(folder.iterdir()):
            if child.name not in SKIP_IN_UPLOADS:
                tar.add(child, arcname=child.name, filter=skip)
    if buf.tell() > limit:
        raise ValueError(
            f"{folder} packs to {buf.tell()} bytes, over the {limit}-byte limit; "
            "use code from git for large folders."
        )
    return buf.getvalue()


def _folder_of(notebook: str | None) -> Path:
    """The folder of a notebook on this machine: ``notebook`` as given, else below the
    home folder (a session's paths are relative to it; a kernel's cwd may be elsewhere);
    no notebook (a cell run as a job): the current folder."""
    if notebook is None:
        return Path.cwd()
    for candidate in (Path(notebook or ""), Path.home() / (notebook or "")):
        if notebook and candidate.is_file():
            return candidate.resolve().parent
    raise ValueError(
        f"with_files sends the folder of a notebook on this machine; {notebook!r} is not "
        "a file here (relative to the current folder or your home)."
    )


def env_path(ref: str) -> str:
    """``team/name`` -> ``team/name``; a bare ``name`` is a global environment."""
    return ref if "/" in ref else f"_global/{ref}"


class _Base:
    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.endpoint: Endpoint = resolve(api_url, token)
        self._kwargs: dict[str, Any] = {
            "base_url": self.endpoint.api_url + "/",
            "headers": {
                "Authorization": f"token {self.endpoint.token}",
                "User-Agent": "submarine-hub-client",
                # what a request naming no team (environment) works in: the session's
                **default_headers(),
            },
            "timeout": timeout,
        }

    @property
    def default_team(self) -> str | None:
        """The team requests naming none work in (for a user of several teams): the
        session's ($SUBMARINE_TEAM), else ``submarine config set team``'s."""
        return default("team")

    @property
    def default_environment(self) -> str | None:
        """The environment profile runs naming none use: the session's."""
        return default("environment")

    @property
    def api_url(self) -> str:
        return self.endpoint.api_url


class _Unavailable(Exception):
    """502/503/504: the service is restarting (the proxy answers for it meanwhile)."""

    def __init__(self, resp: httpx.Response) -> None:
        self.resp = resp


def _can_repeat(method: str, kw: dict[str, Any]) -> bool:
    """Whether sending the request again is safe: an idempotent method, or a POST that
    carries an ``Idempotency-Key``; and a body that can be sent again (not a stream)."""
    content = kw.get("content")
    if "files" in kw or not (content is None or isinstance(content, bytes | str)):
        return False
    headers = {k.lower() for k in (kw.get("headers") or {})}
    return method.upper() in IDEMPOTENT or "idempotency-key" in headers


class SubmarineClient(_Base):
    """Synchronous client (SDK, CLI, magics).

    Through a restart of the service (connection refused, or the proxy's 502/503 for it)
    a request is tried again with a bounded backoff for up to ``retry_for`` seconds
    (default 20; 0: never), when that is safe: a GET, PUT, DELETE (or a POST with an
    ``Idempotency-Key``); any request whose connection was refused (it was never sent).
    """

    def __init__(
        self,
        api_url: str | None = None,
        token: str | None = None,
        *,
        retry_for: float = RETRY_FOR_S,
        **kw: Any,
    ) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.Client(**self._kwargs)
        self.retry_for = retry_for

    def request(self, method: str, path: str, **kw: Any) -> Any:
        repeatable = _can_repeat(method, kw)

        def retry(e: BaseException) -> bool:
            if isinstance(e, httpx.ConnectError):  # never reached the service
                return "files" not in kw and isinstance(kw.get("content"), bytes | str | None)
            return repeatable and isinstance(e, _Unavailable | httpx.TransportError)

        def send() -> httpx.Response:
            resp = self._http.request(method, path.lstrip("/"), **kw)
            if resp.status_code in RETRY_STATUSES:
                raise _Unavailable(resp)
            return resp

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_delay(self.retry_for),
            wait=tenacity.wait_random_exponential(multiplier=0.25, max=4.0),
            retry=tenacity.retry_if_exception(retry),
            reraise=True,
        )
        try:
            resp = retrying(send)
        except _Unavailable as e:
            resp = e.resp
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e
        return _decode(resp)

    def health(self) -> dict[str, Any]:
        return self.request("GET", "health")

    def me(self) -> dict[str, Any]:
        """Who you are: name, teams, admin flag and scopes."""
        return self.request("GET", "me")

    def teams(self) -> list[dict[str, Any]]:
        return self.request("GET", "teams")["items"]

    def team(self, name: str) -> dict[str, Any]:
        """A team with its members, effective quota and current usage."""
        return self.request("GET", f"teams/{name}")

    def update_team(self, name: str, **changes: Any) -> dict[str, Any]:
        """Admins: ``update_team("ml", quota={"max_sessions": 3}, description="...")``."""
        return self.request("PATCH", f"teams/{name}", json=changes)

    # --- environments ----------------------------------------------------------------
    def environments(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "environments", params=params)["items"]

    def environment(self, ref: str) -> dict[str, Any]:
        """``ref`` is ``team/name``, ``_global/name`` or a bare global name."""
        return self.request("GET", f"environments/{env_path(ref)}")

    def create_environment(self, name: str, team: str | None = None, **fields: Any) -> dict:
        return self.request("POST", "environments", json={"name": name, "team": team, **fields})

    def update_environment(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"environments/{env_path(ref)}", json=fields)

    def delete_environment(self, ref: str) -> None:
        self.request("DELETE", f"environments/{env_path(ref)}")

    def environment_build(self, ref: str, log: bool = False) -> dict[str, Any]:
        params = {"log": "1"} if log else None
        return self.request("GET", f"environments/{env_path(ref)}/build", params=params)

    def build_environment(
        self, ref: str, wait: bool = True, on_progress: Any = None, poll: float = 1.0
    ) -> dict[str, Any]:
        """Build ``ref`` (once); with ``wait``, until ready or failed."""
        import time

        status = self.request("POST", f"environments/{env_path(ref)}/build")
        while wait and status["state"] in ("pending", "building"):
            if on_progress:
                on_progress(status)
            time.sleep(poll)
            status = self.environment_build(ref)
        if on_progress:
            on_progress(status)
        return status

    # --- credentials -------------------------------------------------------------------
    def credentials(self) -> list[dict[str, Any]]:
        """Names and metadata only; values never come back."""
        return self.request("GET", "credentials")["items"]

    def add_credential(
        self,
        name: str,
        value: str | bytes,
        *,
        kind: str = "env",
        target: str | None = None,
        owner_kind: str = "user",
        owner: str | None = None,
    ) -> dict[str, Any]:
        import base64

        body: dict[str, Any] = {"name": name, "kind": kind, "owner_kind": owner_kind}
        if target:
            body["target"] = target
        if owner:
            body["owner"] = owner
        if isinstance(value, bytes):
            body["value_base64"] = base64.b64encode(value).decode()
        else:
            body["value"] = value
        return self.request("POST", "credentials", json=body)

    def delete_credential(self, name: str, *, owner_kind: str = "user", owner: str = "") -> None:
        owner = owner or (self.me()["name"] if owner_kind == "user" else "")
        self.request("DELETE", f"credentials/{owner_kind}/{owner}/{name}")

    def sessions(self) -> list[dict[str, Any]]:
        return self.request("GET", "sessions")["items"]

    # --- versioned files ---------------------------------------------------------------
    def whoami(self) -> str:
        if not getattr(self, "_name", None):
            self._name = os.environ.get("JUPYTERHUB_USER") or self.me()["name"]
        return self._name

    def locate(self, path: str, space: str | None = None) -> tuple[str, str]:
        """``(space, path)`` of a file by the sessions' rule (:mod:`submarine_hub.core.spaces`:
        ``teams/TEAM/x`` in team TEAM's space, ``shared/users/NAME/x`` in NAME's, anything
        else in yours); relative to your home (the session's root) when it is a local path."""
        if space:
            return space, path.strip("/")
        if os.path.isabs(path) or os.path.exists(path):
            root = os.path.realpath(
                os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
            )
            full = os.path.realpath(path)
            if full.startswith(root + os.sep):
                path = os.path.relpath(full, root)
        return space_of(path, self.whoami())

    def _file_args(self, path: str, space: str | None, **extra: Any) -> dict[str, Any]:
        sp, p = self.locate(path, space)
        return {"space": sp, "path": p, **{k: v for k, v in extra.items() if v is not None}}

    def file_history(self, path: str, space: str | None = None) -> list[dict[str, Any]]:
        """Versions of a file, newest first."""
        return self.request("GET", "files/versions", params=self._file_args(path, space))["items"]

    def file_content(
        self, path: str, version: int | None = None, space: str | None = None
    ) -> dict[str, Any]:
        """A version (the newest by default) with its ``content``."""
        params = self._file_args(path, space, version=version)
        return self.request("GET", "files/content", params=params)

    def save_file(
        self,
        path: str,
        content: Any,
        format: str = "notebook",
        *,
        message: str = "",
        base_version: int | None = None,
        space: str | None = None,
    ) -> dict[str, Any]:
        body = self._file_args(
            path, space, content=content, format=format, message=message, base_version=base_version
        )
        return self.request("POST", "files/versions", json=body)

    def diff(
        self,
        path: str,
        a: int,
        b: int,
        *,
        ignore_outputs: bool = False,
        ignore_metadata: bool = False,
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(
            path,
            space,
            a=a,
            b=b,
            ignore_outputs="1" if ignore_outputs else None,
            ignore_metadata="1" if ignore_metadata else None,
        )
        return self.request("GET", "files/diff", params=params)

    def restore(self, path: str, version: int, space: str | None = None) -> dict[str, Any]:
        """Make ``version`` the newest again (a new version; history is kept)."""
        body = self._file_args(path, space, version=version)
        return self.request("POST", "files/restore", json=body)

    def delete_file(self, path: str, space: str | None = None) -> dict[str, Any]:
        return self.request("DELETE", "files/content", params=self._file_args(path, space))

    def files(self, space: str | None = None, prefix: str = "", deleted: bool = False) -> list:
        params = {"space": space or f"user:{self.whoami()}", "prefix": prefix}
        if deleted:
            params["deleted"] = "1"
        return self.request("GET", "files", params=params)["items"]

    def export(
        self,
        path: str,
        fmt: str = "py:percent",
        version: int | None = None,
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(path, space, version=version, format=fmt)
        return self.request("GET", "files/export", params=params)

    def share(
        self,
        path: str,
        with_: str,
        *,
        kind: str = "user",
        mode: str = "r",
        space: str | None = None,
    ) -> dict[str, Any]:
        params = self._file_args(path, space)
        return self.request(
            "POST", "files/shares", params=params, json={"kind": kind, "with": with_, "mode": mode}
        )

    # -- experiments ------------------------------------------------------------------

    def submit(self, spec: dict[str, Any], *, parent: int | None = None) -> dict[str, Any]:
        """Submit an experiment spec (see ``experiment-schema``); returns the queued run."""
        params = {"parent": parent} if parent is not None else None
        return self.request("POST", "experiments", json=spec, params=params)

    def experiments(self, **filters: Any) -> dict[str, Any]:
        """A page of runs, newest first: ``team``, ``owner``, ``status`` (comma-separated),
        ``tag``, ``since``, ``until``, ``parent``, ``pipeline``, ``before`` (the cursor
        ``next`` of the previous page), ``limit``, ``metrics``."""
        params = {k: v for k, v in filters.items() if v is not None}
        if isinstance(params.get("status"), list | tuple):
            params["status"] = ",".join(params["status"])
        return self.request("GET", "experiments", params=params)

    def experiment(self, run_id: int) -> dict[str, Any]:
        return self.request("GET", f"experiments/{run_id}")

    def kill(self, run_id: int) -> dict[str, Any]:
        return self.request("POST", f"experiments/{run_id}/kill")

    def rerun(self, run_id: int) -> dict[str, Any]:
        return self.request("POST", f"experiments/{run_id}/rerun")

    def wait(
        self, run_id: int, *, timeout: float | None = None, poll: float = 0.5
    ) -> dict[str, Any]:
        """Block until the run ends; return it. ``TimeoutError`` after ``timeout`` s."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            run = self.experiment(run_id)
            if run["status"] in FINAL_STATES:
                return run
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"run {run_id} is still {run['status']} after {timeout} s")
            time.sleep(poll)

    def logs(self, run_id: int, name: str | None = None, *, offset: int = 0) -> str:
        params: dict[str, Any] = {"offset": offset}
        if name:
            params["name"] = name
        resp = self._http.get(f"experiments/{run_id}/logs", params=params)
        _raise_for_status(resp)
        return resp.text

    def follow_logs(self, run_id: int, name: str | None = None) -> Iterator[str]:
        """The log as it is written, until the run ends."""
        params: dict[str, Any] = {"follow": 1}
        if name:
            params["name"] = name
        with self._http.stream(
            "GET", f"experiments/{run_id}/logs", params=params, timeout=None
        ) as resp:
            if not resp.is_success:
                resp.read()
                _raise_for_status(resp)
            yield from resp.iter_text()

    def artifacts(self, run_id: int) -> list[dict[str, Any]]:
        return self.request("GET", f"experiments/{run_id}/artifacts")["items"]

    def download_artifact(self, run_id: int, path: str) -> bytes:
        resp = self._http.get(f"experiments/{run_id}/artifacts", params={"path": path})
        _raise_for_status(resp)
        return resp.content

    def log_metrics(
        self,
        run_id: int,
        metrics: list[dict[str, Any]] | None = None,
        params: dict[str, Any] | None = None,
        *,
        replay: bool = False,
    ) -> dict[str, Any]:
        """Store points; ``replay``: the batch may have been stored before (its answer was
        lost), the service skips the points the run has."""
        body: dict[str, Any] = {"metrics": metrics or [], "params": params or {}}
        if replay:
            body["replay"] = True
        return self.request("POST", f"experiments/{run_id}/metrics", json=body)

    def metrics(self, run_id: int, key: str | None = None) -> dict[str, Any]:
        params = {"key": key} if key else None
        return self.request("GET", f"experiments/{run_id}/metrics", params=params)

    def upload_code(self, folder: str | os.PathLike[str]) -> str:
        """Upload a folder (as .tar.gz, skipping .git and caches); returns the upload id."""
        data = pack_folder(Path(folder))
        return self.request(
            "POST", "uploads", content=data, headers={"Content-Type": "application/gzip"}
        )["id"]

    # -- templates -----------------------------------------------------------------------

    def templates(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "templates", params=params)["items"]

    def template(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"templates/{template_path(ref)}")

    def create_template(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "templates", json=body)

    def update_template(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"templates/{template_path(ref)}", json=fields)

    def delete_template(self, ref: str) -> None:
        self.request("DELETE", f"templates/{template_path(ref)}")

    def run_template(
        self,
        ref: str,
        parameters: dict[str, Any] | None = None,
        *,
        parent: int | None = None,
        **spec: Any,
    ) -> dict[str, Any]:
        """Submit a run of a template; ``spec`` may set ``meta`` (name, team, tags) etc.
        ``parent``: the run this one is a child of (a sweep's trials)."""
        body = {"parameters": parameters or {}, **spec}
        params = {"parent": parent} if parent is not None else None
        return self.request(
            "POST", f"templates/{template_path(ref)}/runs", json=body, params=params
        )

    # -- pipelines -----------------------------------------------------------------------

    def submit_pipeline(self, body: dict[str, Any]) -> dict[str, Any]:
        return self.request("POST", "pipelines", json=body)

    def pipelines(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "pipelines", params=params)["items"]

    def pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("GET", f"pipelines/{pipeline_id}")

    def terminate_pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("POST", f"pipelines/{pipeline_id}/terminate")

    def retry_pipeline(self, pipeline_id: int) -> dict[str, Any]:
        return self.request("POST", f"pipelines/{pipeline_id}/retry")

    # -- notebook jobs ----------------------------------------------------------------------

    def _notebook_ref(
        self, notebook: str, space: str | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """A notebook path as the service reads it: a local path of your session becomes
        relative to its root; ``teams/<team>/...`` is in the team's space."""
        path = notebook
        if not space and (os.path.isabs(path) or os.path.exists(path)):
            root = os.path.realpath(
                os.environ.get("SUBMARINE_SERVER_ROOT") or os.path.expanduser("~")
            )
            full = os.path.realpath(path)
            if full.startswith(root + os.sep):
                path = os.path.relpath(full, root)
        out: dict[str, Any] = {"notebook": path.strip("/")}
        if space:
            out["space"] = space
        if version is not None:
            out["version"] = version
        return out

    def _job_body(
        self,
        notebook: str | None,
        parameters: dict[str, Any] | None,
        *,
        version: int | None,
        space: str | None,
        content: dict[str, Any] | None,
        job: dict[str, Any],
    ) -> dict[str, Any]:
        body = {k: v for k, v in job.items() if v is not None}
        with_files = body.pop("with_files", None)
        if with_files:
            folder = with_files if not isinstance(with_files, bool) else _folder_of(notebook)
            body["files"] = self.upload_code(folder)
        if content is not None:
            body["content"] = content
        elif notebook:
            body.update(self._notebook_ref(notebook, space, version))
        else:
            raise ValueError("Give a notebook path, or its content.")
        if parameters is not None:
            body["parameters"] = parameters
        return body

    def notebook_parameters(
        self, notebook: str, *, version: int | None = None, space: str | None = None
    ) -> dict[str, Any]:
        """The parameters of a notebook's cell tagged ``parameters``: name, type, default."""
        params = self._notebook_ref(notebook, space, version)
        return self.request("GET", "notebook-jobs/parameters", params=params)

    def run_notebook(
        self,
        notebook: str | None = None,
        parameters: dict[str, Any] | None = None,
        *,
        version: int | None = None,
        space: str | None = None,
        content: dict[str, Any] | None = None,
        **job: Any,
    ) -> dict[str, Any]:
        """Run a notebook as a job; returns its run (``output`` names the executed notebook).

        ``job`` may set ``name``, ``team``, ``tags``, ``environment``, ``resources``,
        ``timeout``, ``env``, ``credentials``, and for a fan-out ``parameter_sets`` (a
        list) or ``grid`` (``{name: [values]}``). ``content``: a notebook to run instead
        of a stored one (it is kept in the team's jobs folder). ``with_files=True`` sends
        the files of the notebook's folder on this machine (or give a folder) to be
        beside it when it runs."""
        body = self._job_body(
            notebook, parameters, version=version, space=space, content=content, job=job
        )
        return self.request("POST", "notebook-jobs", json=body)

    def notebook_job(self, run_id: int) -> dict[str, Any]:
        """A notebook job: its run, notebook version, executed output, error cell, and a
        fan-out's children with a summary of their results."""
        return self.request("GET", f"notebook-jobs/{run_id}")

    def schedule_notebook(
        self,
        notebook: str | None,
        cron: str,
        parameters: dict[str, Any] | None = None,
        *,
        timezone: str = "UTC",
        catchup: str = "skip",
        name: str | None = None,
        paused: bool = False,
        version: int | None = None,
        space: str | None = None,
        content: dict[str, Any] | None = None,
        **job: Any,
    ) -> dict[str, Any]:
        """Run a notebook on a cron schedule (5 fields, or 6 with seconds first)."""
        body: dict[str, Any] = {
            "cron": cron,
            "timezone": timezone,
            "catchup": catchup,
            "paused": paused,
            "job": self._job_body(
                notebook, parameters, version=version, space=space, content=content, job=job
            ),
        }
        if name:
            body["name"] = name
        return self.request("POST", "notebook-schedules", json=body)

    def notebook_schedules(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "notebook-schedules", params=params)["items"]

    def notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.request("GET", f"notebook-schedules/{schedule_id}")

    def update_notebook_schedule(self, schedule_id: int, **changes: Any) -> dict[str, Any]:
        return self.request("PATCH", f"notebook-schedules/{schedule_id}", json=changes)

    def pause_notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.update_notebook_schedule(schedule_id, paused=True)

    def resume_notebook_schedule(self, schedule_id: int) -> dict[str, Any]:
        return self.update_notebook_schedule(schedule_id, paused=False)

    def delete_notebook_schedule(self, schedule_id: int) -> None:
        self.request("DELETE", f"notebook-schedules/{schedule_id}")

    def notebook_schedule_runs(self, schedule_id: int, limit: int = 50) -> list[dict[str, Any]]:
        """Its firings, newest first: the run each started, or why none was."""
        out = self.request("GET", f"notebook-schedules/{schedule_id}/runs", params={"limit": limit})
        return out["items"]

    # -- models ---------------------------------------------------------------------------

    def models(self, team: str | None = None) -> list[dict[str, Any]]:
        params = {"team": team} if team else None
        return self.request("GET", "models", params=params)["items"]

    def model(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"models/{ref}")

    def create_model(self, name: str, team: str | None = None, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "models", json={"name": name, "team": team, **fields})

    def update_model(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"models/{ref}", json=fields)

    def delete_model(self, ref: str) -> None:
        self.request("DELETE", f"models/{ref}")

    def register_model(
        self,
        ref: str,
        files: list[str | os.PathLike[str]] | None = None,
        *,
        from_run: int | None = None,
        run_paths: list[str] | None = None,
        create: bool = True,
        **fields: Any,
    ) -> dict[str, Any]:
        """A new version of model ``team/name`` from local ``files`` (streamed, checked by
        SHA-256) or from a run's outputs (``from_run`` + ``run_paths``). Creates the model
        first if ``create`` and it does not exist."""
        team, _, name = ref.rpartition("/")
        if create:
            try:
                self.model(f"{team}/{name}")
            except SubmarineAPIError as e:
                if e.status != 404:
                    raise
                self.create_model(name, team or None)
        if from_run is not None:
            body = {**fields, "from_run": {"run_id": from_run, "paths": run_paths or []}}
            return self.request("POST", f"models/{ref}/versions", json=body)
        version = self.request("POST", f"models/{ref}/versions", json=fields)
        number = version["version"]
        for item in files or []:
            path = Path(item)
            targets = (
                [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
            )
            for f in targets:
                rel = f.name if f == path else f.relative_to(path).as_posix()
                self.upload_model_file(ref, number, f, rel)
        return self.request("POST", f"models/{ref}/versions/{number}/ready")

    def upload_model_file(
        self, ref: str, version: int, source: str | os.PathLike[str], path: str
    ) -> dict[str, Any]:
        return self._put_file(f"models/{ref}/versions/{version}/files", source, path)

    def upload_run_artifact(
        self, run_id: int, source: str | os.PathLike[str], path: str | None = None
    ) -> dict[str, Any]:
        """Add a file to a live run's artifacts (as ``path``, default its name)."""
        return self._put_file(f"experiments/{run_id}/artifacts", source, path or Path(source).name)

    def _put_file(self, url: str, source: str | os.PathLike[str], path: str) -> dict[str, Any]:
        """PUT a file's bytes streamed, with its SHA-256 for the service to check."""
        digest = hashlib.sha256()
        with open(source, "rb") as f:
            while chunk := f.read(1024 * 1024):
                digest.update(chunk)

        def chunks() -> Iterator[bytes]:
            with open(source, "rb") as f:
                while chunk := f.read(1024 * 1024):
                    yield chunk

        return self.request(
            "PUT",
            url,
            params={"path": path},
            content=chunks(),
            headers={"X-Content-SHA256": digest.hexdigest()},
            timeout=None,
        )

    def download_model(self, ref: str, version: str | int, target: str | os.PathLike[str]) -> Path:
        """Every file of a version into folder ``target``, each checked by SHA-256."""
        info = self.request("GET", f"models/{ref}/versions/{version}")
        root = Path(target)
        for entry in info["files"]:
            dest = root / entry["path"]
            dest.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            with self._http.stream(
                "GET",
                f"models/{ref}/versions/{version}/files",
                params={"path": entry["path"]},
                timeout=None,
            ) as resp:
                if not resp.is_success:
                    resp.read()
                    _raise_for_status(resp)
                with open(dest, "wb") as out:
                    for chunk in resp.iter_bytes(1024 * 1024):
                        digest.update(chunk)
                        out.write(chunk)
            if digest.hexdigest() != entry["sha256"]:
                raise SubmarineAPIError(502, f"{entry['path']}: its SHA-256 does not match.")
        return root

    def model_version(self, ref: str, version: str | int) -> dict[str, Any]:
        return self.request("GET", f"models/{ref}/versions/{version}")

    def update_model_version(self, ref: str, version: str | int, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"models/{ref}/versions/{version}", json=fields)

    def delete_model_version(self, ref: str, version: str | int) -> None:
        self.request("DELETE", f"models/{ref}/versions/{version}")

    def set_alias(self, ref: str, alias: str, version: int) -> dict[str, Any]:
        return self.request("PUT", f"models/{ref}/aliases/{alias}", json={"version": version})

    def delete_alias(self, ref: str, alias: str) -> None:
        self.request("DELETE", f"models/{ref}/aliases/{alias}")

    # -- datasets, lineage, comparison --------------------------------------------------

    def datasets(self, team: str | None = None, tag: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("team", team), ("tag", tag)) if v}
        return self.request("GET", "datasets", params=params)["items"]

    def dataset(self, ref: str) -> dict[str, Any]:
        return self.request("GET", f"datasets/{ref}")

    def create_dataset(self, name: str, uri: str, **fields: Any) -> dict[str, Any]:
        return self.request("POST", "datasets", json={"name": name, "uri": uri, **fields})

    def update_dataset(self, ref: str, **fields: Any) -> dict[str, Any]:
        return self.request("PATCH", f"datasets/{ref}", json=fields)

    def delete_dataset(self, ref: str) -> None:
        self.request("DELETE", f"datasets/{ref}")

    def lineage(self, **of: Any) -> dict[str, Any]:
        """``dataset="team/name"``, ``run=7``, ``model="team/name"`` (+ ``version``) or
        ``endpoint="team/name"``: the graph of datasets, runs, model versions, endpoints."""
        return self.request("GET", "lineage", params={k: v for k, v in of.items() if v is not None})

    def compare(self, run_ids: list[int]) -> dict[str, Any]:
        return self.request(
            "GET", "experiments/compare", params={"ids": ",".join(map(str, run_ids))}
        )

    # -- serving endpoints ----------------------------------------------------------------

    def _endpoint_ref(self, ref: str) -> str:
        """``team/name``; a bare ``name`` is an endpoint of your only team, else of your
        default team (the session's, or ``submarine config set team``'s)."""
        if "/" in ref:
            return ref
        teams = [t["name"] if isinstance(t, dict) else t for t in self.me()["teams"]]
        if len(teams) == 1:
            return f"{teams[0]}/{ref}"
        if self.default_team in teams:
            return f"{self.default_team}/{ref}"
        example = teams[0] if teams else "TEAM"
        raise SubmarineAPIError(
            400,
            f"Say which team's endpoint: {example}/{ref}, or set a default team once: "
            f"submarine config set team {example}",
        )

    def endpoints(self, team: str | None = None, stopped: bool = False) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"team": team} if team else {}
        if stopped:
            params["stopped"] = "1"
        return self.request("GET", "endpoints", params=params)["items"]

    def get_endpoint(self, ref: str) -> dict[str, Any]:
        """An endpoint with its routes, what its server serves now, and its statistics."""
        return self.request("GET", f"endpoints/{self._endpoint_ref(ref)}")

    def create_endpoint(
        self,
        name: str,
        model: str | None = None,
        version: str | int = "production",
        *,
        team: str | None = None,
        routes: list[dict[str, Any]] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """Serve ``model`` at ``version`` (a number or an alias), or ``routes`` (a list of
        ``{model, version, weight}``); ``options``: ``script``, ``loader``, ``method``,
        ``threads``, ``resources``, ``description``, ``access_log``."""
        body: dict[str, Any] = {"name": name, **options}
        if team:
            body["team"] = team
        if routes is not None:
            body["routes"] = routes
        else:
            body.update(model=model, version=version)
        return self.request("POST", "endpoints", json=body)

    def update_endpoint(self, ref: str, **changes: Any) -> dict[str, Any]:
        """A rolling update: ``version=4``, ``routes=[...]`` (new weights or versions),
        options; with no change, aliases are resolved again."""
        return self.request("PATCH", f"endpoints/{self._endpoint_ref(ref)}", json=changes)

    def stop_endpoint(self, ref: str, purge: bool = False) -> dict[str, Any] | None:
        params = {"purge": "1"} if purge else None
        return self.request("DELETE", f"endpoints/{self._endpoint_ref(ref)}", params=params)

    def wait_endpoint(self, ref: str, timeout: float = 300.0) -> dict[str, Any]:
        """Until the endpoint serves its current generation (or failed); the endpoint."""
        ref = self._endpoint_ref(ref)
        deadline = time.monotonic() + timeout
        while True:
            ep = self.get_endpoint(ref)
            serving = (ep.get("serving") or {}).get("generation")
            if ep["status"] == "ready" and serving == ep["generation"]:
                return ep
            if ep["status"] in ("failed", "stopped") or (ep["status"] == "ready" and ep["reason"]):
                return ep
            if time.monotonic() > deadline:
                raise SubmarineAPIError(504, f"Endpoint {ref} is still {ep['status']}.")
            time.sleep(0.3)

    def endpoint_logs(self, ref: str, *, offset: int = 0) -> str:
        resp = self._http.get(
            f"endpoints/{self._endpoint_ref(ref)}/logs", params={"offset": offset}
        )
        _raise_for_status(resp)
        return resp.text

    def follow_endpoint_logs(self, ref: str) -> Iterator[str]:
        with self._http.stream(
            "GET",
            f"endpoints/{self._endpoint_ref(ref)}/logs",
            params={"follow": "1"},
            timeout=None,
        ) as resp:
            if not resp.is_success:
                resp.read()
                _raise_for_status(resp)
            yield from resp.iter_text()

    def endpoint_url(self, ref: str) -> str:
        """Where the endpoint answers, through the hub's proxy."""
        url = self.get_endpoint(ref)["url"]
        if "://" in url:
            return url
        base = self.api_url
        marker = "/services/"
        return (base[: base.index(marker)] if marker in base else base) + url

    def predict(
        self, ref: str, inputs: Any, *, version: int | None = None, url: str | None = None
    ) -> dict[str, Any]:
        """``{"predictions": [...], "model": ..., "version": N}`` from the endpoint, called
        through the hub with your token (``url``: skip looking the endpoint up)."""
        target = (url or self.endpoint_url(ref)).rstrip("/") + "/predict"
        params = {"version": str(version)} if version is not None else None
        try:
            resp = self._http.post(target, json={"inputs": inputs}, params=params)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(503, f"Could not reach the endpoint at {target}: {e}") from e
        return _decode(resp)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SubmarineClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncSubmarineClient(_Base):
    """Asynchronous client (the jupyter-server extension)."""

    def __init__(self, api_url: str | None = None, token: str | None = None, **kw: Any) -> None:
        super().__init__(api_url, token, **kw)
        self._http = httpx.AsyncClient(**self._kwargs)

    async def send(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """The raw response, errors included, for callers that relay it as it is."""
        try:
            return await self._http.request(method, path.lstrip("/"), **kw)
        except httpx.HTTPError as e:
            raise SubmarineAPIError(
                503, f"Could not reach the Submarine service at {self.api_url}: {e}"
            ) from e

    async def request(self, method: str, path: str, **kw: Any) -> Any:
        return _decode(await self.send(method, path, **kw))

    async def me(self) -> dict[str, Any]:
        return await self.request("GET", "me")

    async def close(self) -> None:
        await self._http.aclose()
