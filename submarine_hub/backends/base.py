"""The backend interfaces, and how the service picks an implementation.

Three kinds of work run on a backend, each chosen by its own setting of the service and
found in its own entry-point group, as JupyterHub finds spawners
(``jupyterhub.spawners``) and papermill its engines:

- :class:`ExperimentBackend`: ``c.SubmarineService.experiment_backend_class``, group
  ``submarine_hub.experiment_backends``;
- :class:`EndpointBackend`: ``c.EndpointManager.backend_class``, group
  ``submarine_hub.endpoint_backends``;
- :class:`EnvironmentBackend`: ``c.SubmarineService.environment_backend_class``, group
  ``submarine_hub.environment_backends``.

A setting takes an entry-point name (``local``, ``kube``), a class, or a class's import
path (``mypackage.backends.MyBackend``). Each backend is a traitlets
:class:`~traitlets.config.LoggingConfigurable` with its own config section
(``c.LocalExperimentBackend.max_parallel_runs = 4``). Another package adds a backend by
subclassing one of the classes here and declaring it in its ``pyproject.toml``::

    [project.entry-points."submarine_hub.experiment_backends"]
    slurm = "mypackage.slurm:SlurmExperimentBackend"

The service creates one instance of each selected class when it starts, with itself as
the parent (so the instance reads its config) and with :attr:`Backend.data_dir` and
:attr:`Backend.accounts` set.
"""

from __future__ import annotations

import importlib
import os
from abc import ABC, ABCMeta, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from jupyterhub.traitlets import EntryPointType
from traitlets import HasTraits, Instance, TraitError, Unicode, default
from traitlets.config import LoggingConfigurable
from traitlets.traitlets import MetaHasTraits

from ..core.experiments.backend import LaunchPlan, RunState
from .local.isolation import SystemAccounts

if TYPE_CHECKING:
    from ..store.models import EnvironmentProfile

EXPERIMENT_BACKENDS = "submarine_hub.experiment_backends"
ENDPOINT_BACKENDS = "submarine_hub.endpoint_backends"
ENVIRONMENT_BACKENDS = "submarine_hub.environment_backends"

#: Where a run's processes find their artifacts folder, unless the backend says otherwise.
DEFAULT_ARTIFACTS_DIR = "/submarine/artifacts"


class BackendMeta(ABCMeta, MetaHasTraits):
    """Abstract methods on configurable classes (as jupyter_client's kernel provisioners)."""


class Backend(ABC, LoggingConfigurable, metaclass=BackendMeta):
    """What every backend is given by the service that creates it."""

    #: A short name, recorded on what the backend runs (a run's ``backend`` field).
    name: ClassVar[str] = ""

    data_dir = Unicode(
        help="""The platform service's data folder (``SubmarineService.data_dir``), set by
        the service: backends that keep state on this machine keep it below, unless
        configured otherwise. Default: $SUBMARINE_DATA_DIR, or the current directory."""
    )

    @default("data_dir")
    def _default_data_dir(self) -> str:
        return os.environ.get("SUBMARINE_DATA_DIR", os.getcwd())

    accounts = Instance(
        SystemAccounts,
        allow_none=True,
        help="""The users' system accounts that runs and endpoints run as, set by the
        service (``SubmarineService.run_as_owner``); None: as the service's own account.
        Only backends that start local processes use it.""",
    )


class ExperimentBackend(Backend):
    """Where experiment runs execute.

    The service turns a run's spec into a :class:`~submarine_hub.core.experiments.backend.
    LaunchPlan` and hands it to :meth:`launch`; it then asks :meth:`states` for each
    launched run's :class:`~submarine_hub.core.experiments.backend.RunState` until the
    run ends.

    Contract:

    - :meth:`launch` is idempotent per run id: a second call for a run that was launched
      (the service restarted between launching and recording it) starts nothing.
    - :meth:`state` answers from the backend's own record (the run's files on the local
      backend, the cluster on Kubernetes), so a restarted service learns the truth;
      ``None`` means the backend never heard of the run (the service launches it again).
    - :meth:`kill` asks a run to stop; :meth:`state` reports ``killed`` once it has.
    - :meth:`close` leaves runs running: they outlive the service.
    """

    #: Set by the service: call it when a run's state changed, to be asked again at once.
    on_change: Callable[[], None] | None = None

    #: Replicas of a distributed run reach each other on 127.0.0.1 (the service picks a
    #: free port per replica when it plans the run) rather than through the platform's
    #: own networking.
    same_machine: ClassVar[bool] = False

    async def start(self) -> None:
        """Called once when the service's scheduler starts (before any other call but
        :meth:`capacity`): connect, start watches, warm caches."""

    def capacity(self) -> int | None:
        """How many runs may be active at once (``None``: no limit of its own)."""
        return None

    def assignable_gpus(self) -> list[int]:
        """GPU device numbers the service hands out to runs (``LaunchPlan.gpu_ids``),
        queueing runs until enough are free. Empty: the backend places GPUs itself."""
        return []

    def artifacts_location(self, run_id: int) -> str:
        """The run's artifacts folder as its processes see it (``$SUBMARINE_ARTIFACTS_DIR``,
        and where a pipeline step reads an earlier step's outputs). Default: the backend's
        ``artifacts_dir`` setting if it has one, else ``/submarine/artifacts``."""
        return str(getattr(self, "artifacts_dir", DEFAULT_ARTIFACTS_DIR))

    def local_artifacts(self, run_id: int) -> Path | None:
        """The run's artifacts folder on this machine, if the service can read it there
        (to register a model from a run's outputs); None otherwise."""
        return None

    async def live_usage(self) -> list[Any] | None:
        """What the backend's running runs use now, sampled from the cluster's live
        metrics (``core.usage.live.Sample`` items); None: the backend has none (the
        local backend measures its processes itself, when they end)."""
        return None

    async def team_volumes(self, teams: list[str]) -> dict[str, int] | None:
        """Bytes of the volumes each of ``teams`` holds where the backend keeps them (a
        Kubernetes team claim's capacity); None: the backend keeps none."""
        return None

    def run_dir(self, run_id: int) -> Path | None:
        """The run's folder on this machine, if any: metric points its processes could
        not send are collected from there when it ends. None: no such folder."""
        return None

    @abstractmethod
    async def launch(self, plan: LaunchPlan) -> None:
        """Start the run ``plan`` describes (nothing if it was launched already)."""

    @abstractmethod
    async def kill(self, run_id: int) -> None:
        """Ask the run to stop."""

    @abstractmethod
    async def state(self, run_id: int) -> RunState | None:
        """The run's state, or ``None`` when the backend has no record of it."""

    async def states(self, run_ids: list[int]) -> dict[int, RunState | None]:
        """:meth:`state` of several runs (a backend may answer them in one go)."""
        return {run_id: await self.state(run_id) for run_id in run_ids}

    async def spark_info(self, run_id: int) -> dict[str, Any] | None:
        """A Spark run's application: ``{"ui": driver UI URL the service can reach,
        "master", "name", "app_id", "running", "executors", "cores"}``; None when the run
        is not a Spark run of this backend (or the backend cannot tell)."""
        return None

    @abstractmethod
    async def log_names(self, run_id: int) -> list[str]:
        """Names of the run's log streams (one per replica: ``worker-0``...)."""

    @abstractmethod
    async def read_log(self, run_id: int, name: str, offset: int, limit: int) -> bytes:
        """Up to ``limit`` bytes of log ``name`` from ``offset`` (b"" past its end)."""

    async def close(self) -> None:
        """Release what the backend holds in this process (runs keep running)."""


@dataclass
class ProcessState:
    """What an endpoint's server reports, and whether it lives."""

    alive: bool
    state: str = "starting"  # starting | loading | ready | failed | stopping | stopped | gone
    generation: int = 0  # the generation it serves (0: none yet)
    loading: int = 0
    failed: int = 0  # the last generation that failed to load
    reason: str = ""
    port: int = 0
    pid: int | None = None
    serving: list[dict[str, Any]] = field(default_factory=list)
    url_override: str = ""  # where it answers, when not 127.0.0.1:<port>

    @property
    def url(self) -> str:
        if self.url_override:
            return self.url_override
        return f"http://127.0.0.1:{self.port}" if self.port else ""


class EndpointBackend(Backend):
    """Where model-serving endpoints run: one server (``submarine_hub.serving.server``)
    per endpoint, which the :class:`~submarine_hub.serving.manager.EndpointManager`
    keeps on the generation the metastore wants.

    Contract: servers outlive the service (:meth:`close` leaves them running) and
    :meth:`state` answers from the backend's own record, so a restarted service adopts
    them; :meth:`apply` starts a server, or hands a running one its new config.
    """

    #: Seconds :meth:`stats` waits for a server's answer.
    stats_timeout: ClassVar[float] = 2.0
    #: The client :meth:`stats` asks servers with (made when first needed).
    _http: httpx.AsyncClient | None = None

    @abstractmethod
    async def known(self) -> list[int]:
        """Ids of the endpoints this backend has anything for (running or not)."""

    @abstractmethod
    async def state(self, endpoint_id: int) -> ProcessState | None:
        """What the endpoint's server reports, or ``None`` when it was never applied."""

    @abstractmethod
    async def apply(self, endpoint_id: int, config: dict[str, Any]) -> None:
        """Serve ``config`` (the manager's ``server_config``): start the server, or roll
        the running one to it without dropping requests."""

    @abstractmethod
    async def write_access(self, endpoint_id: int, access: dict[str, Any]) -> None:
        """Who may call the endpoint: ``{"team", "members", "admins"}``."""

    @abstractmethod
    async def stop(self, endpoint_id: int) -> None:
        """Stop the endpoint's server (requests in flight finish)."""

    async def remove(self, endpoint_id: int) -> None:
        """Stop the server and forget everything of the endpoint (it was deleted)."""
        await self.stop(endpoint_id)

    def answers(self, state: ProcessState) -> bool:
        """Whether the server in ``state`` can answer a request (:meth:`stats` asks it
        only then). Default: it lives and has an address."""
        return state.alive and bool(state.url)

    async def stats(self, endpoint_id: int, prefix: str, token: str) -> dict[str, Any] | None:
        """The server's request statistics (``<prefix>stats`` with the control ``token``),
        None when it does not answer. Default: asked over HTTP at the address
        :meth:`state` reports, when :meth:`answers` says the server can answer (within
        :attr:`stats_timeout`)."""
        return await self._ask_server(endpoint_id, f"{prefix}stats", token)

    async def series(
        self, endpoint_id: int, prefix: str, token: str, window: int, step: int
    ) -> dict[str, Any] | None:
        """The server's requests over the last ``window`` seconds in ``step``-second points
        (``<prefix>stats?series=...``), None when it does not answer."""
        out = await self._ask_server(
            endpoint_id, f"{prefix}stats?series={int(window)}&step={int(step)}", token
        )
        return out.get("series") if out else None

    async def _ask_server(self, endpoint_id: int, path: str, token: str) -> dict[str, Any] | None:
        state = await self.state(endpoint_id)
        if state is None or not self.answers(state):
            return None
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.stats_timeout)
        try:
            resp = await self._http.get(
                f"{state.url}{path}", headers={"Authorization": f"token {token}"}
            )
        except httpx.HTTPError:
            return None
        return resp.json() if resp.status_code == 200 else None

    @abstractmethod
    async def read_log(self, endpoint_id: int, offset: int, limit: int) -> bytes:
        """Up to ``limit`` bytes of the server's log from ``offset``."""

    async def close(self) -> None:
        """Release what the backend holds in this process (servers keep running); a
        subclass that holds more calls this too."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None


class EnvironmentBackend(Backend):
    """How environment profiles become something sessions and runs use: built into
    virtual environments on this machine, or used as the container images they name.

    A build status is a JSON object ``{"state": "ready" | "building" | "failed" |
    "missing", "prefix": <the built environment's folder, or "">, "image": ...,
    "kernel_name": ...}`` (``GET .../environments/{name}/build`` shows it).
    """

    #: Runs and sessions wait for a profile's build (and use its ``prefix``); False:
    #: profiles need no build here and are always ready.
    builds: ClassVar[bool] = True

    @abstractmethod
    def status(self, env: EnvironmentProfile) -> dict[str, Any]:
        """The profile's build status."""

    @abstractmethod
    def start(self, env: EnvironmentProfile, *, retry_failed: bool = True) -> dict[str, Any]:
        """Start building ``env`` unless it is built or building; return its status. A
        failed build is tried again only with ``retry_failed`` (an explicit request)."""

    def log_text(self, env: EnvironmentProfile, tail: int = 200) -> str:
        """The last ``tail`` lines of the profile's build log ("" if none)."""
        return ""

    async def close(self) -> None:
        """Release what the backend holds in this process."""


class BackendClass(EntryPointType):
    """A backend class setting: an entry-point name of its group, a class, or an import
    path (``package.module.Class``).

    Like JupyterHub's own (``c.JupyterHub.spawner_class``), with an error that names
    the group and what is installed in it when a name is unknown.
    """

    def validate(self, obj: Any, value: Any) -> Any:
        if isinstance(value, str):
            registry = self.load_entry_points()
            key = value.lower()
            if key in registry:
                try:
                    value = registry[key].load()
                except Exception as e:
                    raise TraitError(
                        f"{self._where(obj)}: {value!r} names "
                        f"{registry[key].value} in entry-point group "
                        f"{self.entry_point_group!r}, which could not be loaded: {e}"
                    ) from e
            elif "." not in value:
                raise TraitError(
                    f"{self._where(obj)}: no backend named {value!r} in entry-point group "
                    f"{self.entry_point_group!r}; installed: {_names(registry)}. Give one "
                    "of those, a class, or a class's import path (package.module.Class)."
                )
            else:
                value = self._import(obj, value, registry)
        if not (isinstance(value, type) and issubclass(value, self.klass)):  # type: ignore[arg-type]
            raise TraitError(
                f"{self._where(obj)}: {value!r} is not a subclass of "
                f"{self.klass.__module__}.{self.klass.__qualname__}."  # type: ignore[union-attr]
            )
        return value

    def _import(self, obj: Any, path: str, registry: dict[str, Any]) -> Any:
        module, _, attr = path.rpartition(".")
        try:
            return getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise TraitError(
                f"{self._where(obj)}: {path!r} could not be imported ({e}); backends "
                f"installed in entry-point group {self.entry_point_group!r}: "
                f"{_names(registry)}."
            ) from e

    def _where(self, obj: Any) -> str:
        owner = type(obj).__name__ if isinstance(obj, HasTraits) else "setting"
        return f"{owner}.{self.name}"


def _names(registry: dict[str, Any]) -> str:
    return ", ".join(sorted(registry)) or "none"
