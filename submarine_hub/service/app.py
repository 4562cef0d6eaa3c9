"""The ``submarine`` service application.

Run by JupyterHub as a managed service (see ``jupyterhub_config.py``)::

    python -m submarine_hub.service --SubmarineService.db_url=postgresql://...

It reads its place in the hub from the environment JupyterHub gives services
(``JUPYTERHUB_SERVICE_URL``, ``JUPYTERHUB_SERVICE_PREFIX``, ``JUPYTERHUB_API_TOKEN``...).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from tornado.httpserver import HTTPServer
from tornado.ioloop import PeriodicCallback
from tornado.web import Application as WebApplication
from tornado.web import StaticFileHandler
from traitlets import (
    Bool,
    Bunch,
    Dict,
    Float,
    Integer,
    List,
    TraitError,
    Unicode,
    default,
    observe,
    validate,
)
from traitlets.config import Application

from .. import __version__
from ..backends.base import (
    ENVIRONMENT_BACKENDS,
    EXPERIMENT_BACKENDS,
    BackendClass,
    EnvironmentBackend,
    ExperimentBackend,
)
from ..backends.local.isolation import SystemAccounts
from ..builtin import builtin_templates
from ..core.crypto import KEY_ENV, Crypt
from ..core.experiments import templates
from ..core.quotas import parse_quota_changes
from ..store import Database, upgrade
from ..store.artifacts import ArtifactStore
from .admissions import AdmissionReconciler
from .config import MOVED_SETTINGS, moved_setting, renamed_setting
from .context import ServiceContext
from .experiments import ExperimentManager
from .handlers import API_ROUTES
from .handlers.admin import AdminHandler
from .handlers.admin_usage import VENDOR, AdminUsageHandler
from .handlers.base import NotFoundHandler, OAuthCallbackHandler, route_pattern
from .handlers.home import HomeHandler
from .handlers.mlflow import mlflow_routes
from .handlers.rooms import RoomPageHandler
from .handlers.tensorboard import TensorBoardProxyHandler
from .hub import HubClient, HubDirectory
from .logs import configure_logging, log_request
from .notebook_jobs import NotebookJobs
from .openapi import openapi_document
from .room_shares import RoomShareReconciler
from .studies import StudyDriver
from .tensorboard import TensorBoards
from .uploads import UploadStore
from .usage import UsageMeter

# The exit status when the service cannot run (a bad database URL, an unreachable
# database...): EX_CONFIG, which the supervisor does not restart.
EXIT_CANNOT_RUN = 78

# Connection-level cap. Handlers enforce ``max_body_size`` themselves with a 413;
# endpoints that stream uploads (artifacts) may accept up to this.
MAX_STREAMED_BODY = 64 * 1024**3


class SubmarineService(Application):
    """The Submarine Hub platform service."""

    name = "submarine-service"
    version = __version__
    description = "The Submarine Hub platform service (a JupyterHub managed service)."

    aliases = {
        "config": "SubmarineService.config_file",
        "db-url": "SubmarineService.db_url",
        "data-dir": "SubmarineService.data_dir",
        "url": "SubmarineService.url",
        "log-style": "SubmarineService.log_style",
        "log-level": "Application.log_level",
    }
    flags = {
        "debug": ({"Application": {"log_level": logging.DEBUG}}, "Log at DEBUG level."),
        "upgrade-db": (
            {"SubmarineService": {"upgrade_db": True}},
            "Apply the metastore's migrations, then exit (back the database up first).",
        ),
    }

    config_file = Unicode(
        "submarine_config.py", help="Config file to load (a traitlets Python config file)."
    ).tag(config=True)

    data_dir = Unicode(
        help="""Folder for the service's local state: the SQLite metastore by default.

        Default: $SUBMARINE_DATA_DIR, or the current directory.""",
    ).tag(config=True)

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.environ.get("SUBMARINE_DATA_DIR", os.getcwd())

    db_url = Unicode(
        help="""Metastore URL: ``sqlite:///PATH`` or ``postgresql://USER@HOST:PORT/DB``.

        Default: $SUBMARINE_DB_URL, or SQLite in ``data_dir``.""",
    ).tag(config=True)

    @default("db_url")
    def _default_db_url(self) -> str:
        return os.environ.get(
            "SUBMARINE_DB_URL", f"sqlite:///{Path(self.data_dir, 'submarine.sqlite')}"
        )

    url = Unicode(
        help="Where to listen. Default: $JUPYTERHUB_SERVICE_URL (set by JupyterHub)."
    ).tag(config=True)

    @default("url")
    def _default_url(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_URL", "http://127.0.0.1:10101")

    service_prefix = Unicode(
        help="URL prefix of the service. Default: $JUPYTERHUB_SERVICE_PREFIX."
    ).tag(config=True)

    @default("service_prefix")
    def _default_service_prefix(self) -> str:
        return os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/submarine/")

    hub_api_url = Unicode(help="The hub's REST API. Default: $JUPYTERHUB_API_URL.").tag(config=True)

    @default("hub_api_url")
    def _default_hub_api_url(self) -> str:
        return os.environ.get("JUPYTERHUB_API_URL", "http://127.0.0.1:8081/hub/api")

    api_token = Unicode(help="The service's hub token. Default: $JUPYTERHUB_API_TOKEN.").tag(
        config=True
    )

    @default("api_token")
    def _default_api_token(self) -> str:
        return os.environ.get("JUPYTERHUB_API_TOKEN", "")

    max_body_size = Integer(
        16 * 1024 * 1024,
        help="Largest request body accepted, in bytes; larger ones get 413.",
    ).tag(config=True)

    hub_cache_seconds = Float(
        5.0,
        help="How long users' groups read from the hub are cached, in seconds.",
    ).tag(config=True)

    tracking_heartbeat = Float(
        help="""Seconds between the heartbeats of a process tracking an interactive run
        (``submarine_hub.log_metric`` in a notebook); a run that misses four in a row
        (its kernel died, its session stopped) is ended as failed, saying so.
        Default: $SUBMARINE_TRACKING_HEARTBEAT, else 30.""",
    ).tag(config=True)

    @default("tracking_heartbeat")
    def _default_tracking_heartbeat(self) -> float:
        return float(os.environ.get("SUBMARINE_TRACKING_HEARTBEAT") or 30)

    mlflow_run_idle_timeout = Float(
        help="""Seconds after which a run made through the MLflow API (``mlflow.start_run()``
        in a notebook or on a laptop) that is still RUNNING but had no MLflow call (log,
        set-tag, update...) is ended as FAILED, its reason saying so (MLflow's client
        sends no heartbeat: a crashed client never ends its run). 0: never. A run made
        inside a platform run (with its token) ends with that run instead.
        Default: $SUBMARINE_MLFLOW_RUN_IDLE_TIMEOUT, else 86400 (a day).""",
    ).tag(config=True)

    @default("mlflow_run_idle_timeout")
    def _default_mlflow_run_idle_timeout(self) -> float:
        return float(os.environ.get("SUBMARINE_MLFLOW_RUN_IDLE_TIMEOUT") or 86400)

    @validate("mlflow_run_idle_timeout")
    def _check_mlflow_run_idle_timeout(self, proposal: Bunch) -> float:
        value = float(proposal["value"])
        if not value >= 0:
            raise TraitError(
                f"SubmarineService.mlflow_run_idle_timeout must be 0 (never) or more seconds, "
                f"not {proposal['value']!r}."
            )
        return value

    log_style = Unicode(
        "json", help="Log format: 'json' (one JSON object per line) or 'text'."
    ).tag(config=True)

    default_quota = Dict(
        {},
        help="""Quota of every team unless an admin overrides it (missing limits: none).

        Keys: max_sessions, max_cpu_per_session, max_memory_per_session (bytes or "4G"),
        max_gpus_per_session, max_cpu_total, max_memory_total, max_gpus_total,
        max_running_experiments. Example::

            c.SubmarineService.default_quota = {"max_sessions": 10, "max_gpus_total": 2}
        """,
    ).tag(config=True)

    crypt_key = Unicode(
        help=f"""Keys that encrypt credentials at rest: ``;``-separated 32-byte keys, hex or
        base64 (``openssl rand -hex 32``); the first encrypts, all decrypt.

        Default: ${KEY_ENV}, else $JUPYTERHUB_CRYPT_KEY, else a key generated once into
        ``data_dir/submarine_crypt_key`` (fine on one machine; set {KEY_ENV} elsewhere).""",
    ).tag(config=True)

    @default("crypt_key")
    def _default_crypt_key(self) -> str:
        for var in (KEY_ENV, "JUPYTERHUB_CRYPT_KEY"):
            if os.environ.get(var):
                return os.environ[var]
        path = Path(self.data_dir, "submarine_crypt_key")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(os.urandom(32).hex())
            self.log.warning(
                "generated a credentials key in %s; set %s in production", path, KEY_ENV
            )
        return path.read_text().strip()

    migrate = Bool(
        True, help="Apply metastore migrations (under a lock) when the service starts."
    ).tag(config=True)

    artifact_store_url = Unicode(
        help="""Where model files (and other large artifacts) are kept: a folder, or an
        fsspec URL such as ``s3://bucket/prefix`` (S3-compatible storage; install s3fs).
        Default: $SUBMARINE_ARTIFACT_STORE_URL, else data_dir/artifacts.""",
    ).tag(config=True)

    @default("artifact_store_url")
    def _default_artifact_store_url(self) -> str:
        return os.environ.get("SUBMARINE_ARTIFACT_STORE_URL", str(Path(self.data_dir, "artifacts")))

    artifact_store_options = Dict(
        help="""Options of the artifact store's fsspec filesystem, e.g. for S3-compatible
        storage ``{"endpoint_url": "http://minio:9000", "key": "...", "secret": "..."}``.
        Default: $SUBMARINE_ARTIFACT_STORE_OPTIONS (JSON), else none.""",
    ).tag(config=True)

    @default("artifact_store_options")
    def _default_artifact_store_options(self) -> dict[str, Any]:
        raw = os.environ.get("SUBMARINE_ARTIFACT_STORE_OPTIONS")
        return json.loads(raw) if raw else {}

    uploads_dir = Unicode(
        help="Where uploaded code folders are kept. Default: data_dir/uploads."
    ).tag(config=True)

    @default("uploads_dir")
    def _default_uploads_dir(self) -> str:
        return str(Path(self.data_dir, "uploads"))

    experiment_backend_class = BackendClass(
        klass=ExperimentBackend,
        default_value="submarine_hub.backends.local.experiments.LocalExperimentBackend",
        entry_point_group=EXPERIMENT_BACKENDS,
        help="""Where experiment runs execute: a name of the
        ``submarine_hub.experiment_backends`` entry-point group, a class, or its import
        path. Built in: ``local`` (processes on this machine, each under a supervisor
        that outlives the service; ``c.LocalExperimentBackend.*``) and ``kube``
        (Kubernetes Jobs, or Kubeflow PyTorchJob/TFJob; ``c.KubeExperimentBackend.*``,
        see docs/kubernetes.md).""",
    ).tag(config=True)

    environment_backend_class = BackendClass(
        klass=EnvironmentBackend,
        default_value="submarine_hub.backends.local.builds.LocalEnvironmentBackend",
        entry_point_group=ENVIRONMENT_BACKENDS,
        help="""How environment profiles are made usable: a name of the
        ``submarine_hub.environment_backends`` entry-point group, a class, or its
        import path. Built in: ``local`` (each profile built into a virtual environment
        on this machine; ``c.LocalEnvironmentBackend.*``) and ``kube`` (a profile is the
        container image it names; nothing is built).""",
    ).tag(config=True)

    run_as_owner = Bool(
        help="""Run each run, notebook job and endpoint of the local backends as its owner's
        own system account (``jupyter-<name>``, created on demand, with the team's system
        group), from a scrubbed environment, so that it cannot read the service's state or
        another user's files; see docs/sessions.md, "Isolation". Needs root. Default: True
        when the service runs as root. The warm notebook kernels are not used then.""",
    ).tag(config=True)

    @default("run_as_owner")
    def _default_run_as_owner(self) -> bool:
        return os.geteuid() == 0

    schedule_misfire_grace = Float(
        60.0,
        help="""How late (seconds) a notebook schedule's firing may start and still count
        as on time. Later ones (the service was down) were missed: the schedule's
        ``catchup`` policy (skip, or run_once) decides what happens to them.""",
    ).tag(config=True)

    session_reconcile_interval = Float(
        30.0,
        help="""How often (seconds) the service compares the sessions it admitted with the
        servers the hub runs, and releases the admissions of servers that are gone (their
        spawner could not: the service was down, or the hub stopped it first at shutdown).
        Also done when the service starts. 0 turns it off.""",
    ).tag(config=True)

    room_share_interval = Float(
        2.0,
        help="""Seconds between two passes that share each team room with its team's
        members and revoke who left the team (docs/collaboration.md); 0: never.""",
    ).tag(config=True)

    session_reconcile_grace = Float(
        60.0,
        help="""Admissions younger than this (seconds) are never released by the
        reconciliation: their spawn may not be listed by the hub yet.""",
    ).tag(config=True)

    usage_meter_interval = Float(
        15.0,
        help="""How often (seconds) the service brings its usage records up to date with the
        sessions, runs, endpoints and builds they meter, and refreshes the usage metrics.
        Also done when the service starts (what ended while it was down is recorded with
        its real end), and before every usage report and budget check. 0 turns the loop off.""",
    ).tag(config=True)

    usage_disk_interval = Float(
        600.0,
        help="""How often (seconds, at the earliest) the service measures the disk teams
        hold (team folders, run artifacts, history, models) and starts a new round of
        measuring users' homes.""",
    ).tag(config=True)

    home_dir_template = Unicode(
        "",
        help="""Where each user's home is on this machine, to meter its disk
        (``{username}`` is replaced; ``{data_dir}`` too): the local spawner's
        ``home_dir_template``. Empty (the default): the system accounts' homes
        (``SUBMARINE_HOMES_DIR``/``jupyter-<name>``) where sessions run as their users,
        else ``{data_dir}/home/{username}``, the embedded config's. ``-``: not measured
        (e.g. on Kubernetes, where homes are volumes).""",
    ).tag(config=True)

    home_scan_max_entries = Integer(
        50_000,
        help="""At most this many directory entries of users' homes are looked at per
        usage meter tick (a huge home is measured over several ticks, never in one go).""",
    ).tag(config=True)

    run_api_url = Unicode(
        help="""The platform API as runs reach it (``SUBMARINE_API_URL`` in their processes).
        Default: this service's own URL and prefix + ``api/v1``.""",
    ).tag(config=True)

    @default("run_api_url")
    def _default_run_api_url(self) -> str:
        return self.url.rstrip("/") + self.service_prefix.rstrip("/") + "/api/v1"

    upgrade_db = Bool(
        False,
        help="""Apply the metastore's migrations to ``db_url`` and exit without serving:
        the upgrade step of docs/operations.md (back the database up first).""",
    ).tag(config=True)

    # -- settings that moved to the backends' own sections (kept working, with a warning)

    # (None: not set; the old defaults live on in the new settings)
    experiment_backend = Unicode(
        None,
        allow_none=True,
        help="Deprecated: use ``experiment_backend_class`` (the same names: local, kube).",
    ).tag(config=True)

    build_environments = Bool(
        None,
        allow_none=True,
        help="""Deprecated: use ``environment_backend_class`` (True: ``local``, False:
        ``kube``, the profiles' images).""",
    ).tag(config=True)

    environments_dir = Unicode(
        None, allow_none=True, help="Deprecated: use LocalEnvironmentBackend.environments_dir."
    ).tag(config=True)
    runs_dir = Unicode(
        None, allow_none=True, help="Deprecated: use LocalExperimentBackend.runs_dir."
    ).tag(config=True)
    max_parallel_runs = Integer(
        None, allow_none=True, help="Deprecated: use LocalExperimentBackend.max_parallel_runs."
    ).tag(config=True)
    notebook_pool_size = Integer(
        None, allow_none=True, help="Deprecated: use LocalExperimentBackend.notebook_pool_size."
    ).tag(config=True)
    notebook_pool_preload = List(
        Unicode(),
        default_value=None,
        allow_none=True,
        help="Deprecated: use LocalExperimentBackend.notebook_pool_preload.",
    ).tag(config=True)
    gpu_ids = List(
        Integer(),
        default_value=None,
        allow_none=True,
        help="Deprecated: use LocalExperimentBackend.gpu_ids.",
    ).tag(config=True)

    @observe(*MOVED_SETTINGS)
    def _moved_setting(self, change: Bunch) -> None:
        if change.new is not None:
            moved_setting(self, change.name, change.new)

    @observe("experiment_backend", "build_environments")
    def _backend_by_old_name(self, change: Bunch) -> None:
        if change.new is None:
            return
        if change.name == "experiment_backend":
            new, name = (
                "experiment_backend_class",
                "kube" if change.new == "kubernetes" else change.new,
            )
        else:
            new, name = "environment_backend_class", "local" if change.new else "kube"
        renamed_setting(self, change.name, new, name)

    _listening = False

    @default("log_level")
    def _default_log_level(self) -> int:
        return logging.INFO  # the access log's line per request is INFO

    def initialize(self, argv: list[str] | None = None) -> None:
        try:
            super().initialize(argv)
            if self.config_file and Path(self.config_file).exists():
                self.load_config_file(self.config_file)
        except SystemExit as e:
            if e.code == 1:  # a bad setting, which traitlets logged: restarting won't help
                raise SystemExit(EXIT_CANNOT_RUN) from e
            raise
        configure_logging(self.log, fmt=self.log_style, level=cast(int, self.log_level))
        if not self.api_token and not self.upgrade_db:
            self.log.warning("No JUPYTERHUB_API_TOKEN: the service cannot read teams from the hub.")

    def make_app(self, context: ServiceContext) -> WebApplication:
        prefix = self.service_prefix
        api = prefix + "api/v1"
        hub_auth = HubOAuth(api_token=self.api_token, cache_max_age=60)
        handlers: list[Any] = [(api + route_pattern(h.path), h) for h in API_ROUTES]
        handlers += [
            (prefix + "oauth_callback", OAuthCallbackHandler),
            (prefix + "admin/?", AdminHandler),
            (prefix + r"tensorboard/([0-9a-f]{16})(/.*)?", TensorBoardProxyHandler),
            *mlflow_routes(prefix),  # MLflow's own REST API, per team (docs/mlflow.md)
            (prefix + "admin/usage/?", AdminUsageHandler),
            (prefix + r"static/vendor/(.*)", StaticFileHandler, {"path": str(VENDOR)}),
            (prefix + "rooms/([^/]+)/?", RoomPageHandler),
            (prefix.rstrip("/") + "/?", HomeHandler),
        ]
        return WebApplication(
            handlers,
            default_handler_class=NotFoundHandler,
            cookie_secret=os.urandom(32),
            hub_auth=hub_auth,
            submarine=context,
            submarine_max_body_size=self.max_body_size,
            submarine_service_prefix=prefix,
            submarine_tensorboards=self.tensorboards,
            log_function=log_request,
            xsrf_cookies=False,  # HubOAuth checks xsrf for cookie-authenticated requests
        )

    def system_accounts(self) -> SystemAccounts | None:
        """The users' system accounts runs and endpoints run as (None: as this process)."""
        return SystemAccounts.from_env() if self.run_as_owner else None

    def home_dir(self) -> Callable[[str], Path | None] | None:
        """Where a user's home is on this machine (None: homes are not measured)."""
        template = self.home_dir_template
        if template == "-":
            return None
        if not template:
            accounts = self.system_accounts()
            if accounts is not None:
                return lambda user: accounts.homes_root / accounts.user_name(user)
            template = "{data_dir}/home/{username}"
        data_dir = self.data_dir

        def where(user: str) -> Path | None:
            if not user or "/" in user or user in (".", ".."):
                return None
            return Path(template.replace("{data_dir}", data_dir).replace("{username}", user))

        return where

    def backend_settings(self) -> dict[str, Any]:
        """What the service gives every backend it creates (see ``backends.base.Backend``)."""
        return {"parent": self, "data_dir": self.data_dir, "accounts": self.system_accounts()}

    def make_experiment_backend(self) -> ExperimentBackend:
        return self.experiment_backend_class(**self.backend_settings())

    def make_environment_backend(self) -> EnvironmentBackend:
        return self.environment_backend_class(**self.backend_settings())

    def make_context(self, hub: HubDirectory) -> ServiceContext:
        """What the handlers reach through ``self.core``, with ``hub`` as the directory of
        users and teams (the single-user server's standalone mode passes its own)."""
        db = Database(self.db_url)
        crypt = Crypt(self.crypt_key)
        quota_defaults = parse_quota_changes(self.default_quota)
        environments = self.make_environment_backend()
        uploads = UploadStore(Path(self.uploads_dir))
        context = ServiceContext(
            db=db,
            hub=hub,
            openapi=openapi_document(self.service_prefix),
            crypt=crypt,
            builds=environments,
            quota_defaults=quota_defaults,
            uploads=uploads,
            artifacts=ArtifactStore(self.artifact_store_url, self.artifact_store_options),
            experiments=ExperimentManager(
                db,
                self.make_experiment_backend(),
                crypt=crypt,
                builds=environments,
                quota_defaults=quota_defaults,
                api_url=self.run_api_url,
                uploads=uploads,
                heartbeat_interval=self.tracking_heartbeat,
                mlflow_idle_timeout=self.mlflow_run_idle_timeout,
            ),
        )
        context.notebook_jobs = NotebookJobs(context, misfire_grace=self.schedule_misfire_grace)
        context.studies = StudyDriver(context)
        return context

    async def start_platform(self, context: ServiceContext) -> None:
        """Start what works beside the handlers: the built-in templates, the experiment
        scheduler (also called by the single-user server's standalone mode)."""
        async with context.db.session() as session:
            await templates.install_builtins(session, builtin_templates())
        context.experiments.start()

    _tensorboards: TensorBoards | None = None

    @property
    def tensorboards(self) -> TensorBoards:
        """The TensorBoards over runs this service relays to (``TensorBoards`` config)."""
        if self._tensorboards is None:
            self._tensorboards = TensorBoards(parent=self)
        return self._tensorboards

    async def stop_platform(self, context: ServiceContext) -> None:
        if self._tensorboards is not None:
            self._tensorboards.stop_all()
        await context.experiments.stop()
        await context.hub.close()
        await context.db.dispose()

    async def start_async(self) -> None:
        self.log.info("starting", extra={"version": __version__, "db": _redact(self.db_url)})
        if self.migrate:
            revision = await asyncio.to_thread(upgrade, self.db_url)
            self.log.info("metastore ready", extra={"revision": revision})
        hub = HubClient(self.hub_api_url, self.api_token, cache_seconds=self.hub_cache_seconds)
        context = self.make_context(hub)
        await self.start_platform(context)
        from ..serving.manager import EndpointManager  # serving endpoints need the hub

        endpoints = context.endpoints = EndpointManager.for_service(self, context, self.api_token)
        endpoints.start()
        admissions = AdmissionReconciler(
            context.db,
            hub,
            interval=self.session_reconcile_interval,
            grace=self.session_reconcile_grace,
        )
        admissions.start()
        builds = context.builds
        meter = UsageMeter(
            context.db,
            interval=self.usage_meter_interval,
            builds=builds.status if builds.builds else None,
            team_dir=accounts.team_dir if (accounts := self.system_accounts()) else None,
            run_artifacts=context.experiments.local_artifacts,
            disk_interval=self.usage_disk_interval,
            home_dir=self.home_dir(),
            hub_groups=context.hub_groups,
            home_scan_max_entries=self.home_scan_max_entries,
            live=context.experiments.backend.live_usage,
            volumes=context.experiments.backend.team_volumes,
            store_bytes=(
                context.artifacts.prefix_bytes if context.artifacts.protocol != "file" else None
            ),
        )
        meter.start()
        room_shares = RoomShareReconciler(context.db, hub, interval=self.room_share_interval)
        room_shares.start()
        app = self.make_app(context)
        PeriodicCallback(self.tensorboards.tick, 60_000).start()  # idle TensorBoards stop
        parsed = urlparse(self.url)
        server = HTTPServer(app, xheaders=True, max_body_size=MAX_STREAMED_BODY)
        server.listen(parsed.port or 80, parsed.hostname or "127.0.0.1")
        self.log.info("listening", extra={"url": self.url, "prefix": self.service_prefix})
        self._listening = True

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.log.info("stopping")
        server.stop()
        await server.close_all_connections()
        await endpoints.stop()  # endpoint processes keep serving
        await admissions.stop()
        await meter.stop()
        await room_shares.stop()
        await self.stop_platform(context)

    def start(self) -> None:
        try:
            if self.upgrade_db:
                revision = upgrade(self.db_url)
                print(f"metastore {_redact(self.db_url)} is at revision {revision}")
                return
            asyncio.run(self.start_async())
        except Exception as e:  # one clear line, not a traceback of the driver's internals
            self.log.debug("the service stopped on an error", exc_info=True)
            if self._listening:  # it ran: a restart may help
                self.log.critical("the service stopped: %s", _why(e, self.db_url))
                self.exit(1)
            self.log.critical("the service cannot start: %s", _why(e, self.db_url))
            self.exit(EXIT_CANNOT_RUN)


def _why(e: Exception, db_url: str) -> str:
    """One line saying what is wrong, naming the metastore when it is the database."""
    from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

    if isinstance(e, (DBAPIError, ArgumentError, SQLAlchemyError)) or "database" in str(e):
        orig = getattr(e, "orig", None) or e
        lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
        try:
            where = _redact(db_url)
        except Exception:
            where = "(unparsable URL)"
        return f"metastore {where}: {lines[0] if lines else type(e).__name__}"
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    return f"{type(e).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    SubmarineService.launch_instance(argv)
