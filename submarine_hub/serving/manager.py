"""The endpoint manager: keeps every endpoint of the metastore served, and reachable.

One loop per service, woken by changes and ticking while endpoints start or roll. Each
tick, for each endpoint that is not stopped, it compares the generation the metastore
wants with what the backend serves and acts:

- no server (new endpoint, or its process died): start one (at most
  ``max_restarts`` times within ``restart_window`` seconds, then ``failed``);
- a server on an older generation: hand it the new config; it loads the new versions
  beside the old ones and swaps, so no request is dropped;
- a server on the wanted generation: make sure JupyterHub knows it as a service
  (``POST /hub/api/services/<name>`` with its URL, then ``POST /hub/api/proxy`` so the
  proxy routes ``/services/<name>/`` to it at once) and mark it ``ready``;
- a generation that failed to load: ``failed`` when nothing was served yet; else the
  previous generation keeps serving and the reason says so.

It also keeps each endpoint's access list (its team's members and the hub's admins)
current, stops server processes no endpoint wants, and removes hub services of
endpoints that no longer exist. Server processes outlive the service: after a restart
the first tick adopts the running ones and restarts the dead ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from traitlets import Bunch, Float, Integer, Unicode, default, observe
from traitlets.config import LoggingConfigurable

from ..backends.base import ENDPOINT_BACKENDS, BackendClass, EndpointBackend
from ..core import endpoints
from ..core.endpoints import FAILED, READY, STARTING, STOPPED, UPDATING
from ..core.errors import Unavailable
from ..service.config import forward_setting, renamed_setting
from ..store import Database
from ..store.models import Endpoint

if TYPE_CHECKING:
    from ..service.app import SubmarineService
    from ..service.context import ServiceContext

log = logging.getLogger("submarine_hub.serving.manager")

IDLE_WAIT = 2.0
BUSY_TICK = 0.2
SWEEP_INTERVAL_S = 30.0
_PAGINATED = {"Accept": "application/jupyterhub-pagination+json"}


class HubServices:
    """The hub API calls the manager makes with the service's token: runtime services
    (scope ``admin:services``), proxy sync (``proxy``) and users with their groups
    (``read:users``)."""

    def __init__(self, api_url: str, token: str, *, cache_seconds: float = 5.0) -> None:
        self.api_url = api_url.rstrip("/")
        self.cache_seconds = cache_seconds
        self._http = httpx.AsyncClient(
            headers={"Authorization": f"token {token}"}, timeout=httpx.Timeout(30.0)
        )
        self._users: tuple[float, list[dict[str, Any]]] | None = None

    async def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            return await self._http.request(method, f"{self.api_url}{path}", **kw)
        except httpx.HTTPError as e:
            raise Unavailable(f"Could not reach JupyterHub at {self.api_url}: {e}") from e

    def _check(self, resp: httpx.Response, doing: str, ok: tuple[int, ...] = ()) -> None:
        if resp.is_success or resp.status_code in ok:
            return
        hint = ""
        if resp.status_code == 403:
            hint = " (the submarine service's role needs admin:services and proxy)"
        raise Unavailable(f"JupyterHub answered {resp.status_code} to {doing}{hint}: {resp.text}")

    async def services(self) -> dict[str, dict[str, Any]]:
        resp = await self._call("GET", "/services")
        self._check(resp, "listing services")
        return resp.json()

    async def service(self, name: str) -> dict[str, Any] | None:
        resp = await self._call("GET", f"/services/{name}")
        if resp.status_code == 404:
            return None
        self._check(resp, f"reading service {name}")
        return resp.json()

    async def add_service(self, name: str, url: str, info: dict[str, Any]) -> None:
        body = {"url": url, "display": False, "info": info}
        resp = await self._call("POST", f"/services/{name}", json=body)
        self._check(resp, f"adding service {name}", ok=(409,))

    async def delete_service(self, name: str) -> None:
        resp = await self._call("DELETE", f"/services/{name}")
        self._check(resp, f"removing service {name}", ok=(404,))

    async def sync_proxy(self) -> None:
        """Make the proxy's routes match the hub's services now, not at its next check."""
        resp = await self._call("POST", "/proxy")
        self._check(resp, "syncing the proxy")

    async def users(self) -> list[dict[str, Any]]:
        """Every hub user with ``name``, ``admin`` and ``groups`` (cached briefly)."""
        now = time.monotonic()
        if self._users and now - self._users[0] < self.cache_seconds:
            return self._users[1]
        items: list[dict[str, Any]] = []
        while True:
            resp = await self._call(
                "GET", f"/users?offset={len(items)}&limit=200", headers=_PAGINATED
            )
            self._check(resp, "listing users")
            page = resp.json()
            items += page["items"]
            if not page["_pagination"].get("next"):
                break
        self._users = (now, items)
        return items

    async def close(self) -> None:
        await self._http.aclose()


@dataclass
class _Snapshot:
    """What a tick needs of an endpoint row (read in one short transaction)."""

    id: int
    team: str
    name: str
    status: str
    reason: str
    service: str
    generation: int
    config: dict[str, Any]
    resolved: list[dict[str, Any]]
    owner: str = ""

    @classmethod
    def of(cls, row: Endpoint) -> _Snapshot:
        return cls(
            id=row.id,
            owner=row.owner,
            team=row.team,
            name=row.name,
            status=row.status,
            reason=row.reason,
            service=row.config.get("service", ""),
            generation=int(row.config.get("generation", 0)),
            config=dict(row.config),
            resolved=list(row.resolved or []),
        )


class EndpointManager(LoggingConfigurable):
    """Runs the metastore's endpoints on a backend and registers them with the hub."""

    service_name_prefix = Unicode(
        "endpoint-",
        help="""Prefix of the JupyterHub service of each endpoint: endpoint ``iris`` of team
        ``data-science`` is reached at ``/services/<prefix>data-science-iris/``. Hub
        services whose names start with it belong to the manager (it removes stale ones).""",
    ).tag(config=True)

    public_url = Unicode(
        help="""The hub's public URL (``https://hub.example.com``), to show endpoints' full
        URLs. Default: $SUBMARINE_PUBLIC_URL, else $JUPYTERHUB_PUBLIC_URL's origin; without
        one, endpoints show their path (``/services/<name>/``).""",
    ).tag(config=True)

    @default("public_url")
    def _default_public_url(self) -> str:
        url = os.environ.get("SUBMARINE_PUBLIC_URL") or os.environ.get("JUPYTERHUB_PUBLIC_URL", "")
        if url and "://" in url:
            scheme, rest = url.split("://", 1)
            return f"{scheme}://{rest.split('/', 1)[0]}"
        return ""

    auth_cache_seconds = Float(
        30.0,
        help="""How long an endpoint process trusts a token it checked with the hub, in
        seconds (a revoked token or a removed member is refused after at most this long).""",
    ).tag(config=True)

    max_restarts = Integer(
        5,
        help="""How often an endpoint's dead server is restarted within ``restart_window``
        seconds before the endpoint is marked failed.""",
    ).tag(config=True)

    restart_window = Float(300.0, help="See ``max_restarts``, in seconds.").tag(config=True)

    platform_service = Unicode(
        "submarine",
        help="""The platform service's name: a token that may use it
        (``access:services!service=<name>``, which every user's role grants) may call
        the team's endpoints.""",
    ).tag(config=True)

    backend_class = BackendClass(
        klass=EndpointBackend,
        default_value="submarine_hub.backends.local.endpoints.LocalEndpointBackend",
        entry_point_group=ENDPOINT_BACKENDS,
        help="""Where endpoints run: a name of the ``submarine_hub.endpoint_backends``
        entry-point group, a class, or its import path. Built in: ``local`` (a server
        process per endpoint on this machine; ``c.LocalEndpointBackend.*``) and ``kube``
        (a Deployment and a Service per endpoint; ``c.KubeEndpointBackend.*``).""",
    ).tag(config=True)

    backend_name = Unicode(
        None,
        allow_none=True,
        help="Deprecated: use ``backend_class`` (the same names: local, kube).",
    ).tag(config=True)

    endpoints_dir = Unicode(
        None, allow_none=True, help="Deprecated: use LocalEndpointBackend.endpoints_dir."
    ).tag(config=True)

    @observe("backend_name")
    def _backend_by_old_name(self, change: Bunch) -> None:
        if change.new is not None:
            name = "kube" if change.new == "kubernetes" else change.new
            renamed_setting(self, "backend_name", "backend_class", name)

    @observe("endpoints_dir")
    def _endpoints_dir_moved(self, change: Bunch) -> None:
        if change.new is not None:
            forward_setting(
                self, "endpoints_dir", "LocalEndpointBackend", "endpoints_dir", change.new
            )

    key_file = Unicode(
        help="""A secret from which the manager derives each endpoint's control token (its
        own calls to the endpoint: statistics). Default: ``control.key`` in the local
        backend's ``endpoints_dir`` (else ``endpoints`` in the service's data_dir),
        created once.""",
    ).tag(config=True)

    def __init__(
        self,
        db: Database,
        backend: EndpointBackend | None = None,
        *,
        hub: HubServices | None,
        hub_api_url: str,
        store_url: str,
        store_options: dict[str, Any] | None = None,
        key_dir: Path | None = None,
        backend_settings: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """``backend``: where endpoints run; default: a ``backend_class`` made with
        ``backend_settings`` (the service's ``backend_settings()``)."""
        super().__init__(**kwargs)
        self.db = db
        self.backend: EndpointBackend = (
            backend
            if backend is not None
            else self.backend_class(**{"parent": self, **(backend_settings or {})})
        )
        self.hub = hub
        self.hub_api_url = hub_api_url
        self.store = {"url": store_url, "options": dict(store_options or {})}
        self.key_dir = key_dir
        self._key: bytes | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._registered: dict[str, str] = {}  # hub service -> url registered
        self._absent: set[str] = set()  # hub services known not to exist
        self._restarts: dict[int, list[float]] = {}
        self._last_sweep = 0.0
        self.started = False

    def _load_key(self) -> bytes:
        path = Path(self.key_file) if self.key_file else (self.key_dir or Path(".")) / "control.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    def control_token(self, endpoint_id: int) -> str:
        if self._key is None:
            self._key = self._load_key()
        return hmac.new(self._key, f"endpoint:{endpoint_id}".encode(), hashlib.sha256).hexdigest()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        self.started = True
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.backend.close()
        if self.hub is not None:
            await self.hub.close()

    def wake(self) -> None:
        self._wake.set()

    @classmethod
    def for_service(
        cls, service: SubmarineService, context: ServiceContext, hub_token: str
    ) -> EndpointManager:
        """The manager of the ``submarine`` service (``service``: its application), with
        its traitlets config (``c.EndpointManager...``) and the backend it selects."""
        manager = cls(
            context.db,
            hub=HubServices(
                service.hub_api_url, hub_token, cache_seconds=service.hub_cache_seconds
            ),
            hub_api_url=service.hub_api_url,
            store_url=service.artifact_store_url,
            store_options=service.artifact_store_options,
            backend_settings=service.backend_settings(),
            parent=service,
        )
        folder = getattr(manager.backend, "endpoints_dir", "")  # the local backend's
        manager.key_dir = Path(folder or Path(service.data_dir, "endpoints"))
        return manager

    async def _loop(self) -> None:
        while True:
            busy = False
            try:
                busy = await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("endpoint manager tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), BUSY_TICK if busy else IDLE_WAIT)
            self._wake.clear()

    # -- one tick ------------------------------------------------------------------------

    async def tick(self) -> bool:
        """One pass over every endpoint; True while any is starting or rolling."""
        async with self.db.session() as s:
            eps = [_Snapshot.of(r) for r in await endpoints.active(s)]
        access = await self._access_lists({ep.team for ep in eps})
        changes: dict[int, tuple[str, str, int]] = {}
        busy = False
        for ep in eps:
            try:
                status, reason = await self._reconcile(ep, access)
            except Unavailable as e:
                log.warning("endpoint %s/%s: %s", ep.team, ep.name, e.message)
                status, reason = ep.status, e.message
            if (status, reason) != (ep.status, ep.reason):
                changes[ep.id] = (status, reason, ep.generation)
            busy = busy or status in (STARTING, UPDATING)
        if changes:
            async with self.db.session() as s:
                for endpoint_id, (status, reason, generation) in changes.items():
                    row = await s.get(Endpoint, endpoint_id)
                    # the row may have moved on meanwhile (an update, a stop): leave it
                    if row is None or row.status == STOPPED:
                        continue
                    if int(row.config.get("generation", 0)) != generation:
                        continue
                    if row.status != status:
                        log.info(
                            "endpoint %s/%s: %s",
                            row.team,
                            row.name,
                            status + (f" ({reason})" if reason else ""),
                        )
                    row.status, row.reason = status, reason
        if time.monotonic() - self._last_sweep > SWEEP_INTERVAL_S:
            self._last_sweep = time.monotonic()
            await self._sweep(eps)
        return busy

    async def _access_lists(self, teams: set[str]) -> dict[str, dict[str, Any]] | None:
        if self.hub is None or not teams:
            return None
        try:
            users = await self.hub.users()
        except Unavailable as e:
            log.warning("cannot refresh endpoints' access lists: %s", e.message)
            return None
        admins = sorted(u["name"] for u in users if u.get("admin"))
        return {
            team: {
                "team": team,
                "members": sorted(u["name"] for u in users if team in (u.get("groups") or ())),
                "admins": admins,
            }
            for team in teams
        }

    def server_config(self, ep: _Snapshot) -> dict[str, Any]:
        """What the endpoint's server process is told (``config.json``)."""
        return {
            "id": ep.id,
            "endpoint": f"{ep.team}/{ep.name}",
            "team": ep.team,
            "owner": ep.owner,
            "service": ep.service,
            "prefix": f"/services/{ep.service}/",
            "generation": ep.generation,
            "routes": ep.resolved,
            "threads": ep.config.get("threads", 0),
            "access_log": ep.config.get("access_log", False),
            "batching": ep.config.get("batching", True),
            "resources": ep.config.get("resources") or {},
            "store": self.store,
            "hub_api_url": self.hub_api_url,
            "access_scopes": [
                f"access:services!service={self.platform_service}",
                f"access:services!service={ep.service}",
            ],
            "auth_cache_seconds": self.auth_cache_seconds,
            "control_token": self.control_token(ep.id),
        }

    async def _reconcile(
        self, ep: _Snapshot, access: dict[str, dict[str, Any]] | None
    ) -> tuple[str, str]:
        if access is not None:
            await self.backend.write_access(ep.id, access[ep.team])
        state = await self.backend.state(ep.id)
        want = ep.generation
        if ep.status == FAILED:  # until an update asks again
            if state is not None and state.alive:
                await self.backend.stop(ep.id)
            await self._unregister(ep.service)
            return ep.status, ep.reason
        if state is None or (not state.alive and state.state != "starting"):
            if state is not None:  # it ran, and is gone
                if state.failed == want and not state.generation and state.reason:
                    return FAILED, f"could not load the model: {state.reason}"
                now = time.time()
                recent = [t for t in self._restarts.get(ep.id, []) if now - t < self.restart_window]
                if len(recent) >= self.max_restarts:
                    await self._unregister(ep.service)
                    return FAILED, (
                        f"the server process exited {len(recent)} times in "
                        f"{self.restart_window:g} s; see the endpoint's logs"
                    )
                self._restarts[ep.id] = [*recent, time.time()]
                log.warning("endpoint %s/%s: its server is gone; starting it", ep.team, ep.name)
            await self.backend.apply(ep.id, self.server_config(ep))
            if access is not None:
                await self.backend.write_access(ep.id, access[ep.team])
            return STARTING, "starting the server" if state is None else "restarting the server"
        if not state.alive:  # launched a moment ago
            return ep.status, ep.reason
        if state.failed == want:
            if not state.generation:
                await self.backend.stop(ep.id)
                await self._unregister(ep.service)
                return FAILED, f"could not load the model: {state.reason}"
            await self._register(ep, state.url)
            return READY, (
                f"generation {want} failed to load ({state.reason}); "
                f"still serving generation {state.generation}"
            )
        if state.generation == want and state.state == "ready":
            await self._register(ep, state.url)
            return READY, ""
        if state.loading != want and state.generation != want:
            await self.backend.apply(ep.id, self.server_config(ep))
        if state.generation:
            return UPDATING, f"loading generation {want}; generation {state.generation} serves"
        return STARTING, "loading the model"

    # -- the hub ---------------------------------------------------------------------------

    async def _register(self, ep: _Snapshot, url: str) -> None:
        if self.hub is None or not url or self._registered.get(ep.service) == url:
            return
        current = await self.hub.service(ep.service)
        if current is not None and current.get("url") != url:
            await self.hub.delete_service(ep.service)
            current = None
        if current is None:
            await self.hub.add_service(
                ep.service, url, {"endpoint": f"{ep.team}/{ep.name}", "team": ep.team}
            )
            log.info("registered endpoint %s/%s as hub service %s", ep.team, ep.name, ep.service)
        await self.hub.sync_proxy()
        self._registered[ep.service] = url
        self._absent.discard(ep.service)

    async def _unregister(self, service: str) -> None:
        if self.hub is None or not service or service in self._absent:
            return
        if service in self._registered or await self.hub.service(service) is not None:
            await self.hub.delete_service(service)
            await self.hub.sync_proxy()
            log.info("removed hub service %s", service)
        self._registered.pop(service, None)
        self._absent.add(service)

    async def _sweep(self, eps: list[_Snapshot]) -> None:
        """Stop servers and remove hub services that no endpoint wants."""
        wanted = {ep.id for ep in eps if ep.status != FAILED}
        for endpoint_id in await self.backend.known():
            if endpoint_id in wanted:
                continue
            state = await self.backend.state(endpoint_id)
            if state is not None and state.alive:
                log.warning("stopping the server of endpoint %s: no endpoint wants it", endpoint_id)
                await self.backend.stop(endpoint_id)
        if self.hub is None:
            return
        self._registered.clear()  # check the hub's view again from time to time
        self._absent.clear()
        services = {ep.service for ep in eps if ep.status != FAILED}
        try:
            for name in await self.hub.services():
                if name.startswith(self.service_name_prefix) and name not in services:
                    await self._unregister(name)
        except Unavailable as e:
            log.warning("cannot check the hub's services: %s", e.message)

    # -- what handlers call -------------------------------------------------------------------

    async def stop_endpoint(self, endpoint_id: int, service: str) -> None:
        """Stop serving now (the row is already ``stopped``): the hub's route first."""
        with contextlib.suppress(Unavailable):
            await self._unregister(service)
        await self.backend.stop(endpoint_id)
        self._restarts.pop(endpoint_id, None)

    async def stats(self, row: Endpoint) -> dict[str, Any] | None:
        return await self.backend.stats(
            row.id, f"/services/{row.config.get('service')}/", self.control_token(row.id)
        )

    async def series(self, row: Endpoint, window: int, step: int) -> dict[str, Any] | None:
        """Requests, errors and latency over time (None: the server does not answer)."""
        return await self.backend.series(
            row.id,
            f"/services/{row.config.get('service')}/",
            self.control_token(row.id),
            window,
            step,
        )

    async def serving(self, row: Endpoint) -> dict[str, Any]:
        """What the server process reports: its generation, versions and state."""
        state = await self.backend.state(row.id)
        if state is None:
            return {"state": "none", "generation": 0, "versions": []}
        return {
            "state": state.state if state.alive else "gone",
            "generation": state.generation,
            "versions": state.serving,
        }
