"""Spark on the local backend: a standalone cluster the platform starts and supervises.

The cluster is one master and ``workers`` workers of PySpark's own distribution (the
``spark`` extra; Java 17+ from the system), started on 127.0.0.1 when the first Spark run
comes, checked (and what died restarted) before each run, and left running when the
service stops, as runs are. Its state is ``<runs_dir>/.spark/cluster.json``; its logs and
the executors' working folders are beside it. As root its processes run as an account
of no privilege (``LocalExperimentBackend.spark_account``): executors run the runs' code.

A configured master (``LocalExperimentBackend.spark_master = "spark://host:7077"``) is
used as it is, and ``local[*]`` runs each application in its driver (the fallback when
no Java cluster may run here).

Each Spark run's driver runs as the run's process (``spark-submit`` in client mode) with
its UI on a port of its own, which the service proxies (``spark.json`` in the run's folder
tells where); a kill also asks the master to kill the application, so no executor is left.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import logging
import os
import pwd
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from ...core.experiments import spark
from ...core.experiments.backend import LaunchPlan

log = logging.getLogger("submarine_hub.backends.local.spark")

STATE = "cluster.json"
RUN_INFO = "spark.json"
START_TIMEOUT_S = 90.0
MASTER_CLASS = "org.apache.spark.deploy.master.Master"
WORKER_CLASS = "org.apache.spark.deploy.worker.Worker"


class SparkUnavailable(RuntimeError):
    """PySpark or Java is missing, or the cluster did not come up."""


def spark_home() -> Path:
    """PySpark's own Spark distribution (its ``bin/`` and ``jars/``)."""
    found = importlib.util.find_spec("pyspark")
    if found is None or found.origin is None:
        raise SparkUnavailable(
            "PySpark is not installed: install the spark extra (pip install "
            "'submarine-hub[spark]'; scripts/bootstrap does)."
        )
    return Path(found.origin).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"org.apache.spark.deploy" in cmdline


class SparkCluster:
    """The local standalone cluster (or a configured master)."""

    def __init__(
        self,
        root: Path,
        *,
        master_url: str = "",
        master_ui: str = "",
        workers: int = 2,
        worker_cores: int = 1,
        worker_memory: str = "1g",
        daemon_memory: str = "256m",
        account: str = "",
    ) -> None:
        self.root = root
        self.configured = master_url
        self.configured_ui = master_ui
        self.workers = workers
        self.worker_cores = worker_cores
        self.worker_memory = worker_memory
        self.daemon_memory = daemon_memory
        self.account = account
        self._lock = threading.Lock()

    # -- state ------------------------------------------------------------------------------

    def _state(self) -> dict[str, Any]:
        try:
            data = json.loads((self.root / STATE).read_text())
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, Any]) -> None:
        tmp = self.root / (STATE + ".tmp")
        tmp.write_text(json.dumps(state))
        tmp.replace(self.root / STATE)

    def master_ui(self) -> str:
        if self.configured:
            return self.configured_ui
        port = self._state().get("ui_port")
        return f"http://127.0.0.1:{port}" if port else ""

    def status(self) -> dict[str, Any]:
        """The master's own JSON (workers, active and completed applications), or {}."""
        ui = self.master_ui()
        if not ui:
            return {}
        try:
            answer = httpx.get(f"{ui}/json/", timeout=5)
            answer.raise_for_status()
            data = answer.json()
        except (httpx.HTTPError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def alive_workers(self) -> int:
        return sum(1 for w in self.status().get("workers", []) if w.get("state") == "ALIVE")

    # -- starting -----------------------------------------------------------------------------

    def ensure(self) -> str:
        """The master URL, starting (or restarting) the cluster's processes as needed."""
        if self.configured:
            return self.configured
        with self._lock:
            state = self._state()
            pids = state.get("pids", {})
            if _alive(pids.get("master")) and self.status():
                names = [f"worker-{i}" for i in range(self.workers)]
                dead = [name for name in names if not _alive(pids.get(name))]
                if dead:
                    log.warning("Spark workers %s died: starting them again", ", ".join(dead))
                    for name in dead:
                        pids[name] = self._start_worker(name, state["master"])
                    self._save(state)
                    self._wait_workers()
                return str(state["master"])
            self.stop()
            return self._start()

    def _start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o711)  # the cluster's account passes through to work/
        (self.root / "logs").mkdir(exist_ok=True)
        (self.root / "work").mkdir(exist_ok=True)
        self._give(self.root / "work")
        port, ui_port = free_port(), free_port()
        master = f"spark://127.0.0.1:{port}"
        state: dict[str, Any] = {"master": master, "port": port, "ui_port": ui_port, "pids": {}}
        state["pids"]["master"] = self._spawn(
            "master",
            [MASTER_CLASS, "--host", "127.0.0.1", "--port", str(port),
             "--webui-port", str(ui_port)],
        )  # fmt: skip
        self._save(state)
        self._wait(lambda: bool(self.status()), "the Spark master's UI")
        for i in range(self.workers):
            state["pids"][f"worker-{i}"] = self._start_worker(f"worker-{i}", master)
        self._save(state)
        self._wait_workers()
        log.info("Spark standalone cluster up: %s, %d workers", master, self.workers)
        return master

    def _start_worker(self, name: str, master: str) -> int:
        return self._spawn(
            name,
            [
                WORKER_CLASS, "--host", "127.0.0.1", "--cores", str(self.worker_cores),
                "--memory", self.worker_memory, "--webui-port", "0",
                "--work-dir", str(self.root / "work"), master,
            ],
        )  # fmt: skip

    def _wait_workers(self) -> None:
        self._wait(lambda: self.alive_workers() >= self.workers, f"{self.workers} Spark workers")

    def _wait(self, ready: Any, what: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.2)
        raise SparkUnavailable(
            f"{what} did not come up in {START_TIMEOUT_S:.0f} s; see {self.root}/logs"
        )

    def _user(self) -> pwd.struct_passwd | None:
        if os.geteuid() != 0 or not self.account:
            return None
        try:
            return pwd.getpwnam(self.account)
        except KeyError:
            raise SparkUnavailable(
                f"no system account {self.account!r} for the Spark cluster"
            ) from None

    def _give(self, path: Path) -> None:
        user = self._user()
        if user is not None:
            os.chown(path, user.pw_uid, user.pw_gid)

    def _spawn(self, name: str, args: list[str]) -> int:
        home = spark_home()
        user = self._user()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "SPARK_HOME": str(home),
            "SPARK_DAEMON_MEMORY": self.daemon_memory,
            "SPARK_LOCAL_IP": "127.0.0.1",
            "SPARK_NO_DAEMONIZE": "1",
            "HOME": str(self.root / "work"),
            "LANG": "C.UTF-8",
        }
        if os.environ.get("JAVA_HOME"):
            env["JAVA_HOME"] = os.environ["JAVA_HOME"]
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        out = os.open(self.root / "logs" / f"{name}.log", flags, 0o644)
        try:
            proc = subprocess.Popen(
                [str(home / "bin" / "spark-class"), *args],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                env=env,
                cwd=str(self.root / "work"),
                start_new_session=True,  # outlives the service, like the runs
                user=user.pw_uid if user else None,
                group=user.pw_gid if user else None,
                extra_groups=[] if user else None,
            )
        except FileNotFoundError as e:
            raise SparkUnavailable(f"cannot start Spark: {e}") from None
        finally:
            os.close(out)
        threading.Thread(target=proc.wait, daemon=True).start()  # reaped when it ends
        return proc.pid

    def stop(self) -> None:
        """Stop the cluster's processes (its applications' executors end with them)."""
        state = self._state()
        for pid in (state.get("pids") or {}).values():
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 20
        for pid in (state.get("pids") or {}).values():
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        (self.root / STATE).unlink(missing_ok=True)

    # -- applications ---------------------------------------------------------------------------

    def applications(self, name: str) -> list[dict[str, Any]]:
        """The cluster's running applications named ``name``."""
        return [a for a in self.status().get("activeapps", []) if a.get("name") == name]

    def executors(self, app_id: str) -> list[dict[str, Any]]:
        """The executors the workers run for application ``app_id``."""
        found = []
        for worker in self.status().get("workers", []):
            ui = worker.get("webuiaddress")
            if not ui or worker.get("state") != "ALIVE":
                continue
            try:
                data = httpx.get(f"{ui}/json/", timeout=5).json()
            except (httpx.HTTPError, ValueError):
                continue
            found += [e for e in data.get("executors", []) if e.get("appid") == app_id]
        return found

    def kill_application(self, name: str) -> list[str]:
        """Ask the master to kill the running applications named ``name`` (their executors
        with them); their ids."""
        ui = self.master_ui()
        killed = []
        for app in self.applications(name):
            try:
                httpx.post(
                    f"{ui}/app/kill/", data={"id": app["id"], "terminate": "true"}, timeout=5
                )
                killed.append(str(app["id"]))
            except httpx.HTTPError as e:
                log.warning("could not ask the Spark master to kill %s: %s", app.get("id"), e)
        return killed


def driver_plan(
    plan: LaunchPlan, cluster: SparkCluster, master: str, run_dir: Path, python: str
) -> tuple[LaunchPlan, dict[str, Any]]:
    """The plan whose one replica is the Spark driver, and what ``spark.json`` records."""
    assert plan.spark is not None
    from .. import spark_module

    home = spark_home()
    local = master.startswith("spark://127.0.0.1") or master.startswith("local")
    ui_port = free_port()
    extra = {"spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"}
    options = spark.submit_options(
        plan.spark["task"],
        master=master,
        name=plan.spark["name"],
        event_dir=str(run_dir / "artifacts" / spark.EVENTS_FOLDER),
        python=python,
        ui_port=ui_port,
        proxy_base=plan.spark.get("proxy_base", ""),
        extra_conf=extra if local else {},
    )
    argv, env = spark.driver_argv(
        plan.spark["task"],
        options,
        spark_submit=str(home / "bin" / "spark-submit"),
        module_runner=str(Path(spark_module.__file__)),
        notebook_argv=plan.spark.get("notebook_argv"),
    )
    env.update(SPARK_HOME=str(home), PYSPARK_PYTHON=python)
    if local:
        env["SPARK_LOCAL_IP"] = "127.0.0.1"
    if os.environ.get("JAVA_HOME"):
        env["JAVA_HOME"] = os.environ["JAVA_HOME"]
    driver = dataclasses.replace(plan.replicas[0], argv=argv, env={**plan.replicas[0].env, **env})
    info = {
        "master": master,
        "master_ui": cluster.master_ui(),
        "name": plan.spark["name"],
        "ui": f"http://127.0.0.1:{ui_port}",
    }
    return dataclasses.replace(plan, replicas=[driver]), info


def with_platform_modules(plan: LaunchPlan) -> LaunchPlan:
    """A run that executes the platform's own modules (the SQL runner, the Spark SQL app)
    in the platform's Python imports them from the same installation as the service (the
    task it reads was written by this version), whatever else is on its path."""
    if plan.python_prefix:
        return plan  # a profile's environment has its own installation
    root = str(Path(__file__).resolve().parents[3])
    replicas = []
    for r in plan.replicas:
        path = r.env.get("PYTHONPATH") or plan.env.get("PYTHONPATH")
        env = {**r.env, "PYTHONPATH": os.pathsep.join(p for p in (root, path) if p)}
        replicas.append(dataclasses.replace(r, env=env))
    return dataclasses.replace(plan, replicas=replicas)


def python_of(plan: LaunchPlan) -> str:
    return f"{plan.python_prefix}/bin/python" if plan.python_prefix else sys.executable


def write_info(run_dir: Path, info: dict[str, Any]) -> None:
    (run_dir / RUN_INFO).write_text(json.dumps(info))


def read_info(run_dir: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((run_dir / RUN_INFO).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None
