"""What the service and an experiment backend exchange: plans and states.

The service turns a run's spec into a :class:`LaunchPlan` (what to start, with which
environment, resources and credentials) and hands it to a backend; it then asks the
backend for each run's :class:`RunState` until the run ends. The backend interface and
its contract: :class:`submarine_hub.backends.base.ExperimentBackend`; backends: local
processes (``backends.local.experiments``) and Kubernetes (``backends.kube``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..resources import Resources

PENDING = "pending"
RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
KILLED = "killed"
ACTIVE_STATES = (PENDING, RUNNING)
FINAL_STATES = (SUCCEEDED, FAILED, KILLED)
STATES = (*ACTIVE_STATES, *FINAL_STATES)


@dataclass(frozen=True)
class ReplicaPlan:
    role: str
    index: int
    rank: int
    argv: list[str]
    resources: Resources
    env: dict[str, str] = field(default_factory=dict)  # this replica's own variables

    @property
    def name(self) -> str:
        return f"{self.role}-{self.index}"


@dataclass(frozen=True)
class LaunchPlan:
    """Everything a backend needs to start a run; built by the service, read by backends."""

    run_id: int
    name: str
    team: str
    owner: str
    framework: str  # none | pytorch | tensorflow
    roles: dict[str, int]  # role -> replicas, in rank order
    replicas: list[ReplicaPlan]
    env: dict[str, str]  # variables of every replica (spec env, credentials, platform)
    credential_files: list[dict[str, Any]] = field(default_factory=list)
    code: dict[str, Any] | None = None  # {"git": {url, ref}} | {"upload": path of a tar}
    image: str = ""  # container image (Kubernetes)
    python_prefix: str = ""  # a built environment profile's prefix (local)
    timeout: float | None = None
    gpu_ids: list[int] = field(default_factory=list)  # local: devices assigned to the run
    labels: dict[str, str] = field(default_factory=dict)
    # A notebook task: {"input": path in the working folder, "output": executed notebook,
    # "parameters": {...}}; backends that keep warm kernels run it there.
    notebook: dict[str, Any] | None = None
    # A Spark application (task: spark, or Spark SQL): {"task": the normalized task.spark,
    # "name": the application's name, "proxy_base": the UI's path through the service,
    # "notebook_argv": papermill's command for a notebook}; the backend makes the driver's
    # command line (spark.driver_argv) with its master and event log folder.
    spark: dict[str, Any] | None = None


@dataclass
class ReplicaState:
    name: str
    status: str
    exit_code: int | None = None
    pid: int | None = None
    cpu_time: float | None = None  # seconds of CPU really used, where measured
    peak_memory: int | None = None  # bytes, where measured


@dataclass
class RunState:
    status: str
    exit_code: int | None = None
    reason: str = ""
    started_at: float | None = None  # epoch seconds
    finished_at: float | None = None
    replicas: list[ReplicaState] = field(default_factory=list)

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATES
