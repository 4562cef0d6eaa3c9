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
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyterhub.services.auth import HubOAuth
from tornado.httpserver import HTTPServer
from tornado.web import Application as WebApplication
from traitlets import Bool, Dict, Float, Integer, List, Unicode, default
from traitlets.config import Application

from .. import __version__
from ..backends.local.experiments import LocalExperimentBackend
from ..builtin import builtin_templates
from ..core.crypto import KEY_ENV, Crypt
from ..core.experiments import templates
from ..core.quotas import parse_quota_changes
from ..store import Database, upgrade
from ..store.artifacts import ArtifactStore
from .builds import BuildManager
from .context import ServiceContext
from .experiments import ExperimentManager
from .handlers import API_ROUTES
from .handlers.admin import AdminHandler
from .handlers.base import NotFoundHandler, OAuthCallbackHandler, route_pattern
from .handlers.home import HomeHandler
from .hub import HubClient, HubDirectory
from .logs import configure_logging, log_request
from .notebook_jobs import NotebookJobs
from .openapi import openapi_document
from .uploads import UploadStore

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

    environments_dir = Unicode(
        help="Where the local backend builds environment profiles. Default: data_dir/envs."
    ).tag(config=True)

    @default("environments_dir")
    def _default_environments_dir(self) -> str:
        return str(Path(self.data_dir, "envs"))

    build_environments = Bool(
        True,
        help="""Build environment profiles as local virtual environments (local backend).
        Turn off on Kubernetes, where a profile's image is used instead.""",
    ).tag(config=True)

    migrate = Bool(
        True, help="Apply metastore migrations (under a lock) when the service starts."
    ).tag(config=True)

    runs_dir = Unicode(
        help="Where the local backend keeps each run's folder (code, logs, artifacts). "
        "Default: data_dir/runs."
    ).tag(config=True)

    @default("runs_dir")
    def _default_runs_dir(self) -> str:
        return str(Path(self.data_dir, "runs"))

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

    max_parallel_runs = Integer(
        help="""How many experiment runs the local backend runs at once; more wait in the
        queue (as do runs over their team's max_running_experiments). 0: no limit.
        Default: twice the number of CPU cores.""",
    ).tag(config=True)

    @default("max_parallel_runs")
    def _default_max_parallel_runs(self) -> int:
        return 2 * (os.cpu_count() or 1)

    experiment_backend = Unicode(
        "local",
        help="""Where experiment runs execute: ``local`` (processes on this machine, each
        under a supervisor that outlives the service) or ``kubernetes`` (Jobs, or Kubeflow
        PyTorchJob/TFJob; configure ``KubeExperimentBackend``, see docs/kubernetes.md).""",
    ).tag(config=True)

    notebook_pool_size = Integer(
        2,
        help="""Warm kernels the local backend keeps per environment for notebook jobs: a
        notebook run starts executing at once on a pre-started, never-used kernel (one
        kernel per run, discarded after it; the pool refills in the background). The
        default environment's pool is kept full; another environment's is filled after its
        first run and dropped after 10 idle minutes. 0 turns the pool off: every notebook
        run then starts its own process and kernel (see docs/notebook-jobs.md).""",
    ).tag(config=True)

    notebook_pool_preload = List(
        Unicode(),
        help="""Modules the warm kernels import before they are used (e.g. ["numpy",
        "pandas"]), so notebook runs do not wait for those imports. Each kernel still
        serves one run only.""",
    ).tag(config=True)

    schedule_misfire_grace = Float(
        60.0,
        help="""How late (seconds) a notebook schedule's firing may start and still count
        as on time. Later ones (the service was down) were missed: the schedule's
        ``catchup`` policy (skip, or run_once) decides what happens to them.""",
    ).tag(config=True)

    gpu_ids = List(
        Integer(),
        help="""GPU device numbers the local backend hands to runs (as CUDA_VISIBLE_DEVICES);
        a run asking for GPUs waits until enough are free. Example: [0, 1].""",
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

    def initialize(self, argv: list[str] | None = None) -> None:
        super().initialize(argv)
        if self.config_file and Path(self.config_file).exists():
            self.load_config_file(self.config_file)
        configure_logging(self.log, fmt=self.log_style, level=self.log_level)
        if not self.api_token and not self.upgrade_db:
            self.log.warning("No JUPYTERHUB_API_TOKEN: the service cannot read teams from the hub.")

    def make_app(self, context: ServiceContext) -> WebApplication:
        prefix = self.service_prefix
        api = prefix + "api/v1"
        hub_auth = HubOAuth(api_token=self.api_token, cache_max_age=60)
        handlers: list[tuple[str, Any]] = [(api + route_pattern(h.path), h) for h in API_ROUTES]
        handlers += [
            (prefix + "oauth_callback", OAuthCallbackHandler),
            (prefix + "admin/?", AdminHandler),
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
            log_function=log_request,
            xsrf_cookies=False,  # HubOAuth checks xsrf for cookie-authenticated requests
        )

    def make_experiment_backend(self) -> Any:
        if self.experiment_backend == "local":
            return LocalExperimentBackend(
                Path(self.runs_dir),
                max_parallel=self.max_parallel_runs or None,
                notebook_pool_size=self.notebook_pool_size,
                notebook_pool_preload=list(self.notebook_pool_preload),
            )
        if self.experiment_backend in ("kubernetes", "kube"):
            from ..backends.kube import KubeExperimentBackend

            return KubeExperimentBackend(parent=self)
        raise ValueError(
            f"SubmarineService.experiment_backend is {self.experiment_backend!r}; "
            "use 'local' or 'kubernetes'."
        )

    def make_context(self, hub: HubDirectory) -> ServiceContext:
        """What the handlers reach through ``self.core``, with ``hub`` as the directory of
        users and teams (the single-user server's standalone mode passes its own)."""
        context = ServiceContext(
            db=Database(self.db_url),
            hub=hub,
            openapi=openapi_document(self.service_prefix),
            crypt=Crypt(self.crypt_key),
            builds=BuildManager(Path(self.environments_dir), enabled=self.build_environments),
            quota_defaults=parse_quota_changes(self.default_quota),
        )
        context.uploads = UploadStore(Path(self.uploads_dir))
        context.artifacts = ArtifactStore(self.artifact_store_url, self.artifact_store_options)
        context.experiments = ExperimentManager(
            context.db,
            self.make_experiment_backend(),
            crypt=context.crypt,
            builds=context.builds,
            quota_defaults=context.quota_defaults,
            api_url=self.run_api_url,
            gpu_ids=list(self.gpu_ids),
            uploads=context.uploads,
            heartbeat_interval=self.tracking_heartbeat,
        )
        context.notebook_jobs = NotebookJobs(context, misfire_grace=self.schedule_misfire_grace)
        return context

    async def start_platform(self, context: ServiceContext) -> None:
        """Start what works beside the handlers: the built-in templates, the experiment
        scheduler (also called by the single-user server's standalone mode)."""
        async with context.db.session() as session:
            await templates.install_builtins(session, builtin_templates())
        context.experiments.start()

    async def stop_platform(self, context: ServiceContext) -> None:
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

        context.endpoints = EndpointManager.for_service(self, context, self.api_token)
        context.endpoints.start()
        app = self.make_app(context)
        parsed = urlparse(self.url)
        server = HTTPServer(app, xheaders=True, max_body_size=MAX_STREAMED_BODY)
        server.listen(parsed.port or 80, parsed.hostname or "127.0.0.1")
        self.log.info("listening", extra={"url": self.url, "prefix": self.service_prefix})

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        self.log.info("stopping")
        server.stop()
        await server.close_all_connections()
        await context.endpoints.stop()  # endpoint processes keep serving
        await self.stop_platform(context)

    def start(self) -> None:
        if self.upgrade_db:
            revision = upgrade(self.db_url)
            print(f"metastore {_redact(self.db_url)} is at revision {revision}")
            return
        asyncio.run(self.start_async())


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main(argv: list[str] | None = None) -> None:
    SubmarineService.launch_instance(argv)
