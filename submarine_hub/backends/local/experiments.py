"""The local experiment backend: each run under its own supervisor process.

Layout of a run's folder (``<runs_dir>/<id>/``)::

    run.json          what to start (written here, 0600, read by the supervisor; its
                      environment values are blanked once the run ends)
    status.json       the run's state (written by the supervisor)
    supervisor.lock   held by the supervisor while it lives
    kill              present once a kill was asked for
    code/             the working folder (git clone or uploaded code)
    artifacts/        the run's outputs ($SUBMARINE_ARTIFACTS_DIR)
    metrics-spool/    metric points the run's processes could not send (client/spool.py)
    credentials/      credential files (0600)
    logs/<replica>.log, logs/prepare.log
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from traitlets import Integer, List, Unicode, default

from ...client import spool
from ...core.experiments.backend import (
    FAILED,
    PENDING,
    LaunchPlan,
    ReplicaState,
    RunState,
)
from ...core.experiments.spark import EVENTS_FOLDER as SPARK_EVENTS
from ...core.experiments.sql import TASK_ENV as SQL_TASK_ENV
from ..base import ExperimentBackend
from .executor import code_version, socket_path, state_dir
from .isolation import Account, owned_by, scrubbed_env
from .limits import describe_base, find_base
from .logs import read_slice
from .spark_cluster import (
    SparkCluster,
    driver_plan,
    python_of,
    read_info,
    with_platform_modules,
    write_info,
)
from .supervisor import lock_held, scrub_secrets, write_json

log = logging.getLogger("submarine_hub.backends.local")
SUPERVISOR = Path(__file__).with_name("supervisor.py")
EXECUTOR_MODULE = "submarine_hub.backends.local.executor"
EXECUTOR_START_TIMEOUT_S = 60.0
EXECUTOR_RESPAWN_S = 5.0
# A launched run whose supervisor has not taken its lock after this long died starting.
START_GRACE_S = 120.0


class LocalExperimentBackend(ExperimentBackend):
    """Runs on this machine, each in its own process groups, outliving the service.

    Configure it as ``c.LocalExperimentBackend.*``; the service's default experiment
    backend (entry point ``local``).
    """

    name = "local"
    same_machine = True

    runs_dir = Unicode(
        help="""Where each run's folder is kept (code, logs, artifacts).
        Default: ``runs`` in the service's data_dir.""",
    ).tag(config=True)

    @default("runs_dir")
    def _default_runs_dir(self) -> str:
        return str(Path(self.data_dir, "runs"))

    max_parallel_runs = Integer(
        help="""How many runs run at once; more wait in the queue (as do runs over their
        team's max_running_experiments). 0: no limit. Default: twice the number of CPU
        cores.""",
    ).tag(config=True)

    @default("max_parallel_runs")
    def _default_max_parallel_runs(self) -> int:
        return 2 * (os.cpu_count() or 1)

    notebook_pool_size = Integer(
        2,
        help="""Warm kernels kept per environment for notebook jobs: a notebook run starts
        executing at once on a pre-started, never-used kernel (one kernel per run,
        discarded after it; the pool refills in the background). The default
        environment's pool is kept full; another environment's is filled after its first
        run and dropped after 10 idle minutes. 0 turns the pool off: every notebook run
        then starts its own process and kernel (see docs/notebook-jobs.md). Not used when
        runs run as their owners (``SubmarineService.run_as_owner``).""",
    ).tag(config=True)

    notebook_pool_preload = List(
        Unicode(),
        help="""Modules the warm kernels import before they are used (e.g. ["numpy",
        "pandas"]), so notebook runs do not wait for those imports. Each kernel still
        serves one run only.""",
    ).tag(config=True)

    gpu_ids = List(
        Integer(),
        help="""GPU device numbers handed to runs (as CUDA_VISIBLE_DEVICES); a run asking
        for GPUs waits until enough are free. Example: [0, 1].""",
    ).tag(config=True)

    spark_master = Unicode(
        "",
        help="""Where Spark runs (task: spark, Spark SQL) run: "" (the default) starts and
        supervises a standalone cluster on this machine (spark_workers workers) when the
        first one comes; "spark://host:7077" uses an existing cluster; "local[*]" runs each
        application inside its driver (the fallback, with no cluster).""",
    ).tag(config=True)

    spark_master_ui = Unicode(
        "",
        help="""The web UI of a configured spark_master (http://host:8080), used to kill
        applications and count their executors.""",
    ).tag(config=True)

    spark_workers = Integer(2, help="Workers of the platform's own Spark cluster.").tag(config=True)
    spark_worker_cores = Integer(1, help="Cores each Spark worker offers.").tag(config=True)
    spark_worker_memory = Unicode("1g", help="Memory each Spark worker offers (1g, 2g...).").tag(
        config=True
    )
    spark_account = Unicode(
        "nobody",
        help="""The system account the platform's Spark cluster runs as when the service runs
        as root (executors run the runs' code: never root).""",
    ).tag(config=True)

    def __init__(self, runs_dir: Path | str | None = None, **kwargs: Any) -> None:
        """``runs_dir`` (also a setting) may be given first, as a path."""
        if runs_dir is not None:
            kwargs["runs_dir"] = str(runs_dir)
        super().__init__(**kwargs)
        self.root = Path(self.runs_dir)
        self.root.mkdir(parents=True, exist_ok=True)
        # With ``accounts`` each run's processes run as its owner's system account, with
        # its team's group; run folders are passable (0711) but their control files are
        # root's. The warm kernels (one pool of one user) are not used then.
        pool_size = self.notebook_pool_size
        if self.accounts is not None:
            self.root.chmod(0o711)
            if pool_size > 0:
                log.info("runs run as their owners: notebook runs start their own kernels")
                pool_size = 0
        self._children: set[asyncio.subprocess.Process] = set()
        self._cores = sorted(os.sched_getaffinity(0))
        # where replicas' memory limits go: a cgroup v2 each, or RLIMIT_AS (limits.py)
        self.memory_cgroup, why = find_base()
        log.info("memory limits of local runs: %s", describe_base(self.memory_cgroup, why))
        # Notebook runs on warm kernels (see executor.py); None: every run has a supervisor.
        self.spark = SparkCluster(
            self.root / ".spark",
            master_url=self.spark_master,
            master_ui=self.spark_master_ui,
            workers=self.spark_workers,
            worker_cores=self.spark_worker_cores,
            worker_memory=self.spark_worker_memory,
            account=self.spark_account,
        )
        self.executor: ExecutorClient | None = (
            ExecutorClient(self.root, pool_size, list(self.notebook_pool_preload))
            if pool_size > 0
            else None
        )

    async def start(self) -> None:
        """Start (or reach) the notebook executor now, so kernels are warm before runs come."""
        if self.executor is not None:
            self.executor.start()

    def capacity(self) -> int | None:
        return self.max_parallel_runs or None

    def assignable_gpus(self) -> list[int]:
        return list(self.gpu_ids)

    def artifacts_location(self, run_id: int) -> str:
        return str(self.artifacts_dir(run_id))

    def local_artifacts(self, run_id: int) -> Path | None:
        return self.artifacts_dir(run_id)

    def run_dir(self, run_id: int) -> Path:
        return self.root / str(run_id)

    def artifacts_dir(self, run_id: int) -> Path:
        return self.run_dir(run_id) / "artifacts"

    # -- launching ------------------------------------------------------------------------

    def _replica_env(
        self, plan: LaunchPlan, env: dict[str, str], gpus: list[int], account: Account | None
    ) -> dict[str, str]:
        # a profile's environment, else the platform's own Python (and its packages) first
        bindir = (
            f"{plan.python_prefix}/bin" if plan.python_prefix else str(Path(sys.executable).parent)
        )
        out = scrubbed_env(
            {**plan.env, **env, "CUDA_VISIBLE_DEVICES": ",".join(map(str, gpus))},
            path_prefix=[bindir],
            account=account,
        )
        if plan.python_prefix:
            out["VIRTUAL_ENV"] = plan.python_prefix
        return out

    def _cores_for(self, plan: LaunchPlan, cpu: float | None, offset: int) -> list[int] | None:
        if not cpu or math.ceil(cpu) >= len(self._cores):
            return None
        n = math.ceil(cpu)
        start = (plan.run_id + offset) % len(self._cores)
        return [self._cores[(start + i) % len(self._cores)] for i in range(n)]

    def _write_plan(self, plan: LaunchPlan, run_dir: Path, account: Account | None) -> None:
        if account is not None:
            # its owner reaches code/, artifacts/, metrics-spool/ and credentials/ only
            run_dir.chmod(0o711)
        subs = ["code", "artifacts", "logs", spool.RUN_FOLDER]
        if plan.spark is not None:
            subs.append(f"artifacts/{SPARK_EVENTS}")  # the driver's event log
        for sub in subs:
            (run_dir / sub).mkdir(exist_ok=True)
            if account is not None and sub != "logs":
                owned_by(run_dir / sub, account, 0o700)
        env = dict(plan.env)
        env["SUBMARINE_ARTIFACTS_DIR"] = str(run_dir / "artifacts")
        env["SUBMARINE_RUN_DIR"] = str(run_dir)  # metrics not sent by exit are spooled here
        if account is not None and self.accounts is not None:
            env["SUBMARINE_TEAM_DIR"] = str(self.accounts.team_dir(plan.team))
        if plan.credential_files:
            creds = run_dir / "credentials"
            creds.mkdir(mode=0o700, exist_ok=True)
            owned_by(creds, account, 0o700)
            for item in plan.credential_files:
                target = creds / Path(item["path"]).name
                fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(base64.b64decode(item["content_base64"]))
                owned_by(target, account, 0o600)
            env["SUBMARINE_CREDENTIALS_DIR"] = str(creds)
        replicas = []
        gpu_pool = list(plan.gpu_ids)
        for offset, r in enumerate(plan.replicas):
            gpus, gpu_pool = gpu_pool[: r.resources.gpus], gpu_pool[r.resources.gpus :]
            full = self._replica_env(plan, {**env, **r.env}, gpus, account)
            replicas.append(
                {
                    "name": r.name,
                    "argv": r.argv,
                    "env": full,
                    "memory": r.resources.memory,
                    "cores": self._cores_for(plan, r.resources.cpu, offset),
                    "cpu_seconds": math.ceil(plan.timeout * (r.resources.cpu or len(self._cores)))
                    if plan.timeout
                    else None,
                }
            )
        code: dict[str, Any] | None = None
        if plan.code and "git" in plan.code:
            code = {"git": plan.code["git"]}
        elif plan.code and "upload" in plan.code:
            code = {"tar": plan.code["upload"]}
        body = {
            "run_id": plan.run_id,
            "workdir": str(run_dir / "code"),
            "replicas": replicas,
            "code": code,
            "timeout": plan.timeout,
            "notebook": plan.notebook,
            "python_prefix": plan.python_prefix,
            "memory_cgroup": str(self.memory_cgroup) if self.memory_cgroup else None,
        }
        if account is not None:
            # how the supervisor starts the run's processes (and fetches its code)
            body["as_user"] = account.popen_kwargs()
            body["prepare_env"] = scrubbed_env(account=account)
        # it holds credential values and the run's token: its owner's only (0600),
        # and scrubbed once the run ends (supervisor.scrub_secrets)
        write_json(run_dir / "run.json", body, durable=False, mode=0o600)

    async def launch(self, plan: LaunchPlan) -> None:
        run_dir = self.run_dir(plan.run_id)
        run_dir.mkdir(parents=True, exist_ok=True)
        if (run_dir / "status.json").exists() or _lock_held(run_dir):
            return  # launched before (the service restarted in between)
        account = None
        if self.accounts is not None:
            account = await asyncio.to_thread(self.accounts.account, plan.owner, plan.team)
        if plan.spark is not None:  # its one process is the driver, on the cluster
            master = await asyncio.to_thread(self.spark.ensure)
            plan, info = driver_plan(plan, self.spark, master, run_dir, python_of(plan))
            write_info(run_dir, info)
        if plan.spark is not None or SQL_TASK_ENV in plan.env:
            plan = with_platform_modules(plan)
        await asyncio.to_thread(self._write_plan, plan, run_dir, account)
        if (
            plan.notebook is not None
            and self.executor is not None
            and await self.executor.submit(run_dir, self._executor_done)
        ):
            return  # a warm kernel runs it
        out = os.open(run_dir / "supervisor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                str(SUPERVISOR),
                str(run_dir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=scrubbed_env(),  # never the service's token, keys or database URLs
                start_new_session=True,  # outlives the service, and its signals
            )
        finally:
            os.close(out)
        self._children.add(proc)
        task = asyncio.ensure_future(proc.wait())
        task.add_done_callback(lambda _: self._ended(proc))

    def _executor_done(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _ended(self, proc: asyncio.subprocess.Process) -> None:
        self._children.discard(proc)
        if self.on_change is not None:
            self.on_change()  # a run ended: the scheduler looks now, not at its next tick

    # -- state ----------------------------------------------------------------------------

    def _read_status(self, run_dir: Path) -> dict[str, Any] | None:
        try:
            return json.loads((run_dir / "status.json").read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            return None  # cannot happen with atomic writes; treat as not yet written

    def _state(self, run_id: int) -> RunState | None:
        run_dir = self.run_dir(run_id)
        if not (run_dir / "run.json").exists():
            return None
        status = self._read_status(run_dir)
        if status is None or status["status"] not in ("succeeded", "failed", "killed"):
            held = _lock_held(run_dir)
            if not held:
                again = self._read_status(run_dir)  # it may have ended just now
                if again and again["status"] in ("succeeded", "failed", "killed"):
                    status = again
                elif status is None and not self._start_overdue(run_dir):
                    return RunState(PENDING, reason="starting")
                else:
                    scrub_secrets(run_dir)  # nobody will finish it
                    return RunState(
                        FAILED,
                        reason="the run's supervisor is gone (was the machine restarted?)",
                        started_at=(status or {}).get("started_at"),
                        finished_at=(status or {}).get("started_at"),
                    )
            if status is None:
                return RunState(PENDING, reason="preparing")
        return RunState(
            status=status["status"],
            exit_code=status.get("exit_code"),
            reason=status.get("reason", "") if status["status"] != "pending" else "preparing",
            started_at=status.get("started_at"),
            finished_at=status.get("finished_at"),
            replicas=[
                ReplicaState(
                    r["name"],
                    r["status"],
                    r.get("exit_code"),
                    r.get("pid"),
                    r.get("cpu_time"),
                    r.get("peak_memory"),
                )
                for r in status.get("replicas", [])
            ],
        )

    def _start_overdue(self, run_dir: Path) -> bool:
        """No supervisor took the run long after it was launched: it died starting."""
        try:
            launched = (run_dir / "run.json").stat().st_mtime
        except FileNotFoundError:
            return False
        return time.time() - launched > START_GRACE_S

    async def state(self, run_id: int) -> RunState | None:
        return self._state(run_id)

    async def states(self, run_ids: list[int]) -> dict[int, RunState | None]:
        """Many states at once (file reads only; cheap enough for the event loop)."""
        return {run_id: self._state(run_id) for run_id in run_ids}

    async def kill(self, run_id: int) -> None:
        run_dir = self.run_dir(run_id)
        if not run_dir.exists():
            return
        (run_dir / "kill").touch()
        status = self._read_status(run_dir)
        if status and status.get("supervisor_pid"):
            try:
                os.kill(status["supervisor_pid"], signal.SIGTERM)
            except ProcessLookupError:
                pass
        info = read_info(run_dir)
        if info is not None:  # the application too, not only its driver
            await asyncio.to_thread(self.spark.kill_application, info["name"])

    async def spark_info(self, run_id: int) -> dict[str, Any] | None:
        info = read_info(self.run_dir(run_id))
        if info is None:
            return None

        def live() -> dict[str, Any]:
            apps = self.spark.applications(info["name"])
            executors = self.spark.executors(apps[0]["id"]) if apps else []
            return {
                "app_id": apps[0]["id"] if apps else None,
                "running": bool(apps),
                "executors": len(executors),
                "cores": int(apps[0].get("cores") or 0) if apps else 0,  # granted
            }

        return {**info, **await asyncio.to_thread(live)}

    # -- logs -----------------------------------------------------------------------------

    async def log_names(self, run_id: int) -> list[str]:
        logs = self.run_dir(run_id) / "logs"
        if not logs.exists():
            return []
        names = sorted(p.stem for p in logs.glob("*.log") if p.stem != "prepare")
        prepare = logs / "prepare.log"
        return names + (["prepare"] if prepare.exists() and prepare.stat().st_size else [])

    async def read_log(self, run_id: int, name: str, offset: int, limit: int) -> bytes:
        path = self.run_dir(run_id) / "logs" / f"{name}.log"
        return await asyncio.to_thread(read_slice, path, offset, limit)

    async def remove(self, run_id: int) -> None:
        await asyncio.to_thread(shutil.rmtree, self.run_dir(run_id), True)

    async def close(self) -> None:
        # Supervisors (and the executor) are left running on purpose: runs outlive the
        # service; an executor with no service and nothing to run leaves by itself.
        self._children.clear()
        if self.executor is not None:
            await self.executor.close()


def _lock_held(run_dir: Path) -> bool:
    return lock_held(run_dir / "supervisor.lock")


class ExecutorClient:
    """The service's side of the notebook executor (``executor.py``): starts it when none
    serves the runs folder, says hello (owner, pool size), and hands it notebook runs.

    A run the executor does not take (not reachable, still starting, refused) goes to a
    supervisor as usual; one it took reports its end on the connection it came by."""

    def __init__(self, runs_dir: Path, pool_size: int, preload: list[str]) -> None:
        self.runs_dir = runs_dir
        self.pool_size = pool_size
        self.preload = preload
        self.path = socket_path(runs_dir)
        self.version = code_version()
        self._starting: asyncio.Task[None] | None = None
        self._waiters: set[asyncio.Task[None]] = set()
        self._ready = False

    def start(self) -> None:
        if self._starting is None or self._starting.done():
            self._starting = asyncio.ensure_future(self._ensure())

    async def _hello(self) -> bool:
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.path), 2)
        except (OSError, TimeoutError):
            return False
        try:
            hello = {
                "op": "hello",
                "owner_pid": os.getpid(),
                "pool_size": self.pool_size,
                "preload": self.preload,
                "version": self.version,
            }
            writer.write(json.dumps(hello).encode() + b"\n")
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), 10) or b"{}")
            return bool(reply.get("ok"))
        except (OSError, TimeoutError, ValueError):
            return False
        finally:
            writer.close()

    async def _ensure(self) -> None:
        if await self._hello():
            self._ready = True
            return
        self._ready = False
        state = state_dir(self.runs_dir)
        state.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + EXECUTOR_START_TIMEOUT_S
        spawned = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() - spawned > EXECUTOR_RESPAWN_S:
                # (again, when the one found was of another version and had to finish first)
                await self._spawn(state)
                spawned = time.monotonic()
            await asyncio.sleep(0.1)
            if await self._hello():
                self._ready = True
                log.info("notebook executor ready (%d warm kernels)", self.pool_size)
                return
        log.warning("the notebook executor did not start; see %s", state / "executor.log")

    async def _spawn(self, state: Path) -> None:
        out = os.open(state / "executor.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                EXECUTOR_MODULE,
                str(self.runs_dir),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=scrubbed_env(keep=("PYTHONPATH",)),
                cwd=str(state),
                start_new_session=True,  # outlives the service, like supervisors
            )
        finally:
            os.close(out)

    async def submit(self, run_dir: Path, on_done: Callable[[], None]) -> bool:
        """Hand a run to the executor; False if it did not take it (use a supervisor)."""
        if not self._ready:
            self.start()
            return False
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(self.path), 2)
        except (OSError, TimeoutError):
            self._ready = False
            self.start()  # it died: start another for the next runs
            return False
        try:
            writer.write(json.dumps({"op": "run", "run_dir": str(run_dir)}).encode() + b"\n")
            await writer.drain()
            reply = json.loads(await asyncio.wait_for(reader.readline(), 10) or b"{}")
        except (OSError, TimeoutError, ValueError):
            writer.close()
            return False
        if not reply.get("ok"):
            writer.close()
            log.info("run %s goes to a supervisor: %s", run_dir.name, reply.get("error"))
            return False
        task = asyncio.ensure_future(self._wait_done(reader, writer, on_done))
        self._waiters.add(task)
        task.add_done_callback(self._waiters.discard)
        return True

    async def _wait_done(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        on_done: Callable[[], None],
    ) -> None:
        try:
            await reader.readline()  # {"op": "done"}, or EOF if the executor died
        except OSError:
            pass
        finally:
            writer.close()
        on_done()

    async def close(self) -> None:
        for task in list(self._waiters):
            task.cancel()
        if self._starting is not None and not self._starting.done():
            self._starting.cancel()
