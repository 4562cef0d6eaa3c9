"""The server process of one endpoint: ``python -m submarine_hub.serving.server DIR``.

It reads ``DIR/config.json`` (written by the backend; on Kubernetes the JSON comes in
``$SUBMARINE_ENDPOINT_CONFIG``), loads every routed model version in memory, and
answers under the endpoint's hub prefix (``/services/<service>/``):

- ``POST predict`` (or ``invocations``): ``{"inputs": [...]}`` (or ``"instances"``) ->
  ``{"predictions": [...], "model": "team/name", "version": 3}``; the route is drawn
  by weight (``?version=N`` pins one); the answering version is also in the
  ``X-Submarine-Model-Version`` header.
- ``GET stats``: requests, errors and latency percentiles per version; ``?series=3600``
  (seconds, at most the last hour) ``&step=10`` adds them over time, per step.
- ``GET health``: public; 200 once a model is loaded, 503 before.

Every request but ``health`` carries a JupyterHub token (``Authorization: token ...``),
checked with the hub (:class:`jupyterhub.services.auth.HubAuth`) and cached: no token
or an invalid one is a 401; a token without ``access:services!service=submarine`` (or
``...=<this endpoint's service>``), or of a user outside the endpoint's team (the
members listed in the access file the manager keeps current), is a 403. Hub admins
pass.

**Updates without dropping requests.** ``SIGHUP`` (or a changed config file, checked
every second) makes the process load the new generation's versions in a thread while
the current ones keep answering, then swap the routing table in one step. Versions
already loaded are reused, so a new split between loaded versions is instant; requests
in flight finish on the model they started with. A generation that fails to load is
reported in ``status.json`` and the previous one keeps serving.

``SIGTERM`` stops accepting connections, lets requests in flight finish, and exits.
The process holds ``server.lock`` while it lives: a second one for the same endpoint
exits at once, and a lock nobody holds means the process is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hmac
import json
import logging
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .loaders import LoadError, Model, load, to_json_ready
from .routing import Batcher, Route, Router, Series, Stats

log = logging.getLogger("submarine_hub.serving")

CONFIG_ENV = "SUBMARINE_ENDPOINT_CONFIG"
DIR_ENV = "SUBMARINE_ENDPOINT_DIR"
WATCH_INTERVAL_S = 1.0
SUMMARY_INTERVAL_S = 60.0
DRAIN_TIMEOUT_S = 10.0
NEGATIVE_CACHE_S = 5.0
AUTH_HINT = "Authentication required: send 'Authorization: token <JupyterHub API token>'."


def write_json(path: Path, data: dict[str, Any], mode: int = 0o644) -> None:
    """Replace ``path`` atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


# --- the server -------------------------------------------------------------------------


class Refused(web.HTTPError):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(status)
        self.message = message


class EndpointServer:
    def __init__(self, folder: Path, config: dict[str, Any], config_path: Path | None) -> None:
        self.dir = folder
        self.config = config
        self.config_path = config_path
        self.team: str = config["team"]
        self.endpoint: str = config["endpoint"]
        self.prefix: str = config["prefix"]
        self.control_token: str = config.get("control_token") or ""
        self.access_scopes = set(config.get("access_scopes") or ())
        self.auth_ttl = float(config.get("auth_cache_seconds", 30))
        access = config.get("access_file") or "access.json"
        self.access_path = Path(access) if os.path.isabs(access) else folder / access
        self.members: frozenset[str] = frozenset()
        self.admins: frozenset[str] = frozenset()
        self.router: Router | None = None
        self.models: dict[str, Model] = {}
        self.batchers: dict[str, Batcher] = {}
        self.stats: dict[str, Stats] = {}
        self.series = Series()  # all versions' requests over time (the traffic charts)
        self.generation = 0
        self.loading = 0
        self.failed = 0
        self.reason = ""
        self.state = "loading"
        self.port = 0
        self.started_at = time.time()
        self.in_flight = 0
        self._decisions: dict[str, tuple[float, int, str, str]] = {}
        self._pending: dict[str, asyncio.Future[tuple[int, str, str]]] = {}
        self._mtimes: dict[Path, float] = {}
        self._reload = asyncio.Event()
        self._stopping = asyncio.Event()
        threads = int(config.get("threads") or 0)
        self.pool = ThreadPoolExecutor(threads) if threads else None
        self.access_log = bool(config.get("access_log"))
        self._summary_seen = 0
        from jupyterhub.services.auth import HubAuth

        self.hub_auth = HubAuth(
            api_url=config.get("hub_api_url") or "http://127.0.0.1:8081/hub/api",
            api_token=config.get("api_token") or "unused",
            cache_max_age=int(self.auth_ttl),
        )
        self.store: Any = None

    # -- status ---------------------------------------------------------------------------

    def write_status(self) -> None:
        routes = self.router.routes if self.router else []
        write_json(
            self.dir / "status.json",
            {
                "pid": os.getpid(),
                "port": self.port,
                "state": self.state,
                "generation": self.generation,
                "loading": self.loading,
                "failed": self.failed,
                "reason": self.reason,
                "serving": [
                    {"model": r.model_ref, "version": r.version, "weight": r.weight} for r in routes
                ],
                "started_at": self.started_at,
                "updated_at": time.time(),
            },
        )

    # -- loading ---------------------------------------------------------------------------

    def _artifact_store(self) -> Any:
        if self.store is None:
            from ..store.artifacts import ArtifactStore

            store = self.config.get("store") or {}
            self.store = ArtifactStore(store["url"], store.get("options") or {})
        return self.store

    def _load_routes(self, routes: list[dict[str, Any]]) -> dict[str, Model]:
        """Every route's model: the loaded one if this process has it, else from its files."""
        out: dict[str, Model] = {}
        for route in routes:
            key = _model_key(route)
            if key in self.models:
                out[key] = self.models[key]
                continue
            cache = Path(self.config.get("cache_dir") or self.dir / "cache")
            folder = self._artifact_store().local_copy(route["storage_prefix"], cache)
            try:
                out[key] = load(folder, route)
            except LoadError as e:
                raise LoadError(f"{route['model']} version {route['version']}: {e}") from None
            log.info("loaded %s version %s (%s)", route["model"], route["version"], out[key].kind)
        return out

    async def apply(self, config: dict[str, Any]) -> None:
        """Load ``config``'s generation, then route to it; on failure keep the current one."""
        generation = int(config["generation"])
        if generation in (self.generation, self.failed):
            return
        self.loading = generation
        self.write_status()
        log.info("loading generation %s", generation)
        try:
            models = await asyncio.to_thread(self._load_routes, config["routes"])
        except Exception as e:
            self.loading = 0
            self.failed = generation
            self.reason = str(e) if isinstance(e, LoadError) else f"{type(e).__name__}: {e}"
            self.state = "ready" if self.router else "failed"
            log.error("generation %s failed to load: %s", generation, self.reason)
            self.write_status()
            return
        routes = []
        for r in config["routes"]:
            stats = self.stats.setdefault(r["key"], Stats())
            routes.append(
                Route(
                    key=r["key"],
                    model_ref=r["model"],
                    version=int(r["version"]),
                    weight=float(r["weight"]),
                    model=models[_model_key(r)],
                    stats=stats,
                )
            )
            model = routes[-1].model
            if model.batchable and self.pool is None and config.get("batching", True):
                key = _model_key(r)
                batcher = self.batchers.get(key)
                routes[-1].batcher = batcher if batcher else Batcher(model)
                self.batchers[key] = routes[-1].batcher
        self.router = Router(routes)  # the swap: new requests route to the new generation
        self.models = models
        self.batchers = {k: b for k, b in self.batchers.items() if k in models}
        self.config = config
        self.generation, self.loading, self.failed, self.reason = generation, 0, 0, ""
        self.state = "ready"
        self.write_status()
        split = ", ".join(f"{r.model_ref} v{r.version} ({r.weight:g})" for r in routes)
        log.info("serving generation %s: %s", generation, split)

    async def reload_loop(self) -> None:
        while not self._stopping.is_set():
            await self._reload.wait()
            self._reload.clear()
            if self.config_path is None:
                continue
            try:
                config = json.loads(self.config_path.read_text())
            except (OSError, ValueError) as e:
                log.error("cannot read %s: %s", self.config_path, e)
                continue
            await self.apply(config)

    def _changed(self, path: Path) -> bool:
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            return False
        if self._mtimes.get(path) == mtime:
            return False
        self._mtimes[path] = mtime
        return True

    def read_access(self) -> None:
        try:
            data = json.loads(self.access_path.read_text())
        except (OSError, ValueError):
            return
        members = frozenset(data.get("members") or ())
        admins = frozenset(data.get("admins") or ())
        if (members, admins) != (self.members, self.admins):
            self.members, self.admins = members, admins
            self._decisions.clear()  # membership changed: decide again

    async def watch(self) -> None:
        """Pick up a changed config (a missed SIGHUP) and access list; log a summary."""
        last_summary = time.monotonic()
        if self.config_path is not None:
            self._changed(self.config_path)
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), WATCH_INTERVAL_S)
            if self.config_path is not None and self._changed(self.config_path):
                self._reload.set()
            if self._changed(self.access_path):
                self.read_access()
            if time.monotonic() - last_summary >= SUMMARY_INTERVAL_S:
                last_summary = time.monotonic()
                self.log_summary()
            now = time.monotonic()
            for token in [t for t, d in self._decisions.items() if d[0] <= now]:
                self._decisions.pop(token, None)

    def log_summary(self) -> None:
        total = self.total()
        if total.requests == self._summary_seen:
            return
        self._summary_seen = total.requests
        parts = [
            f"{version}: {s.requests} requests, {s.errors} errors, p50 {s.to_json()['p50_ms']} ms,"
            f" p99 {s.to_json()['p99_ms']} ms"
            for version, s in self.stats.items()
        ]
        log.info("since start: %s", "; ".join(parts))

    def observe(self, route: Route, seconds: float, error: bool = False) -> None:
        """One predict request answered (or refused by the model) in ``seconds``."""
        route.stats.observe(seconds, error)
        self.series.observe(seconds, error)

    def total(self) -> Stats:
        total = Stats()
        for s in self.stats.values():
            total.merge(s)
        return total

    # -- auth ----------------------------------------------------------------------------

    async def authorize(self, handler: web.RequestHandler) -> str:
        """The caller's name, or raise 401/403."""
        auth = handler.request.headers.get("Authorization", "")
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() not in ("token", "bearer") or not token:
            raise Refused(401, AUTH_HINT)
        if self.control_token and hmac.compare_digest(token, self.control_token):
            return "(submarine)"
        hit = self._decisions.get(token)
        if hit is None or hit[0] <= time.monotonic():
            pending = self._pending.get(token)
            if pending is None:
                pending = asyncio.ensure_future(self._decide(token))
                self._pending[token] = pending
                pending.add_done_callback(lambda _: self._pending.pop(token, None))
            status, name, message = await asyncio.shield(pending)
        else:
            _, status, name, message = hit
        if status != 200:
            raise Refused(status, message)
        return name

    async def _decide(self, token: str) -> tuple[int, str, str]:
        from jupyterhub.services.auth import check_scopes

        try:
            model = await self.hub_auth.user_for_token(token, use_cache=False, sync=False)
        except web.HTTPError as e:
            log.warning("cannot check a token with the hub: %s", e)
            raise Refused(503, "Cannot check the token with JupyterHub now; retry.") from None
        ttl = self.auth_ttl
        if not model:
            decision = (401, "", "This token is not valid (expired or revoked?). " + AUTH_HINT)
            ttl = NEGATIVE_CACHE_S
        else:
            name = model.get("name", "")
            admin = bool(model.get("admin")) or name in self.admins
            if model.get("kind", "user") != "user":
                decision = (403, name, f"Only users of team {self.team} call {self.endpoint}.")
            elif not check_scopes(self.access_scopes, set(model.get("scopes") or ())):
                needs = " or ".join(sorted(self.access_scopes))
                decision = (403, name, f"This token may not call endpoints: it needs {needs}.")
            elif not (admin or name in self.members):
                decision = (
                    403,
                    name,
                    f"{name} is not a member of team {self.team}, which owns {self.endpoint}.",
                )
            else:
                decision = (200, name, "")
        self._decisions[token] = (time.monotonic() + ttl, *decision)
        return decision

    # -- lifecycle ---------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        p = self.prefix
        return web.Application(
            [
                (p + r"(?:predict|invocations)/?", PredictHandler, {"server": self}),
                (p + r"stats/?", StatsHandler, {"server": self}),
                (p + r"health/?", HealthHandler, {"server": self}),
                (p.rstrip("/") + r"/?", InfoHandler, {"server": self}),
            ],
            default_handler_class=NotFound,
            default_handler_args={"server": self},
            log_function=self.log_request,
        )

    def log_request(self, handler: web.RequestHandler) -> None:
        status = handler.get_status()
        if status < 400 and not self.access_log:
            return
        request = handler.request
        level = logging.WARNING if status >= 500 else logging.INFO
        user = getattr(handler, "user", "-")
        log.log(
            level,
            "%s %s %s %s %.1fms",
            status,
            request.method,
            request.uri,
            user,
            1000 * request.request_time(),
        )

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stopping.set)
        loop.add_signal_handler(signal.SIGHUP, self._reload.set)
        self.read_access()
        self._changed(self.access_path)
        ip = self.config.get("ip") or "127.0.0.1"
        port = int(self.config.get("port") or 0)
        try:
            sockets = bind_sockets(port, address=ip)
        except OSError as e:
            if not port:
                raise
            log.warning("port %s is taken (%s); taking another", port, e)
            sockets = bind_sockets(0, address=ip)
        self.port = sockets[0].getsockname()[1]
        server = HTTPServer(self.make_app(), xheaders=True)
        server.add_sockets(sockets)
        log.info("listening on %s:%s%s for %s", ip, self.port, self.prefix, self.endpoint)
        self.write_status()
        tasks = [
            asyncio.ensure_future(self.reload_loop()),
            asyncio.ensure_future(self.watch()),
        ]
        await self.apply(self.config)
        await self._stopping.wait()
        log.info("stopping: finishing %s request(s) in flight", self.in_flight)
        self.state = "stopping"
        self.write_status()
        server.stop()
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while self.in_flight and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        await server.close_all_connections()
        for task in tasks:
            task.cancel()
        self.log_summary()
        self.state = "stopped"
        self.write_status()
        if self.pool:
            self.pool.shutdown(wait=False)
        log.info("stopped")


def _model_key(route: dict[str, Any]) -> str:
    """What makes two routes the same loaded model (weights aside)."""
    return "|".join(str(route.get(k)) for k in ("model", "version", "loader", "script", "method"))


# --- handlers -----------------------------------------------------------------------------


class Handler(web.RequestHandler):
    server: EndpointServer
    user = "-"

    def initialize(self, server: EndpointServer) -> None:
        self.server = server
        server.in_flight += 1

    def on_finish(self) -> None:
        self.server.in_flight -= 1

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None))[1]
        message = getattr(exc, "message", None) or self._reason
        self.finish(json.dumps({"status": status_code, "message": message}))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, Refused) and value.status_code < 500:
            return
        super().log_exception(typ, value, tb)


class PredictHandler(Handler):
    async def post(self) -> None:
        server = self.server
        start = time.perf_counter()
        self.user = await server.authorize(self)
        router = server.router
        if router is None:
            raise Refused(503, f"{server.endpoint} is still loading its model; retry shortly.")
        try:
            body = json.loads(self.request.body)
        except ValueError as e:
            raise Refused(400, f"The body is not JSON: {e}.") from None
        pin = self.get_query_argument("version", None)
        route = router.pick(pin)
        if route is None:
            raise Refused(404, f"{server.endpoint} serves no version {pin}.")
        if getattr(route.model, "takes_request_body", False):  # MLflow's request shapes
            inputs = body
        else:
            inputs = body.get("inputs", body.get("instances")) if isinstance(body, dict) else body
        if inputs is None:
            raise Refused(400, 'Send {"inputs": [...]} (a row per prediction).')
        rows = route.model.rows(inputs) if route.batcher is not None else None
        try:
            if rows is not None:
                out = to_json_ready(await route.batcher.submit(rows))  # type: ignore[union-attr]
            elif server.pool is None:
                out = route.model.predict(inputs)
            else:
                loop = asyncio.get_running_loop()
                out = await loop.run_in_executor(server.pool, route.model.predict, inputs)
        except (ValueError, TypeError, KeyError, IndexError) as e:
            server.observe(route, time.perf_counter() - start, error=True)
            raise Refused(400, f"The model refused these inputs: {type(e).__name__}: {e}") from None
        except Exception as e:
            server.observe(route, time.perf_counter() - start, error=True)
            log.exception("prediction failed (%s v%s)", route.model_ref, route.version)
            raise Refused(500, f"Prediction failed: {type(e).__name__}: {e}") from None
        self.set_header("X-Submarine-Model", route.model_ref)
        self.set_header("X-Submarine-Model-Version", str(route.version))
        self.finish(
            json.dumps({"predictions": out, "model": route.model_ref, "version": route.version})
        )
        server.observe(route, time.perf_counter() - start)


class StatsHandler(Handler):
    async def get(self) -> None:
        """The statistics; ``?series=SECONDS[&step=S]`` adds the requests over time."""
        self.user = await self.server.authorize(self)
        out = stats_json(self.server)
        window = self.get_query_argument("series", None)
        if window is not None:
            step = self.get_query_argument("step", None)
            try:
                out["series"] = self.server.series.to_json(int(window), int(step) if step else None)
            except ValueError as e:
                raise Refused(400, f"Bad series query: {e}.") from None
        self.finish(json.dumps(out))


class InfoHandler(StatsHandler):
    pass


class HealthHandler(Handler):
    async def get(self) -> None:
        s = self.server
        ready = s.router is not None and s.state == "ready"
        self.set_status(200 if ready else 503)
        state = s.state if s.router else "loading"
        self.finish(json.dumps({"status": state, "generation": s.generation}))


class NotFound(Handler):
    async def prepare(self) -> None:
        raise Refused(404, f"No such path: {self.request.path}; POST {self.server.prefix}predict.")


def stats_json(s: EndpointServer) -> dict[str, Any]:
    routes = s.router.routes if s.router else []
    return {
        "endpoint": s.endpoint,
        "state": s.state,
        "generation": s.generation,
        "routes": [
            {"model": r.model_ref, "version": r.version, "weight": r.weight} for r in routes
        ],
        "total": s.total().to_json(),
        "batching": {
            "batches": sum(b.batches for b in s.batchers.values()),
            "requests": sum(b.requests for b in s.batchers.values()),
        },
        "versions": {key: st.to_json() for key, st in s.stats.items()},
        "uptime_s": round(time.time() - s.started_at, 1),
    }


# --- entry point ------------------------------------------------------------------------


def _lock(folder: Path) -> int | None:
    fd = os.open(folder / "server.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("tornado.access").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # imported with the store
    if os.environ.get(CONFIG_ENV):
        folder = Path(argv[0] if argv else os.environ.get(DIR_ENV, "/tmp/submarine-endpoint"))
        folder.mkdir(parents=True, exist_ok=True)
        config = json.loads(os.environ[CONFIG_ENV])
        config_path = None
    else:
        if not argv:
            print("usage: python -m submarine_hub.serving.server ENDPOINT_DIR", file=sys.stderr)
            return 2
        folder = Path(argv[0])
        config_path = folder / "config.json"
        config = json.loads(config_path.read_text())
    lock = _lock(folder)
    if lock is None:
        log.info("another server process holds %s; exiting", folder / "server.lock")
        return 0
    server = EndpointServer(folder, config, config_path)
    try:
        asyncio.run(server.run())
    except Exception:
        log.exception("the endpoint server failed")
        server.state = "failed"
        server.reason = "the server process failed (see its log)"
        server.write_status()
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
