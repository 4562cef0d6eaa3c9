"""What the tests of experiments on Kubernetes share: launch plans to render, readers of
rendered manifests, a pod's command run the way Kubernetes would run it (``$(VAR)``
expansion, the Downward API's index, ``/bin/sh``) to compare the environment a replica
sees with :func:`~submarine_hub.core.experiments.distributed.replica_env`, and Job and
Pod objects in the states a cluster reports.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

from submarine_hub.backends.kube import RenderSettings
from submarine_hub.backends.kube.manifests import PodSettings
from submarine_hub.backends.kube.names import (
    ANNOTATION_FRAMEWORK,
    ANNOTATION_ROLES,
    LABEL_MANAGED_BY,
    LABEL_ROLE,
    LABEL_RUN,
    LABEL_TEAM,
    LABEL_USER,
    label_value,
)
from submarine_hub.backends.kube.replicas import COMPLETION_INDEX, KUBEFLOW_INDEX
from submarine_hub.core.experiments.backend import LaunchPlan, ReplicaPlan
from submarine_hub.core.experiments.distributed import replica_env, slots
from submarine_hub.core.resources import Resources

from .kube import KUBEFLOW_SCHEMAS

IMAGE = "python:3.12-slim"
NAMESPACE = "runs"

# --- building plans ------------------------------------------------------------------


def make_plan(
    roles: dict[str, int] | None = None,
    *,
    framework: str = "none",
    run_id: int = 7,
    name: str = "train",
    team: str = "data-science",
    owner: str = "alice",
    argv: list[str] | None = None,
    resources: Resources | None = None,
    env: dict[str, str] | None = None,
    replica_vars: Callable[[str, int], dict[str, str]] | None = None,
    **kwargs: Any,
) -> LaunchPlan:
    roles = roles or {"main": 1}
    replicas = [
        ReplicaPlan(
            role=s.role,
            index=s.index,
            rank=s.rank,
            argv=list(argv or ["python", "train.py", "--epochs", "3"]),
            resources=resources or Resources(cpu=2, memory=4 * 1024**3),
            env=replica_vars(s.role, s.index) if replica_vars else {},
        )
        for s in slots(roles)
    ]
    kwargs.setdefault("image", IMAGE)
    return LaunchPlan(
        run_id=run_id,
        name=name,
        team=team,
        owner=owner,
        framework=framework,
        roles=roles,
        replicas=replicas,
        env=env if env is not None else {"SUBMARINE_EXPERIMENT_ID": str(run_id)},
        **kwargs,
    )


POD_SETTINGS = set(PodSettings.__dataclass_fields__)


def settings(**kwargs: Any) -> RenderSettings:
    kwargs.setdefault("namespace", NAMESPACE)
    pod = {k: kwargs.pop(k) for k in list(kwargs) if k in POD_SETTINGS}
    return RenderSettings(pod=PodSettings(**pod), **kwargs)


# --- reading manifests ------------------------------------------------------------


def of_kind(manifests: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [m for m in manifests if m["kind"] == kind]


def templates(manifest: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Pod templates of a Job or Kubeflow job, by role."""
    if manifest["kind"] == "Job":
        template = manifest["spec"]["template"]
        return {template["metadata"]["labels"][LABEL_ROLE]: template}
    specs_field = KUBEFLOW_SCHEMAS[manifest["kind"]][1]
    out = {}
    for spec in manifest["spec"][specs_field].values():
        out[spec["template"]["metadata"]["labels"][LABEL_ROLE]] = spec["template"]
    return out


def main_container(template: dict[str, Any]) -> dict[str, Any]:
    return template["spec"]["containers"][0]


# --- running a pod's command as Kubernetes would -------------------------------------


def kube_expand(value: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` expansion of command, args and env values."""
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "$" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2 : end]
                    out.append(env.get(name, f"$({name})"))
                    i = end + 1
                    continue
                out.append("$(")
                i += 2
                continue
            out.append("$" + nxt)
            i += 2
            continue
        out.append(value[i])
        i += 1
    return "".join(out)


DUMP_ENV = "import json, os, sys; json.dump(dict(os.environ), sys.stdout)"


def run_container(
    container: dict[str, Any],
    secrets: dict[str, dict[str, Any]],
    index: int,
    appended: list[dict[str, str]] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Start the container's command here, the real program replaced by an env dump.

    The environment is built as the kubelet builds it: ``envFrom`` Secrets, then ``env``
    in order (``$(VAR)`` expanded, the Downward API index), then what a Training
    Operator appends; the last definition of a name wins.
    """
    env: dict[str, str] = {"PATH": os.environ["PATH"]}
    for source in container.get("envFrom", []):
        data = secrets[source["secretRef"]["name"]]["data"]
        env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
    for item in [*container.get("env", []), *(appended or [])]:
        if "valueFrom" in item:
            path = item["valueFrom"]["fieldRef"]["fieldPath"]
            assert path in (
                f"metadata.annotations['{COMPLETION_INDEX}']",
                f"metadata.labels['{KUBEFLOW_INDEX}']",
            )
            env[item["name"]] = str(index)
        else:
            env[item["name"]] = kube_expand(item["value"], env)
    command = [kube_expand(a, env) for a in container.get("command", [])]
    if command[:2] == ["/bin/sh", "-c"]:
        argv = [*command[:4], sys.executable, "-c", DUMP_ENV]
    else:
        argv = [sys.executable, "-c", DUMP_ENV]
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=False)


def seen_env(
    container: dict[str, Any],
    secrets: dict[str, dict[str, Any]],
    index: int,
    appended: list[dict[str, str]] | None = None,
) -> dict[str, str]:
    result = run_container(container, secrets, index, appended)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def check_replica_envs(
    plan: LaunchPlan,
    manifests: list[dict[str, Any]],
    address: Callable[[str, int], tuple[str, int]],
    appended: Callable[[str, int], list[dict[str, str]]] | None = None,
) -> dict[str, dict[str, str]]:
    """Every replica sees plan.env, its own env and replica_env for ``address``."""
    secrets = {m["metadata"]["name"]: m for m in of_kind(manifests, "Secret")}
    by_role: dict[str, dict[str, Any]] = {}
    for m in manifests:
        if m["kind"] in ("Job", "PyTorchJob", "TFJob"):
            by_role.update(templates(m))
    seen: dict[str, dict[str, str]] = {}
    for slot in slots(plan.roles):
        replica = next(r for r in plan.replicas if (r.role, r.index) == (slot.role, slot.index))
        expected = {
            **plan.env,
            **replica.env,
            **replica_env(plan.framework, plan.roles, slot, address),
        }
        container = main_container(by_role[slot.role])
        extra = appended(slot.role, slot.index) if appended else None
        env = seen_env(container, secrets, slot.index, extra)
        assert {k: env.get(k) for k in expected} == expected, slot.name
        seen[slot.name] = env
    return seen


def check_labels(plan: LaunchPlan, manifests: list[dict[str, Any]]) -> None:
    """Every object and pod template carries the run's labels; pods their role too."""
    for m in manifests:
        labels = m["metadata"]["labels"]
        assert labels[LABEL_MANAGED_BY] == "submarine-hub"
        assert labels[LABEL_TEAM] == label_value(plan.team)
        if m["kind"] == "Namespace":
            continue
        assert labels[LABEL_RUN] == str(plan.run_id)
        assert labels[LABEL_USER] == label_value(plan.owner)
        assert m["metadata"]["name"].startswith(f"sub-{plan.run_id}")
        assert m["metadata"]["namespace"]
        for key, value in plan.labels.items():
            assert labels[key] == value
        if m["kind"] in ("Job", "PyTorchJob", "TFJob"):
            for role, template in templates(m).items():
                pod_labels = template["metadata"]["labels"]
                assert pod_labels[LABEL_ROLE] == role
                assert {k: v for k, v in pod_labels.items() if k != LABEL_ROLE} == {
                    k: v for k, v in labels.items() if k != LABEL_ROLE
                }


# --- states from objects -------------------------------------------------------------

T0 = "2024-06-01T10:00:00Z"
T1 = "2024-06-01T10:05:00Z"
T1_EPOCH = 1717236300.0


def job_obj(
    status: dict[str, Any] | None = None,
    *,
    role: str = "main",
    roles: dict[str, int] | None = None,
    framework: str = "none",
    annotations: dict[str, str] | None = None,
    kind: str = "Job",
    **meta: Any,
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metadata": {
            "name": f"sub-7-train-{role}",
            "namespace": NAMESPACE,
            "labels": {LABEL_RUN: "7", LABEL_ROLE: role},
            "annotations": {
                ANNOTATION_ROLES: json.dumps(roles or {role: 1}),
                ANNOTATION_FRAMEWORK: framework,
                **(annotations or {}),
            },
            **meta,
        },
        "status": status or {},
    }


def pod_obj(
    role: str = "main",
    index: int = 0,
    phase: str = "Running",
    *,
    exit_code: int | None = None,
    reason: str | None = None,
    waiting: dict[str, str] | None = None,
    init: dict[str, Any] | None = None,
    created: str = T0,
) -> dict[str, Any]:
    state: dict[str, Any] = {"running": {}}
    if exit_code is not None:
        state = {"terminated": {"exitCode": exit_code, "reason": reason or "Error"}}
    if waiting is not None:
        state = {"waiting": waiting}
    status: dict[str, Any] = {
        "phase": phase,
        "containerStatuses": [{"name": "main", "state": state}],
    }
    if init is not None:
        status["initContainerStatuses"] = [{"name": "git-clone", "state": init}]
    return {
        "kind": "Pod",
        "metadata": {
            "name": f"sub-7-train-{role}-{index}-abcde",
            "namespace": NAMESPACE,
            "labels": {LABEL_RUN: "7", LABEL_ROLE: role},
            "annotations": {COMPLETION_INDEX: str(index)},
            "creationTimestamp": created,
        },
        "spec": {"containers": [{"name": "main", "image": IMAGE}]},
        "status": status,
    }


def condition(kind: str, reason: str = "", message: str = "", at: str = T1) -> dict[str, Any]:
    return {
        "type": kind,
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": at,
    }
