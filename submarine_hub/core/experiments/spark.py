"""Spark runs (``task: {spark: ...}``): the task's schema, its checks, its quota and the
``spark-submit`` command line every backend starts.

A Spark run is one driver process (the run's only replica, role ``driver``) that asks a
cluster for executors::

    task:
      spark:
        script: wordcount.py            # or module: pkg.job, or notebook: nb.ipynb
        args: [--input, data.txt]       # (a notebook takes parameters: {...})
        driver:   {cores: 1, memory: 512M}
        executor: {instances: 2, cores: 1, memory: 512M}
        conf:     {spark.sql.shuffle.partitions: 4}

The platform sets what ties the run to itself: the master, the application's name
(``submarine-run-<id>``), the event log (``spark-events/`` in the run's artifacts, so the
Spark history server can replay it), the UI's port and proxy base; a ``conf`` naming one
of those is refused. Executors count against the team's quota like replicas do: each
one within the per-replica limits, driver and executors together within the totals.
"""

from __future__ import annotations

import shlex
from typing import Any

from ..errors import InvalidInput
from ..quotas import Quota, QuotaExceeded
from ..resources import format_memory, parse_memory

ROLE = "driver"
MEMORY_DEFAULT = "512Mi"
EVENTS_FOLDER = "spark-events"
#: Bundled application that runs ``python -m``-style modules under spark-submit.
MODULE_RUNNER = "submarine_hub.backends.spark_module"
#: Conf keys the platform sets (or that the task's fields set): never a user's.
RESERVED_CONF = (
    "spark.master",
    "spark.submit.deployMode",
    "spark.app.name",
    "spark.eventLog.",
    "spark.ui.port",
    "spark.ui.proxyBase",
    "spark.ui.proxyRedirectUri",
    "spark.driver.host",
    "spark.driver.bindAddress",
    "spark.driver.memory",
    "spark.driver.cores",
    "spark.executor.instances",
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.cores.max",
    "spark.pyspark.",
    "spark.kubernetes.",
)

_MEMORY = {"type": ["integer", "string"], "description": "Bytes, or 512M, 2G, 1Gi."}
_CORES = {"type": "integer", "minimum": 1, "maximum": 64}

SPARK_TASK: dict[str, Any] = {
    "additionalProperties": False,
    "required": ["spark"],
    "properties": {
        "spark": {
            "type": "object",
            "description": "A PySpark application: a script, a module or a notebook.",
            "additionalProperties": False,
            "properties": {
                "script": {"type": "string", "minLength": 1},
                "module": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_.]*$"},
                "notebook": {"type": "string", "minLength": 1},
                "args": {"type": "array", "items": {"type": "string"}},
                "parameters": {"type": "object"},
                "conf": {
                    "type": "object",
                    "propertyNames": {"pattern": r"^spark\.[A-Za-z0-9_.-]+$"},
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                "driver": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {"cores": _CORES, "memory": _MEMORY},
                },
                "executor": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "instances": {"type": "integer", "minimum": 1, "maximum": 64},
                        "cores": _CORES,
                        "memory": _MEMORY,
                    },
                },
            },
            "oneOf": [
                {"required": ["script"]},
                {"required": ["module"]},
                {"required": ["notebook"]},
            ],
        }
    },
}


def normalize(spec: dict[str, Any], given_roles: Any) -> None:
    """Fill a Spark task's defaults (in place) and make its driver the run's one role."""
    task = spec["task"]["spark"]
    if given_roles:
        raise InvalidInput(
            "Invalid experiment spec: a Spark run has no 'spec' roles; give its driver and "
            "executors under task.spark.driver and task.spark.executor."
        )
    if spec["meta"].get("framework", "none") != "none":
        raise InvalidInput("Invalid experiment spec: a Spark run has no framework.")
    if "parameters" in task and "notebook" not in task:
        raise InvalidInput("Invalid experiment spec: task.spark.parameters go with a notebook.")
    for key in task.get("conf") or {}:
        if any(key == r or (r.endswith(".") and key.startswith(r)) for r in RESERVED_CONF):
            raise InvalidInput(
                f"Invalid experiment spec: task.spark.conf {key!r} is the platform's to set "
                "(use task.spark.driver / executor for resources)."
            )
    task["conf"] = {k: _conf_value(v) for k, v in (task.get("conf") or {}).items()}
    task.setdefault("args", [])
    driver = task.setdefault("driver", {})
    driver.setdefault("cores", 1)
    driver["memory"] = parse_memory(driver.get("memory", MEMORY_DEFAULT), "driver.memory")
    executor = task.setdefault("executor", {})
    executor.setdefault("instances", 1)
    executor.setdefault("cores", 1)
    executor["memory"] = parse_memory(executor.get("memory", MEMORY_DEFAULT), "executor.memory")
    for where, body in (("driver", driver), ("executor", executor)):
        if body["memory"] < 32 * 1024**2:
            raise InvalidInput(f"Invalid experiment spec: task.spark.{where}.memory is below 32M.")
    # the driver is the run's process: its JVM's heap is driver.memory (Spark's limit) and
    # its cores count in the quota (check_quota); it is not pinned to them, as Spark does
    # not pin a client-mode driver either (a JVM held to one core starts much slower)
    spec["spec"] = {ROLE: {"replicas": 1, "resources": {"cpu": None, "gpus": 0}}}
    spec["resources"] = {"cpu": None, "memory": None, "gpus": 0}


def _conf_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def usage(task: dict[str, Any]) -> tuple[int, int]:
    """Cores and memory (bytes) a Spark run holds: its driver and all its executors."""
    d, e = task["driver"], task["executor"]
    return (
        d["cores"] + e["instances"] * e["cores"],
        d["memory"] + e["instances"] * e["memory"],
    )


def check_quota(team: str, quota: Quota, task: dict[str, Any]) -> None:
    """Each executor (and the driver) within the per-replica limits; all of them together
    within the team's totals."""
    advice = "Ask for fewer or smaller executors, or ask a hub admin to raise the quota."
    for who in ("driver", "executor"):
        body = task[who]
        if quota.max_cpu_per_session is not None and body["cores"] > quota.max_cpu_per_session:
            raise QuotaExceeded(
                f"A Spark {who} of team {team!r} may use at most {quota.max_cpu_per_session:g} "
                f"cores (max_cpu_per_session); it asks for {body['cores']}. {advice}"
            )
        limit = quota.max_memory_per_session
        if limit is not None and body["memory"] > limit:
            raise QuotaExceeded(
                f"A Spark {who} of team {team!r} may use at most {format_memory(limit)} memory "
                f"(max_memory_per_session); it asks for {format_memory(body['memory'])}. {advice}"
            )
    cores, memory = usage(task)
    if quota.max_cpu_total is not None and cores > quota.max_cpu_total:
        raise QuotaExceeded(
            f"Team {team!r} may use {quota.max_cpu_total:g} cores in all (max_cpu_total); this "
            f"Spark run's driver and {task['executor']['instances']} executor(s) ask for "
            f"{cores}. {advice}"
        )
    if quota.max_memory_total is not None and memory > quota.max_memory_total:
        raise QuotaExceeded(
            f"Team {team!r} may use {format_memory(quota.max_memory_total)} memory in all "
            f"(max_memory_total); this Spark run asks for {format_memory(memory)}. {advice}"
        )


def app_name(run_id: int) -> str:
    return f"submarine-run-{run_id}"


def spark_memory(size: int) -> str:
    """Bytes as Spark reads a size (whole mebibytes: ``512m``)."""
    return f"{max(1, size // 1024**2)}m"


def submit_options(
    task: dict[str, Any],
    *,
    master: str,
    name: str,
    event_dir: str,
    python: str,
    ui_port: int | None = None,
    proxy_base: str = "",
    extra_conf: dict[str, str] | None = None,
) -> list[str]:
    """``spark-submit``'s options for a task (without the application and its args)."""
    d, e = task["driver"], task["executor"]
    conf = {
        "spark.app.name": name,
        "spark.driver.memory": spark_memory(d["memory"]),
        "spark.driver.cores": str(d["cores"]),
        "spark.executor.instances": str(e["instances"]),
        "spark.executor.cores": str(e["cores"]),
        "spark.executor.memory": spark_memory(e["memory"]),
        "spark.cores.max": str(e["instances"] * e["cores"]),  # standalone: the executors' cores
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": event_dir if "://" in event_dir else f"file://{event_dir}",
        "spark.pyspark.python": python,
        "spark.pyspark.driver.python": python,
        **(extra_conf or {}),
        **task.get("conf", {}),
    }
    if ui_port is not None:
        conf["spark.ui.port"] = str(ui_port)
        conf["spark.port.maxRetries"] = "0"  # that port or none: the hub's link goes there
    if proxy_base:
        conf["spark.ui.proxyBase"] = proxy_base
    options = ["--master", master, "--deploy-mode", "client", "--name", name]
    for key, value in conf.items():
        options += ["--conf", f"{key}={value}"]
    return options


def driver_argv(
    task: dict[str, Any],
    options: list[str],
    *,
    spark_submit: str,
    module_runner: str,
    notebook_argv: list[str] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The driver's command line and the variables it needs. A script or module runs under
    ``spark-submit``; a notebook runs under papermill, its SparkSession started with the
    same options (``PYSPARK_SUBMIT_ARGS``)."""
    args = list(task.get("args") or [])
    if "script" in task:
        return [spark_submit, *options, task["script"], *args], {}
    if "module" in task:
        return [spark_submit, *options, module_runner, task["module"], *args], {}
    assert notebook_argv is not None
    return notebook_argv, {"PYSPARK_SUBMIT_ARGS": shlex.join([*options, "pyspark-shell"])}
