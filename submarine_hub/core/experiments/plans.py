"""From a stored run to a :class:`LaunchPlan`: commands, environment, credentials, inputs."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from ...store.models import Experiment
from ..mlflow_compat import env as mlflow_env
from ..resources import Resources
from . import spark, sql
from .backend import LaunchPlan, ReplicaPlan
from .distributed import Address, replica_env, slots

EXECUTED_NOTEBOOK = "executed.ipynb"


def task_argv(spec: dict[str, Any]) -> list[str]:
    task = spec["task"]
    if "command" in task:
        return list(task["command"])
    if "script" in task:
        return ["python", task["script"], *task.get("args", [])]
    if "notebook" in task:
        return _papermill(task)
    if "sql" in task and task["sql"]["engine"] != "spark":
        return sql.runner_argv()
    if sql.spark_task(spec) is not None:
        return ["spark-submit"]  # the backend gives the whole command (LaunchPlan.spark)
    raise ValueError(f"task {sorted(task)} cannot be run directly")


def _papermill(task: dict[str, Any]) -> list[str]:
    params = json.dumps(task.get("parameters") or {})
    return [
        "python", "-m", "papermill", "--log-output", "--no-progress-bar",
        task["notebook"], f"$SUBMARINE_ARTIFACTS_DIR/{EXECUTED_NOTEBOOK}", "-y", params,
    ]  # fmt: skip


def _spark(row: Experiment, api_url: str, artifacts_dir: str) -> dict[str, Any] | None:
    application = sql.spark_task(row.spec)
    if application is None:
        return None
    out: dict[str, Any] = {
        "task": application,
        "name": spark.app_name(row.id),
        "proxy_base": urlparse(api_url).path.rstrip("/") + f"/experiments/{row.id}/spark/ui",
    }
    if "notebook" in application:
        out["notebook_argv"] = [_expand(a, artifacts_dir) for a in _papermill(application)]
    return out


def env_name(name: str) -> str:
    return name.upper()


def build_plan(
    row: Experiment,
    *,
    api_url: str,
    token: str,
    credential_env: dict[str, str],
    credential_files: list[dict[str, Any]],
    inputs_from: Callable[[str], str],
    artifacts_dir: str,
    address: Address | None = None,
    python_prefix: str = "",
    gpu_ids: list[int] | None = None,
) -> LaunchPlan:
    """``address(role, index)`` gives each replica's host and port (backends that know
    them before the start, like the local one); ``inputs_from("step.output")`` the
    location of an upstream pipeline step's output."""
    spec = row.spec
    roles = {role: body["replicas"] for role, body in spec["spec"].items()}
    framework = spec["meta"].get("framework", "none")
    base_argv = task_argv(spec)
    replicas = []
    for slot in slots(roles):
        body = spec["spec"][slot.role]
        argv = [_expand(a, artifacts_dir) for a in body.get("command") or base_argv]
        own = replica_env(framework, roles, slot, address) if address else {}
        replicas.append(
            ReplicaPlan(
                role=slot.role,
                index=slot.index,
                rank=slot.rank,
                argv=argv,
                resources=Resources.parse(body.get("resources") or spec["resources"]),
                env=own,
            )
        )
    env = {
        "PYTHONUNBUFFERED": "1",
        "SUBMARINE_RUN_ID": str(row.id),
        "SUBMARINE_RUN_NAME": row.name,
        "SUBMARINE_TEAM": row.team,
        "SUBMARINE_USER": row.owner,
        "SUBMARINE_API_URL": api_url,
        "SUBMARINE_TOKEN": token,
        **mlflow_env.run_env(api_url, row.team, token, row.id),
        **credential_env,
        **spec["env"],
    }
    if "sql" in spec["task"]:
        env[sql.TASK_ENV] = sql.task_json(spec)
    for item in spec["inputs"]:
        env[f"SUBMARINE_INPUT_{env_name(item['name'])}"] = (
            inputs_from(item["from"]) if "from" in item else item["uri"]  # datasets: resolved
        )
    for item in spec["outputs"]:
        env[f"SUBMARINE_OUTPUT_{env_name(item['name'])}"] = f"{artifacts_dir}/{item['path']}"
    return LaunchPlan(
        run_id=row.id,
        name=row.name,
        team=row.team,
        owner=row.owner,
        framework=framework,
        roles=roles,
        replicas=replicas,
        env=env,
        credential_files=credential_files,
        code=spec.get("code"),
        image=spec["environment"].get("image", ""),
        python_prefix=python_prefix,
        timeout=spec.get("timeout"),
        gpu_ids=gpu_ids or [],
        labels={"submarine-hub/experiment": row.name[:63]},
        notebook=_notebook(spec, artifacts_dir),
        spark=_spark(row, api_url, artifacts_dir),
    )


def _notebook(spec: dict[str, Any], artifacts_dir: str) -> dict[str, Any] | None:
    """What a backend with warm kernels needs to run a one-replica notebook task itself."""
    task = spec["task"]
    roles = spec["spec"]
    single = sum(r["replicas"] for r in roles.values()) == 1
    if "notebook" not in task or not single or any("command" in r for r in roles.values()):
        return None
    return {
        "input": task["notebook"],
        "output": f"{artifacts_dir}/{EXECUTED_NOTEBOOK}",
        "parameters": task.get("parameters") or {},
    }


def _expand(arg: str, artifacts_dir: str) -> str:
    return arg.replace("$SUBMARINE_ARTIFACTS_DIR", artifacts_dir)
