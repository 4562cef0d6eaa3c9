"""The ``submarine`` service in-process: the real tornado application, metastore and handlers,
with a fake hub directory, a token identity provider and a fake experiment backend.

What is real: :meth:`SubmarineService.make_context` and :meth:`SubmarineService.make_app`
(every handler, the metastore with its migrations, uploads, the artifact store, the
notebook-job scheduler, builds turned off as in standalone mode). What is fake:

- the hub's directory of users and groups (:class:`FakeHubDirectory`, the
  :class:`~submarine_hub.service.hub.HubDirectory` protocol), edited by tests;
- who is calling (:class:`TokenIdentities`, the ``submarine_identity_provider`` protocol
  of :mod:`submarine_hub.service.handlers.base`): ``Authorization: token T`` names the
  user (or service) ``T`` was made for, with the scopes it was made with;
- where runs execute (:class:`FakeExperimentBackend`): a launched run succeeds at once
  unless told to hold, so tests see the whole life of a run without processes;
- where endpoints run (:class:`FakeEndpointBackend`): nothing runs, nothing is registered.

The application listens on a free port of 127.0.0.1 in a thread of its own (its own event
loop), so tests stay synchronous and call it with ``requests`` as they call the real hub
(:meth:`InProcessService.api` has :meth:`tests.helpers.hub.Hub.api`'s signature).

Every request is recorded (:class:`RouteRecorder`): which handler answered which method,
with which status, and as which case of the route test (the ``X-Test-Case`` header).
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from tornado.web import RequestHandler

from submarine_hub.backends.base import EndpointBackend, ExperimentBackend, ProcessState
from submarine_hub.core.errors import Forbidden
from submarine_hub.core.experiments.backend import (
    FAILED,
    KILLED,
    RUNNING,
    SUCCEEDED,
    LaunchPlan,
    ReplicaState,
    RunState,
)
from submarine_hub.service.app import MAX_STREAMED_BODY, SubmarineService
from submarine_hub.service.context import ServiceContext
from submarine_hub.store import upgrade

from .hub import free_port

T = TypeVar("T")

PREFIX = "/services/submarine/"
SERVICE_SCOPE = "access:services!service=submarine"
#: The demo hub's users and teams (``jupyterhub_config.py``), which the hub tests use too.
DEMO_TEAMS = {"data-science": ["alice", "bob"], "ml-platform": ["bob", "carol"]}
DEMO_ADMIN = "admin"
#: Header naming the case of the route test a request belongs to (see RouteRecorder).
CASE_HEADER = "X-Test-Case"
CASES = ("ok", "bad", "other")
#: Where the route test leaves its one-line summary for the end of the run.
ROUTE_SUMMARY = pytest.StashKey[str]()
SERVER_SUMMARY = pytest.StashKey[str]()  # the server extension's, likewise


# --- who is who ------------------------------------------------------------------------


class FakeHubDirectory:
    """Users and groups as a hub would list them; tests add and change them.

    Implements :class:`~submarine_hub.service.hub.HubDirectory` (what the service reads
    from the hub's API) plus ``running_servers`` (the admission reconciler's question)."""

    def __init__(self) -> None:
        self.admins: set[str] = set()
        self.members: dict[str, set[str]] = {}  # team -> users
        self.names: set[str] = set()
        self.stopped: list[tuple[str, str]] = []  # servers the service asked to stop
        self.servers: set[tuple[str, str]] = set()

    def add_user(self, name: str, *, teams: Iterable[str] = (), admin: bool = False) -> None:
        self.names.add(name)
        if admin:
            self.admins.add(name)
        for team in teams:
            self.members.setdefault(team, set()).add(name)

    def add_team(self, team: str, members: Iterable[str] = ()) -> None:
        self.members.setdefault(team, set())
        for name in members:
            self.add_user(name, teams=[team])

    def remove_from_team(self, team: str, name: str) -> None:
        self.members.get(team, set()).discard(name)

    def teams_of(self, name: str) -> list[str]:
        return sorted(t for t, users in list(self.members.items()) if name in users)

    def model(self, name: str) -> dict[str, Any]:
        return {
            "kind": "user",
            "name": name,
            "admin": name in self.admins,
            "groups": self.teams_of(name),
        }

    async def user(self, name: str) -> dict[str, Any] | None:
        return self.model(name) if name in self.names else None

    async def user_names(self) -> list[str]:
        return sorted(self.names)

    async def groups(self) -> dict[str, list[str]]:
        return {team: sorted(users) for team, users in list(self.members.items())}

    async def running_servers(self) -> set[tuple[str, str]]:
        return set(self.servers)

    async def stop_server(self, user: str, server_name: str = "") -> None:
        self.stopped.append((user, server_name))
        self.servers.discard((user, server_name))

    # team rooms: the account joins the group, its server runs, shared with the group
    shares: set[tuple[str, str]]  # (account, group)

    async def open_room(self, account: str, team: str) -> str:
        self.add_user(account, teams=[team])
        self.servers.add((account, ""))
        self.shares = getattr(self, "shares", set()) | {(account, team)}
        return "ready"

    user_shares: dict[str, set[str]]  # account -> members shared with by name

    async def sync_room(self, account: str, team: str) -> tuple[list[str], list[str]]:
        shares = getattr(self, "user_shares", None)
        if shares is None:
            shares = self.user_shares = {}
        members = self.members.get(team, set()) - {account}
        had = shares.get(account, set())
        shares[account] = set(members)
        return sorted(members - had), sorted(had - members)

    async def room_state(self, account: str) -> str:
        return "ready" if (account, "") in self.servers else "stopped"

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class Token:
    name: str
    kind: str = "user"  # or "service"
    scopes: tuple[str, ...] = ("self", SERVICE_SCOPE)


class TokenIdentities:
    """The service's identity provider in tests: ``Authorization: token T`` is whoever
    ``T`` was made for (:meth:`token`), as JupyterHub would answer for an API token.

    A token without ``access:services!service=submarine`` is refused with the hub's 403;
    an unknown token or none is an anonymous caller (401 on a non-public route)."""

    login_hint = (
        "Authentication required: send 'Authorization: token <JupyterHub API token>' "
        "or log in to the hub."
    )

    def __init__(self, directory: FakeHubDirectory) -> None:
        self.directory = directory
        self.tokens: dict[str, Token] = {}

    def token(self, name: str, *, kind: str = "user", scopes: Iterable[str] | None = None) -> str:
        value = secrets.token_hex(16)
        self.tokens[value] = Token(
            name, kind, tuple(scopes) if scopes is not None else Token.scopes
        )
        return value

    async def check_request(self, handler: Any) -> None:
        return None

    async def user_model(self, handler: Any) -> dict[str, Any] | None:
        scheme, _, value = handler.request.headers.get("Authorization", "").partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() in ("token", "bearer") else None
        if token is None:
            return None
        if SERVICE_SCOPE not in token.scopes:
            raise Forbidden(
                f"{token.kind} {token.name} may not use the submarine service (the scope "
                f"{SERVICE_SCOPE} is missing)."
            )
        if token.kind != "user":
            return {"kind": token.kind, "name": token.name, "scopes": list(token.scopes)}
        return {**self.directory.model(token.name), "scopes": list(token.scopes)}


# --- where work runs ---------------------------------------------------------------------


@dataclass
class FakeRun:
    plan: LaunchPlan
    state: RunState
    logs: dict[str, bytes] = field(default_factory=dict)


class FakeExperimentBackend(ExperimentBackend):
    """An :class:`~submarine_hub.backends.base.ExperimentBackend` that runs nothing: a
    launched run is ``running``, then, unless :attr:`hold` is set, ``succeeded`` at the
    scheduler's next look, with one log line per replica. :meth:`finish` ends a held run
    as a test says. Its folders (artifacts, spool) are real, under ``root``."""

    name = "fake"

    def __init__(self, root: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.root = root
        self.runs: dict[int, FakeRun] = {}
        self.hold = False
        self.spark_ui = ""  # what a Spark run's driver UI is said to be (a test's server)

    def run_dir(self, run_id: int) -> Path:
        return self.root / str(run_id)

    def artifacts_dir(self, run_id: int) -> Path:
        return self.run_dir(run_id) / "artifacts"

    def artifacts_location(self, run_id: int) -> str:
        return str(self.artifacts_dir(run_id))

    def local_artifacts(self, run_id: int) -> Path:
        return self.artifacts_dir(run_id)

    async def launch(self, plan: LaunchPlan) -> None:
        if plan.run_id in self.runs:
            return
        self.artifacts_dir(plan.run_id).mkdir(parents=True, exist_ok=True)
        names = [r.name for r in plan.replicas] or ["main-0"]
        state = RunState(
            RUNNING,
            started_at=time.time(),
            replicas=[ReplicaState(n, RUNNING) for n in names],
        )
        logs = {n: f"{plan.name} {n} started\n".encode() for n in names}
        self.runs[plan.run_id] = FakeRun(plan, state, logs)
        if not self.hold:
            self.finish(plan.run_id)

    def finish(self, run_id: int, status: str = SUCCEEDED, exit_code: int | None = None) -> None:
        """End a run: ``succeeded`` (exit 0), ``failed`` (exit 1) or ``killed``."""
        run = self.runs[run_id]
        code = exit_code if exit_code is not None else {SUCCEEDED: 0, FAILED: 1}.get(status)
        run.state.status, run.state.exit_code = status, code
        run.state.finished_at = time.time()
        run.state.reason = "" if status == SUCCEEDED else f"{status} (fake backend)"
        for replica in run.state.replicas:
            replica.status, replica.exit_code = status, code
        if self.on_change is not None:
            self.on_change()

    async def kill(self, run_id: int) -> None:
        if run_id in self.runs and not self.runs[run_id].state.final:
            self.finish(run_id, KILLED)

    async def state(self, run_id: int) -> RunState | None:
        run = self.runs.get(run_id)
        return run.state if run else None

    async def log_names(self, run_id: int) -> list[str]:
        run = self.runs.get(run_id)
        return sorted(run.logs) if run else []

    async def read_log(self, run_id: int, name: str, offset: int, limit: int) -> bytes:
        run = self.runs.get(run_id)
        return run.logs.get(name, b"")[offset : offset + limit] if run else b""

    async def spark_info(self, run_id: int) -> dict[str, Any] | None:
        """A Spark run's application: two executors while it runs, its UI ``spark_ui``."""
        run = self.runs.get(run_id)
        if run is None or run.plan.spark is None:
            return None
        live = not run.state.final
        return {
            "name": run.plan.spark["name"],
            "master": "spark://fake:7077",
            "app_id": "app-fake-0001" if live else None,
            "running": live,
            "executors": 2 if live else 0,
            "cores": 2 if live else 0,
            "ui": self.spark_ui,
        }

    async def close(self) -> None:
        return None


class FakeEndpointBackend(EndpointBackend):
    """Endpoints that never start: the metastore's records and the handlers are real.
    A test may say what a server reports (:attr:`states`); none does unless told."""

    name = "fake"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.states: dict[int, ProcessState] = {}

    async def apply(self, endpoint_id: int, config: dict[str, Any]) -> None:
        return None

    async def write_access(self, endpoint_id: int, access: dict[str, Any]) -> None:
        return None

    async def state(self, endpoint_id: int) -> ProcessState | None:
        return self.states.get(endpoint_id)

    async def read_log(self, endpoint_id: int, offset: int, limit: int) -> bytes:
        return b"fake endpoint log\n"[offset : offset + limit]

    async def stop(self, endpoint_id: int) -> None:
        return None

    async def remove(self, endpoint_id: int) -> None:
        return None

    async def known(self) -> list[int]:
        return []

    async def close(self) -> None:
        return None


class FakePredictHandler(RequestHandler):
    """An endpoint's server as the proxy reaches it: answers a prediction to a known token."""

    def initialize(self, service: InProcessService) -> None:
        self.service = service

    def post(self, name: str) -> None:
        _, _, token = self.request.headers.get("Authorization", "").partition(" ")
        if token not in self.service.identities.tokens:
            self.set_status(403)
            self.finish({"status": 403, "message": "not a token of this hub"})
            return
        body = json.loads(self.request.body or b"{}")
        self.finish({"endpoint": name, "predictions": [0 for _ in body.get("instances", [])]})


# --- what was called -----------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    handler: str  # the handler's API path (``/teams/{team}``), else its class's name
    method: str
    status: int
    case: str  # "" outside the route test


class RouteRecorder:
    """Every request the application answered (thread-safe: appended from its loop)."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []

    def wrap(self, app: WebApplication) -> None:
        original = app.settings.get("log_function")

        def log_function(handler: Any) -> None:
            self.hits.append(
                Hit(
                    getattr(type(handler), "path", "") or type(handler).__name__,
                    handler.request.method or "",
                    handler.get_status(),
                    handler.request.headers.get(CASE_HEADER, ""),
                )
            )
            if original is not None:
                original(handler)

        app.settings["log_function"] = log_function

    def cases(self) -> dict[tuple[str, str], set[str]]:
        """``{(path or handler, METHOD): {case, ...}}`` of the requests whose status fit their
        case: ``ok`` a 2xx/3xx, ``bad`` a 4xx other than 401, ``other`` a 403 or 404."""
        out: dict[tuple[str, str], set[str]] = {}
        for hit in self.hits:
            if case_fits(hit.case, hit.status):
                out.setdefault((hit.handler, hit.method), set()).add(hit.case)
        return out


def case_fits(case: str, status: int) -> bool:
    if case == "ok":
        return status < 400
    if case == "bad":
        return 400 <= status < 500 and status != 401
    if case == "other":
        return status in (403, 404)
    return False


# --- the service ---------------------------------------------------------------------------


class _TestService(SubmarineService):
    """The service application with the fake experiment backend."""

    fake_backend: FakeExperimentBackend

    def make_experiment_backend(self) -> Any:
        return self.fake_backend


class InProcessService:
    """The service's application on a free port, in a thread with its own event loop."""

    def __init__(self, root: Path, db_url: str | None = None) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.db_url = db_url or f"sqlite:///{root / 'submarine.sqlite'}"
        self.directory = FakeHubDirectory()
        self.identities = TokenIdentities(self.directory)
        self.backend = FakeExperimentBackend(root / "runs")
        self.endpoints = FakeEndpointBackend()
        self.recorder = RouteRecorder()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = requests.Session()
        self.context: ServiceContext | None = None
        self.app: WebApplication | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._tokens: dict[tuple[str, str, tuple[str, ...] | None], str] = {}
        self._counter = 0
        for team, members in DEMO_TEAMS.items():
            self.directory.add_team(team, members)
        self.directory.add_user(DEMO_ADMIN, admin=True)

    # --- lifecycle ----------------------------------------------------------------------
    def make_service(self) -> SubmarineService:
        service = _TestService(
            data_dir=str(self.root),
            db_url=self.db_url,
            service_prefix=PREFIX,
            url=self.url,
            api_token="in-process-service-token",  # HubOAuth wants one; never sent
            crypt_key="0" * 64,
            build_environments=False,
            run_as_owner=False,
            notebook_pool_size=0,
            session_reconcile_interval=0,
            log_style="text",
            hub_api_url="http://127.0.0.1:1/hub/api",  # never called: the directory is fake
        )
        service.fake_backend = self.backend
        return service

    def start(self, timeout: float = 60) -> InProcessService:
        upgrade(self.db_url)
        self._thread = threading.Thread(target=self._run, name="submarine-service", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the in-process service did not start")
        if self._error is not None:
            raise RuntimeError("the in-process service did not start") from self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(self._serve())
        except BaseException as e:  # reported by start()
            self._error = e
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        from submarine_hub.serving.manager import EndpointManager

        service = self.make_service()
        context = service.make_context(self.directory)
        await service.start_platform(context)
        context.endpoints = EndpointManager(
            context.db,
            self.endpoints,
            hub=None,
            hub_api_url=service.hub_api_url,
            store_url=service.artifact_store_url,
            key_dir=self.root / "endpoints",
            parent=service,
        )
        context.endpoints.started = True  # its loop would reconcile with a real hub: not here
        app = service.make_app(context)
        app.settings["submarine_identity_provider"] = self.identities
        # where the hub's proxy would route an endpoint's predictions: a stand-in server
        app.add_handlers(
            ".*$",
            [(r"/services/(endpoint-[^/]+)/predict", FakePredictHandler, {"service": self})],
        )
        self.recorder.wrap(app)
        server = HTTPServer(app, max_body_size=MAX_STREAMED_BODY)
        server.listen(self.port, "127.0.0.1")
        self.context, self.app = context, app
        self._stopped = asyncio.Event()
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            server.stop()
            await server.close_all_connections()
            await service.stop_platform(context)

    def stop(self) -> None:
        if self._loop is not None and self._stopped is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
            self._thread.join(30)
        self.http.close()

    def call(self, make: Callable[[ServiceContext], Awaitable[T]], timeout: float = 30) -> T:
        """Run ``make(context)`` on the service's loop (direct access to its metastore)."""
        assert self._loop is not None and self.context is not None
        context = self.context
        return asyncio.run_coroutine_threadsafe(_awaited(make, context), self._loop).result(timeout)

    def wake(self) -> None:
        """Have the experiment scheduler look at runs now (after a held run was finished)."""
        assert self._loop is not None and self.context is not None
        self._loop.call_soon_threadsafe(self.context.experiments.wake)

    # --- people -------------------------------------------------------------------------
    def unique(self, prefix: str) -> str:
        """A name no other test uses (for teams, objects and users of one test)."""
        self._counter += 1
        return f"{prefix}-{self._counter}-{secrets.token_hex(2)}"

    def new_team(self, prefix: str = "team", members: Iterable[str] = ()) -> str:
        """A team of its own for one test (its quota, its objects), with ``members``."""
        team = self.unique(prefix)
        self.directory.add_team(team, members)
        return team

    def new_user(self, prefix: str = "user", teams: Iterable[str] = ()) -> str:
        name = self.unique(prefix)
        self.directory.add_user(name, teams=teams)
        return name

    def token_for(self, user: str, scopes: list[str] | None = None) -> str:
        """A token of ``user`` (the hub's default user scopes unless ``scopes``)."""
        key = ("user", user, tuple(scopes) if scopes is not None else None)
        if key not in self._tokens:
            if user not in self.directory.names:
                self.directory.add_user(user)
            self._tokens[key] = self.identities.token(user, scopes=scopes)
        return self._tokens[key]

    @property
    def spawner_token(self) -> str:
        """The token JupyterHub's spawner admits sessions with (as on the real hub)."""
        return self.service_token("submarine-spawner", ["custom:submarine:sessions", SERVICE_SCOPE])

    def service_token(self, name: str, scopes: list[str]) -> str:
        """A token of a hub service (``kind: service``), such as the spawner's."""
        key = ("service", name, tuple(scopes))
        if key not in self._tokens:
            self._tokens[key] = self.identities.token(name, kind="service", scopes=scopes)
        return self._tokens[key]

    # --- calls ----------------------------------------------------------------------------
    def api_url(self, path: str = "") -> str:
        return f"{self.url}{PREFIX}api/v1/{path.lstrip('/')}"

    def api(
        self,
        method: str,
        path: str,
        user: str | None = None,
        *,
        case: str = "",
        **kw: Any,
    ) -> requests.Response:
        """Call the API as ``user`` (None: unauthenticated); ``case`` labels the request
        for the route test (``ok``, ``bad`` or ``other``)."""
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"token {self.token_for(user)}"
        if case:
            assert case in CASES, case
            headers[CASE_HEADER] = case
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.api_url(path), headers=headers, **kw)

    def platform(self, method: str, path: str, token: str, **kw: Any) -> requests.Response:
        """Call the API with a raw token (a service's, a run's)."""
        headers = {"Authorization": f"token {token}", **kw.pop("headers", {})}
        kw.setdefault("timeout", 30)
        return self.http.request(method, self.api_url(path), headers=headers, **kw)

    def page(self, path: str, user: str | None = None, **kw: Any) -> requests.Response:
        """GET a page of the service outside the API (its home, its admin page)."""
        headers = dict(kw.pop("headers", {}))
        if user is not None:
            headers["Authorization"] = f"token {self.token_for(user)}"
        return self.http.get(f"{self.url}{PREFIX}{path}", headers=headers, timeout=30, **kw)


async def _awaited(make: Callable[[ServiceContext], Awaitable[T]], context: ServiceContext) -> T:
    return await make(context)
