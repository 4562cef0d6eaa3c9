"""Experiments on Kubernetes: manifests, states, the backend against a stand-in API.

Every manifest rendered is validated against the Kubernetes 1.30 schemas
(``kubernetes-validate``, strict: unknown fields fail). ``PyTorchJob`` and ``TFJob``
are CRDs it does not know: their pod templates are validated as core/v1
``PodTemplateSpec`` and the job itself against a JSON Schema of the Kubeflow v1 shape
written here (plus the operator's admission checks). The replicas' environment is
checked by running each pod's command the way Kubernetes would (``$(VAR)`` expansion,
Downward API index, ``/bin/sh``) and comparing what the program sees with
``distributed.replica_env`` for the replicas' DNS names. Only
``test_a_run_on_a_real_cluster`` talks to a cluster, when KUBECONFIG is set.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets import TraitError
from traitlets.config import Config

from submarine_hub.backends.kube import KubeExperimentBackend, RenderSettings, render, run_state
from submarine_hub.backends.kube.manifests import PodSettings
from submarine_hub.backends.kube.names import (
    ANNOTATION_FRAMEWORK,
    ANNOTATION_KILLED,
    ANNOTATION_NAME,
    ANNOTATION_ROLES,
    LABEL_INSTANCE,
    LABEL_MANAGED_BY,
    LABEL_ROLE,
    LABEL_RUN,
    LABEL_TEAM,
    LABEL_USER,
    is_dns_label,
    label_value,
    selector,
    team_slug,
)
from submarine_hub.backends.kube.replicas import (
    COMPLETION_INDEX,
    KUBEFLOW_INDEX,
    PRELUDE_BAD_INDEX,
)
from submarine_hub.backends.kube.runs import GIT_CLONE_SCRIPT
from submarine_hub.core.errors import Conflict, Forbidden, InvalidInput, Unavailable
from submarine_hub.core.experiments.backend import (
    FAILED,
    KILLED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    LaunchPlan,
    ReplicaPlan,
)
from submarine_hub.core.experiments.distributed import replica_env, slots
from submarine_hub.core.resources import Resources

from .helpers.kube import (
    KUBEFLOW_SCHEMAS,
    FakeCluster,
    api_exception,
    rest_app,
    wait_for,
)
from .helpers.kube import validate as validate_all

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


# --- rendering: one replica ----------------------------------------------------------


def test_single_replica_run_is_a_job() -> None:
    plan = make_plan(timeout=90.5, labels={"example.com/cost-center": "research"})
    manifests = validate_all(render(plan, settings(ttl_seconds_after_finished=600)))
    check_labels(plan, manifests)
    assert [m["kind"] for m in manifests] == ["Secret", "Job"]
    job = manifests[-1]
    assert job["apiVersion"] == "batch/v1"
    assert job["metadata"]["name"] == "sub-7-train"
    assert job["metadata"]["namespace"] == NAMESPACE
    spec = job["spec"]
    assert spec["backoffLimit"] == 0
    assert spec["activeDeadlineSeconds"] == 91
    assert spec["ttlSecondsAfterFinished"] == 600
    assert "completionMode" not in spec
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert "subdomain" not in pod
    container = main_container(spec["template"])
    assert container["image"] == IMAGE
    assert container["command"] == ["python", "train.py", "--epochs", "3"]
    assert container["resources"] == {
        "limits": {"cpu": "2", "memory": str(4 * 1024**3)},
        "requests": {"cpu": "2", "memory": str(4 * 1024**3)},
    }
    assert pod["volumes"] == [{"name": "artifacts", "emptyDir": {}}]
    assert container["volumeMounts"] == [{"name": "artifacts", "mountPath": "/submarine/artifacts"}]
    env = check_replica_envs(plan, manifests, lambda role, i: ("127.0.0.1", 0))
    assert env["main-0"]["SUBMARINE_ARTIFACTS_DIR"] == "/submarine/artifacts"
    assert env["main-0"]["SUBMARINE_ROLE"] == "main"
    assert env["main-0"]["SUBMARINE_EXPERIMENT_ID"] == "7"


def test_single_replica_without_timeout_ttl_or_env() -> None:
    plan = make_plan(env={}, resources=Resources())
    manifests = validate_all(render(plan, settings(ttl_seconds_after_finished=None)))
    assert [m["kind"] for m in manifests] == ["Job"]
    spec = manifests[0]["spec"]
    assert "activeDeadlineSeconds" not in spec and "ttlSecondsAfterFinished" not in spec
    container = main_container(spec["template"])
    assert "resources" not in container and "envFrom" not in container


def test_a_single_pytorch_replica_talks_to_itself() -> None:
    plan = make_plan({"master": 1}, framework="pytorch")
    manifests = validate_all(render(plan, settings(training_operator=frozenset({"pytorch"}))))
    assert [m["kind"] for m in manifests] == ["Secret", "Job"]  # no operator for one replica
    env = check_replica_envs(plan, manifests, lambda role, i: ("127.0.0.1", 23456))
    assert env["master-0"]["MASTER_ADDR"] == "127.0.0.1"


# --- rendering: distributed, indexed Jobs --------------------------------------------


def indexed_address(manifests: list[dict[str, Any]]) -> Callable[[str, int], tuple[str, int]]:
    """Replicas' DNS names as Kubernetes gives them: <job>-<index>.<subdomain>."""
    [service] = of_kind(manifests, "Service")
    assert service["spec"]["clusterIP"] == "None"
    assert service["spec"]["publishNotReadyAddresses"] is True
    jobs = {}
    for job in of_kind(manifests, "Job"):
        [(role, template)] = templates(job).items()
        assert template["spec"]["subdomain"] == service["metadata"]["name"]
        # the headless Service selects every pod of the run
        assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
        jobs[role] = job
    port = (service["spec"].get("ports") or [{"port": 0}])[0]["port"]

    def address(role: str, index: int) -> tuple[str, int]:
        job = jobs[role]
        host = f"{job['metadata']['name']}-{index}"
        assert is_dns_label(host)  # the pod's hostname
        return f"{host}.{job['spec']['template']['spec']['subdomain']}", port

    return address


def test_pytorch_without_the_training_operator() -> None:
    plan = make_plan({"master": 1, "worker": 3}, framework="pytorch")
    manifests = validate_all(render(plan, settings()))
    check_labels(plan, manifests)
    assert [m["kind"] for m in manifests] == ["Secret", "Service", "Job", "Job"]
    jobs = {templates(j).popitem()[0]: j for j in of_kind(manifests, "Job")}
    for role, replicas in plan.roles.items():
        spec = jobs[role]["spec"]
        assert spec["completionMode"] == "Indexed"
        assert spec["completions"] == spec["parallelism"] == replicas
        assert spec["backoffLimit"] == 0
        assert jobs[role]["metadata"]["labels"][LABEL_ROLE] == role
    assert jobs["worker"]["metadata"]["name"] == "sub-7-train-worker"
    env = check_replica_envs(plan, manifests, indexed_address(manifests))
    assert env["worker-2"]["MASTER_ADDR"] == "sub-7-train-master-0.sub-7-train"
    assert env["worker-2"]["RANK"] == env["worker-2"]["PET_NODE_RANK"] == "3"
    assert env["worker-0"]["WORLD_SIZE"] == "4"
    # a single-replica role needs no prelude; the workers' differs by index
    assert main_container(templates(jobs["master"])["master"])["command"][0] == "python"
    assert main_container(templates(jobs["worker"])["worker"])["command"][:2] == ["/bin/sh", "-c"]


def test_pytorch_workers_only() -> None:
    plan = make_plan({"worker": 2}, framework="pytorch")
    manifests = validate_all(render(plan, settings()))
    env = check_replica_envs(plan, manifests, indexed_address(manifests))
    assert env["worker-1"]["MASTER_ADDR"] == "sub-7-train-worker-0.sub-7-train"


def test_tensorflow_without_the_training_operator() -> None:
    roles = {"chief": 1, "ps": 2, "worker": 3, "evaluator": 1}
    plan = make_plan(roles, framework="tensorflow")
    manifests = validate_all(render(plan, settings(tensorflow_port=2223)))
    check_labels(plan, manifests)
    assert [m["kind"] for m in manifests] == ["Secret", "Service", *["Job"] * 4]
    env = check_replica_envs(plan, manifests, indexed_address(manifests))
    config = json.loads(env["worker-1"]["TF_CONFIG"])
    assert config["task"] == {"type": "worker", "index": 1}
    assert config["cluster"]["ps"] == [
        "sub-7-train-ps-0.sub-7-train:2223",
        "sub-7-train-ps-1.sub-7-train:2223",
    ]
    assert "evaluator" not in config["cluster"]
    assert json.loads(env["evaluator-0"]["TF_CONFIG"])["task"]["type"] == "evaluator"


def test_distributed_run_without_framework_and_own_replica_variables() -> None:
    plan = make_plan(
        {"loader": 2, "trainer": 2},
        replica_vars=lambda role, i: {"SHARD": f"{role}/{i}", "COST": "$(not-expanded)"},
    )
    manifests = validate_all(render(plan, settings()))
    assert "ports" not in of_kind(manifests, "Service")[0]["spec"]
    env = check_replica_envs(plan, manifests, indexed_address(manifests))
    assert env["trainer-1"]["SHARD"] == "trainer/1"
    assert env["trainer-1"]["SUBMARINE_RANK"] == "3"
    assert env["loader-0"]["COST"] == "$(not-expanded)"


def test_the_prelude_refuses_an_index_not_of_its_role() -> None:
    plan = make_plan({"worker": 2}, framework="pytorch")
    manifests = render(plan, settings())
    container = main_container(templates(of_kind(manifests, "Job")[0])["worker"])
    secrets = {m["metadata"]["name"]: m for m in of_kind(manifests, "Secret")}
    result = run_container(container, secrets, index=5)
    assert result.returncode == PRELUDE_BAD_INDEX
    assert "is not a replica of role worker" in result.stderr


# --- rendering: distributed, Kubeflow's Training Operator ----------------------------


def operator_address(job: dict[str, Any], port_name: str) -> Callable[[str, int], tuple[str, int]]:
    """Replicas' names as the Training Operator gives them: a Service <job>-<type>-<index>."""
    ports = {}
    for role, template in templates(job).items():
        [port] = [p for p in main_container(template)["ports"] if p["name"] == port_name]
        ports[role] = port["containerPort"]

    def address(role: str, index: int) -> tuple[str, int]:
        return f"{job['metadata']['name']}-{role}-{index}", ports[role]

    return address


def test_pytorch_with_the_training_operator() -> None:
    plan = make_plan(
        {"master": 1, "worker": 2},
        framework="pytorch",
        timeout=3600,
        env={"PYTHONUNBUFFERED": "1", "SUBMARINE_TOKEN": "t"},
    )
    manifests = validate_all(render(plan, settings(training_operator=frozenset({"pytorch"}))))
    check_labels(plan, manifests)
    assert [m["kind"] for m in manifests] == ["Secret", "PyTorchJob"]
    job = manifests[-1]
    policy = job["spec"]["runPolicy"]
    assert policy == {
        "backoffLimit": 0,
        "cleanPodPolicy": "Running",
        "activeDeadlineSeconds": 3600,
        "ttlSecondsAfterFinished": 86400,
    }
    specs = job["spec"]["pytorchReplicaSpecs"]
    assert {t: s["replicas"] for t, s in specs.items()} == {"Master": 1, "Worker": 2}
    assert all(s["restartPolicy"] == "Never" for s in specs.values())
    assert main_container(specs["Master"]["template"])["name"] == "pytorch"

    def operator_env(role: str, index: int) -> list[dict[str, str]]:
        # what the operator appends to the container's variables
        rank = index + (1 if role == "worker" else 0)
        return [
            {"name": "PYTHONUNBUFFERED", "value": "0"},
            {"name": "MASTER_ADDR", "value": "sub-7-train-master-0"},
            {"name": "MASTER_PORT", "value": "23456"},
            {"name": "WORLD_SIZE", "value": "3"},
            {"name": "RANK", "value": str(rank)},
        ]

    env = check_replica_envs(
        plan, manifests, operator_address(job, "pytorchjob-port"), appended=operator_env
    )
    assert env["worker-1"]["MASTER_ADDR"] == "sub-7-train-master-0"
    assert env["worker-1"]["RANK"] == "2"
    assert env["worker-1"]["PYTHONUNBUFFERED"] == "1"  # the plan's, not the operator's "0"


def test_tensorflow_with_the_training_operator() -> None:
    roles = {"chief": 1, "ps": 1, "worker": 2, "evaluator": 1}
    plan = make_plan(roles, framework="tensorflow")
    manifests = validate_all(
        render(plan, settings(training_operator=frozenset({"pytorch", "tensorflow"})))
    )
    check_labels(plan, manifests)
    assert [m["kind"] for m in manifests] == ["Secret", "TFJob"]
    job = manifests[-1]
    specs = job["spec"]["tfReplicaSpecs"]
    assert sorted(specs) == ["Chief", "Evaluator", "PS", "Worker"]
    assert main_container(specs["Worker"]["template"])["name"] == "tensorflow"

    def operator_env(role: str, index: int) -> list[dict[str, str]]:
        config = {
            "cluster": {"worker": ["elsewhere:1"]},
            "task": {"type": role, "index": index},
            "environment": "cloud",
        }
        return [{"name": "TF_CONFIG", "value": json.dumps(config)}]

    env = check_replica_envs(
        plan, manifests, operator_address(job, "tfjob-port"), appended=operator_env
    )
    config = json.loads(env["chief-0"]["TF_CONFIG"])
    assert config["cluster"]["worker"] == ["sub-7-train-worker-0:2222", "sub-7-train-worker-1:2222"]
    assert "environment" not in config


def test_operator_for_one_framework_only() -> None:
    tf = make_plan({"chief": 1, "worker": 2}, framework="tensorflow")
    manifests = validate_all(render(tf, settings(training_operator=frozenset({"pytorch"}))))
    assert [m["kind"] for m in manifests] == ["Secret", "Service", "Job", "Job"]


# --- rendering: resources, credentials, code, namespaces -----------------------------


def test_gpus_are_an_extended_resource() -> None:
    plan = make_plan(resources=Resources(cpu=0.5, memory=512 * 1024**2, gpus=2))
    job = validate_all(render(plan, settings()))[-1]
    resources = main_container(job["spec"]["template"])["resources"]
    assert resources["limits"] == {
        "cpu": "500m",
        "memory": str(512 * 1024**2),
        "nvidia.com/gpu": "2",
    }
    assert resources["requests"] == resources["limits"]

    amd = validate_all(render(plan, settings(gpu_resource_name="amd.com/gpu")))[-1]
    assert main_container(amd["spec"]["template"])["resources"]["limits"]["amd.com/gpu"] == "2"


def test_pod_settings_pass_through() -> None:
    toleration = {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    s = settings(
        service_account="trainer",
        image_pull_policy="Always",
        image_pull_secrets=("registry",),
        node_selector={"pool": "gpu"},
        tolerations=(toleration,),
        fs_group=100,
    )
    job = validate_all(render(make_plan(), s))[-1]
    pod = job["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "trainer"
    assert pod["automountServiceAccountToken"] is True
    assert pod["imagePullSecrets"] == [{"name": "registry"}]
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"] == [toleration]
    assert pod["securityContext"] == {"fsGroup": 100}
    assert pod["containers"][0]["imagePullPolicy"] == "Always"


def test_credentials_are_secrets_never_inline() -> None:
    token = "s3cr3t-token-value"
    keytab = b"\x05\x02binary keytab"
    plan = make_plan(
        {"worker": 2},
        env={"AWS_SECRET_ACCESS_KEY": token, "SUBMARINE_TOKEN": "hub-token"},
        credential_files=[
            {
                "path": "kerberos/alice.keytab",
                "content_base64": base64.b64encode(keytab).decode(),
                "mode": 0o400,
            },
            {"path": "gcp.json", "content": b"{}", "mode": 0o440},
        ],
    )
    manifests = validate_all(render(plan, settings(credentials_mount_path="/secrets")))
    check_labels(plan, manifests)
    secrets = {m["metadata"]["name"]: m for m in of_kind(manifests, "Secret")}
    assert sorted(secrets) == ["sub-7-train-env", "sub-7-train-files"]
    assert base64.b64decode(secrets["sub-7-train-env"]["data"]["AWS_SECRET_ACCESS_KEY"]) == (
        token.encode()
    )
    files = secrets["sub-7-train-files"]["data"]
    assert base64.b64decode(files["kerberos_alice.keytab"]) == keytab
    for m in manifests:
        if m["kind"] != "Secret":
            assert token not in json.dumps(m) and "hub-token" not in json.dumps(m)
    [job] = of_kind(manifests, "Job")
    template = job["spec"]["template"]
    container = main_container(template)
    assert container["envFrom"] == [{"secretRef": {"name": "sub-7-train-env"}}]
    [volume] = [v for v in template["spec"]["volumes"] if "secret" in v]
    assert volume["secret"]["secretName"] == "sub-7-train-files"
    assert volume["secret"]["items"] == [
        {"key": "kerberos_alice.keytab", "path": "kerberos/alice.keytab", "mode": 0o400},
        {"key": "gcp.json", "path": "gcp.json", "mode": 0o440},
    ]
    assert {"name": "credentials", "mountPath": "/secrets", "readOnly": True} in (
        container["volumeMounts"]
    )
    env = check_replica_envs(plan, manifests, indexed_address(manifests))
    assert env["worker-1"]["SUBMARINE_CREDENTIALS_DIR"] == "/secrets"
    assert env["worker-1"]["AWS_SECRET_ACCESS_KEY"] == token


def test_git_code_is_cloned_by_an_init_container() -> None:
    plan = make_plan(
        {"worker": 2},
        code={"git": {"url": "https://example.com/team/repo.git", "ref": "v1.2"}},
        resources=Resources(cpu=1, memory=1024**3, gpus=1),
    )
    manifests = validate_all(render(plan, settings(working_dir="/code", git_image="git:1")))
    [job] = of_kind(manifests, "Job")
    pod = job["spec"]["template"]["spec"]
    [init] = pod["initContainers"]
    assert init["image"] == "git:1"
    assert init["command"][-2:] == ["https://example.com/team/repo.git", "v1.2"]
    assert init["volumeMounts"] == [{"name": "code", "mountPath": "/code"}]
    assert init["resources"]["limits"] == {"cpu": "1", "memory": str(1024**3)}  # no GPU
    assert {"name": "code", "emptyDir": {}} in pod["volumes"]
    container = pod["containers"][0]
    assert container["workingDir"] == "/code"
    assert {"name": "code", "mountPath": "/code"} in container["volumeMounts"]


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.mark.parametrize("ref", ["", "v1", "main", "first-commit"])
def test_the_clone_script_checks_out_the_ref(tmp_path: Path, ref: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text("print('v1')\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "v1")
    _git(repo, "tag", "v1")
    first = _git(repo, "rev-parse", "HEAD")
    (repo / "train.py").write_text("print('v2')\n")
    _git(repo, "commit", "-q", "-am", "v2")
    if ref == "first-commit":
        ref = first
    plan = make_plan(code={"git": {"url": f"file://{repo}", "ref": ref}} if ref else None)
    if not ref:
        plan = make_plan(code={"git": {"url": f"file://{repo}"}})
    [job] = of_kind(render(plan, settings()), "Job")
    [init] = job["spec"]["template"]["spec"]["initContainers"]
    work = tmp_path / "work"
    work.mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "GIT_CONFIG_GLOBAL": "/dev/null"}
    command = [kube_expand(a, {}) for a in init["command"]]
    assert command[2] == GIT_CLONE_SCRIPT
    result = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = "print('v1')\n" if ref in ("v1", first) else "print('v2')\n"
    assert (work / "train.py").read_text() == expected
    assert "code: file://" in result.stdout


def test_team_namespaces() -> None:
    plan = make_plan({"worker": 2}, team="Data_Science.Team", framework="pytorch")
    s = settings(namespace_template="submarine-{team}")
    manifests = validate_all(render(plan, s))
    check_labels(plan, manifests)
    namespace = manifests[0]
    assert namespace["kind"] == "Namespace"
    slug = team_slug("Data_Science.Team")
    assert slug.startswith("data-science-team---")  # as submarine-kube sessions have it
    assert namespace["metadata"]["name"] == f"submarine-{slug}"
    assert all(m["metadata"]["namespace"] == f"submarine-{slug}" for m in manifests[1:])
    assert team_slug("data-science") == "data-science"

    with pytest.raises(InvalidInput, match="ASCII letter or digit"):
        render(make_plan(team="数据"), s)
    with pytest.raises(InvalidInput, match="not a valid Kubernetes namespace"):
        render(make_plan(team="t" * 40), settings(namespace_template="x" * 30 + "-{team}"))


# --- rendering: bad input ------------------------------------------------------------


def test_names_are_sanitized() -> None:
    plan = make_plan({"worker": 2}, name="My Run!! (v2) -- ÉTÉ_2024.final")
    manifests = validate_all(render(plan, settings()))
    assert manifests[-1]["metadata"]["name"] == "sub-7-my-run-v2-t-2024-final-worker"
    assert manifests[-1]["metadata"]["annotations"][ANNOTATION_NAME] == plan.name
    only_symbols = validate_all(render(make_plan(name="___"), settings()))
    assert only_symbols[-1]["metadata"]["name"] == "sub-7"


@pytest.mark.parametrize(
    ("roles", "framework", "operator"),
    [
        ({"main": 1}, "none", False),
        ({"chief": 1, "ps": 2, "worker": 64, "evaluator": 1}, "tensorflow", False),
        ({"chief": 1, "ps": 2, "worker": 64, "evaluator": 1}, "tensorflow", True),
        ({"a" * 31: 2, "b" * 31: 2}, "none", False),
    ],
)
def test_over_long_names_are_shortened(
    roles: dict[str, int], framework: str, operator: bool
) -> None:
    plan = make_plan(roles, framework=framework, name="x" * 100, run_id=123456789)
    s = settings(training_operator=frozenset({"tensorflow"}) if operator else frozenset())
    manifests = validate_all(render(plan, s))
    for m in manifests:
        name = m["metadata"]["name"]
        assert name.startswith("sub-123456789"), name
        if m["kind"] in ("Job", "Service", "PyTorchJob", "TFJob"):
            assert is_dns_label(name)
    if not operator and 1 < len(plan.replicas) <= 8:
        check_replica_envs(plan, manifests, indexed_address(manifests))


def test_missing_image_is_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match=r"No container image.*default_image"):
        render(make_plan(image=""), settings())
    job = render(make_plan(image=""), settings(default_image="busybox:1.36"))[-1]
    assert main_container(job["spec"]["template"])["image"] == "busybox:1.36"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"code": {"upload": "/srv/uploads/abc.tar"}}, "Uploaded code cannot run on Kubernetes"),
        ({"code": {"git": {"url": "--upload-pack=evil"}}}, "must not start with '-'"),
        ({"code": {"git": {"url": "https://x/r.git", "ref": "-x"}}}, "must not start with '-'"),
        ({"env": {"1BAD": "x"}}, "not valid in a Kubernetes container"),
        ({"credential_files": [{"path": "../x", "content": b"x"}]}, "plain relative path"),
        (
            {"credential_files": [{"path": "a", "content": b"1"}, {"path": "a", "content": b"2"}]},
            "given twice",
        ),
        ({"credential_files": [{"path": "big", "content": b"x" * (1024**2 + 1)}]}, "1 MiB"),
        ({"labels": {"not a key!": "x"}}, "not a valid Kubernetes label key"),
        ({"resources": Resources(cpu=0)}, "CPU must be positive"),
    ],
)
def test_bad_plans_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        render(make_plan(**change), settings())


def test_label_values_are_escaped() -> None:
    plan = make_plan(owner="Alice@Example.com", labels={"example.com/x": "a b"})
    manifests = validate_all(render(plan, settings()))
    labels = manifests[-1]["metadata"]["labels"]
    assert labels[LABEL_USER] == label_value("Alice@Example.com") != "Alice@Example.com"
    assert labels["example.com/x"] == label_value("a b")


# --- the backend's configuration -----------------------------------------------------


def test_backend_is_configured_with_traitlets() -> None:
    c = Config()
    c.KubeExperimentBackend.namespace = "ml"
    c.KubeExperimentBackend.default_image = "python:3.12"
    c.KubeExperimentBackend.service_account = "runner"
    c.KubeExperimentBackend.gpu_resource_name = "amd.com/gpu"
    c.KubeExperimentBackend.ttl_seconds_after_finished = None
    c.KubeExperimentBackend.use_training_operator = True
    c.KubeExperimentBackend.image_pull_policy = "IfNotPresent"
    c.KubeExperimentBackend.node_selector = {"pool": "gpu"}
    c.KubeExperimentBackend.tolerations = [{"key": "gpu", "operator": "Exists"}]
    backend = KubeExperimentBackend(config=c)
    s = backend.settings()
    assert (s.namespace, s.default_image, s.pod.service_account) == ("ml", "python:3.12", "runner")
    assert s.gpu_resource_name == "amd.com/gpu" and s.ttl_seconds_after_finished is None
    assert s.training_operator == {"pytorch", "tensorflow"}
    assert s.pod.node_selector == {"pool": "gpu"}
    assert backend.capacity() is None
    assert backend.name == "kubernetes"
    plan = make_plan({"master": 1, "worker": 1}, framework="pytorch", image="")
    assert [m["kind"] for m in validate_all(backend.render(plan))] == ["Secret", "PyTorchJob"]

    c.KubeExperimentBackend.use_training_operator = "false"
    assert KubeExperimentBackend(config=c).settings().training_operator == frozenset()


@pytest.mark.parametrize(
    ("trait", "value"),
    [
        ("name_prefix", "Sub"),
        ("namespace_template", "team-{user}"),
        ("working_dir", "relative"),
        ("use_training_operator", "maybe"),
        ("kill_propagation_policy", "Orphan"),
    ],
)
def test_bad_configuration_is_refused(trait: str, value: Any) -> None:
    c = Config()
    setattr(c.KubeExperimentBackend, trait, value)
    with pytest.raises(TraitError):
        KubeExperimentBackend(config=c)


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


def test_no_objects_no_state() -> None:
    assert run_state([], []) is None


def test_pending_says_what_holds_the_run() -> None:
    waiting = {"reason": "ErrImagePull", "message": "manifest unknown"}
    state = run_state([job_obj({"active": 1})], [pod_obj(phase="Pending", waiting=waiting)])
    assert state is not None and state.status == PENDING
    assert state.reason == "main-0: ErrImagePull: manifest unknown"
    unscheduled = pod_obj(phase="Pending")
    unscheduled["status"] = {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/3 nodes have nvidia.com/gpu",
            }
        ],
    }
    state = run_state([job_obj({"active": 1})], [unscheduled])
    assert state is not None and "Unschedulable" in state.reason


def test_running_succeeded_failed() -> None:
    running = run_state([job_obj({"active": 1, "ready": 1, "startTime": T0})], [pod_obj()])
    assert running is not None and running.status == RUNNING
    assert running.started_at == T1_EPOCH - 300
    assert [(r.name, r.status) for r in running.replicas] == [("main-0", RUNNING)]

    done = {"succeeded": 1, "startTime": T0, "completionTime": T1}
    done["conditions"] = [condition("SuccessCriteriaMet"), condition("Complete")]
    succeeded = run_state([job_obj(done)], [pod_obj(phase="Succeeded", exit_code=0)])
    assert succeeded is not None and succeeded.status == SUCCEEDED
    assert succeeded.exit_code == 0 and succeeded.finished_at == T1_EPOCH

    failed_status = {"failed": 1, "conditions": [condition("Failed", "BackoffLimitExceeded")]}
    failed = run_state([job_obj(failed_status)], [pod_obj(phase="Failed", exit_code=3)])
    assert failed is not None and failed.status == FAILED
    assert failed.exit_code == 3
    assert failed.reason == "main-0 exited with code 3"
    oom = run_state(
        [job_obj(failed_status)], [pod_obj(phase="Failed", exit_code=137, reason="OOMKilled")]
    )
    assert oom is not None and oom.reason == "main-0 exited with code 137 (OOMKilled)"


def test_timeout_and_failed_clone() -> None:
    deadline = {
        "conditions": [
            condition("Failed", "DeadlineExceeded", "Job was active longer than specified")
        ]
    }
    state = run_state([job_obj(deadline)], [])
    assert state is not None and state.status == FAILED and state.exit_code is None
    assert state.reason.startswith("DeadlineExceeded")
    assert [(r.name, r.status) for r in state.replicas] == [("main-0", FAILED)]

    clone = pod_obj(phase="Failed", init={"terminated": {"exitCode": 128, "message": "no repo"}})
    clone["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "PodInitializing"}}
    failed = {"conditions": [condition("Failed", "BackoffLimitExceeded")]}
    state = run_state([job_obj(failed)], [clone])
    assert state is not None and state.status == FAILED
    assert state.reason == "main-0: init container git-clone failed: exit code 128 (no repo)"


def test_killed_unless_it_ended_before() -> None:
    kill = {ANNOTATION_KILLED: str(T1_EPOCH)}
    state = run_state([job_obj({"active": 1}, annotations=kill)], [pod_obj()])
    assert state is not None and state.status == KILLED and state.finished_at == T1_EPOCH
    done = {"conditions": [condition("Complete", at=T0)], "completionTime": T0}
    state = run_state([job_obj(done, annotations=kill)], [])
    assert state is not None and state.status == SUCCEEDED
    # deleted by someone else while it ran
    deleted = job_obj({"active": 1}, deletionTimestamp=T1)
    state = run_state([deleted], [pod_obj()])
    assert state is not None and state.status == KILLED
    assert state.reason == "deleted in Kubernetes"


def test_indexed_jobs_combine() -> None:
    roles = {"chief": 1, "ps": 1, "worker": 2}
    ok = {"conditions": [condition("Complete")], "completionTime": T1}
    running = {"active": 1, "ready": 1}
    objects = [
        job_obj(ok, role="chief", roles=roles, framework="tensorflow"),
        job_obj(running, role="ps", roles=roles, framework="tensorflow"),
        job_obj(running, role="worker", roles=roles, framework="tensorflow"),
    ]
    pods = [
        pod_obj("chief", 0, "Succeeded", exit_code=0),
        pod_obj("ps", 0),
        pod_obj("worker", 0),
        pod_obj("worker", 1, "Failed", exit_code=1, created=T0),
        pod_obj("worker", 1, "Running", created=T1),  # the newest pod of a replica counts
    ]
    state = run_state(objects, pods)
    assert state is not None and state.status == SUCCEEDED  # the chief decides
    assert [(r.name, r.status) for r in state.replicas] == [
        ("chief-0", SUCCEEDED),
        ("ps-0", RUNNING),
        ("worker-0", RUNNING),
        ("worker-1", RUNNING),
    ]
    pytorch = {"master": 1, "worker": 2}
    objects = [
        job_obj(ok, role="master", roles=pytorch, framework="pytorch"),
        job_obj({"active": 2}, role="worker", roles=pytorch, framework="pytorch"),
    ]
    state = run_state(objects, [])
    assert state is not None and state.status == RUNNING  # every PyTorch replica must end
    objects[1] = job_obj(
        {"conditions": [condition("Failed", "BackoffLimitExceeded")]},
        role="worker",
        roles=pytorch,
        framework="pytorch",
    )
    state = run_state(objects, [pod_obj("worker", 1, "Failed", exit_code=2)])
    assert state is not None and state.status == FAILED and state.exit_code == 2


def test_kubeflow_conditions() -> None:
    roles = {"master": 1, "worker": 1}

    def job(*conditions: dict[str, Any]) -> dict[str, Any]:
        status = {"conditions": list(conditions), "startTime": T0}
        return job_obj(status, kind="PyTorchJob", role="x", roles=roles, framework="pytorch")

    created = condition("Created")
    assert run_state([job(created)], []).status == PENDING  # type: ignore[union-attr]
    running = condition("Running")
    assert run_state([job(created, running)], []).status == RUNNING  # type: ignore[union-attr]
    running["status"] = "False"
    done = run_state([job(created, running, condition("Succeeded"))], [])
    assert done is not None and done.status == SUCCEEDED and done.exit_code == 0
    failed = run_state([job(created, condition("Failed", "PyTorchJobFailed", "x"))], [])
    assert failed is not None and failed.status == FAILED
    assert failed.reason == "PyTorchJobFailed: x"
    assert [r.name for r in failed.replicas] == ["master-0", "worker-0"]


# --- the backend against a stand-in API ----------------------------------------------


def jobs(cluster: FakeCluster) -> list[dict[str, Any]]:
    """The run objects in the cluster: Jobs and Kubeflow jobs."""
    return cluster.of_kind("Job", "PyTorchJob", "TFJob")


def add_pod(
    cluster: FakeCluster, job: dict[str, Any], index: int = 0, log: bytes = b"", **kwargs: Any
) -> dict[str, Any]:
    """A pod of ``job``'s replica ``index``, as the Job controller would create it."""
    [(role, template)] = templates(job).items()
    pod = pod_obj(role, index, **kwargs)
    pod["metadata"]["labels"] = dict(template["metadata"]["labels"])
    return cluster.add_pod(job, pod, log)


def make_backend(cluster: FakeCluster, **traits: Any) -> KubeExperimentBackend:
    c = Config()
    c.KubeExperimentBackend.namespace = NAMESPACE
    c.KubeExperimentBackend.watch = False
    for name, value in traits.items():
        setattr(c.KubeExperimentBackend, name, value)
    return KubeExperimentBackend(config=c, api=cluster)


async def test_launch_creates_objects_once_and_dependents_follow_the_jobs() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    plan = make_plan({"master": 1, "worker": 2}, framework="pytorch")
    await backend.launch(plan)
    creates = [c[1:] for c in cluster.calls if c[0] == "create"]
    assert creates == [
        ("Secret", "sub-7-train-env"),
        ("Service", "sub-7-train"),
        ("Job", "sub-7-train-master"),
        ("Job", "sub-7-train-worker"),
    ]
    uids = sorted(j["metadata"]["uid"] for j in jobs(cluster))
    for kind, name in (("Secret", "sub-7-train-env"), ("Service", "sub-7-train")):
        owners = cluster.objects[(kind, NAMESPACE, name)]["metadata"]["ownerReferences"]
        assert sorted(o["uid"] for o in owners) == uids
        assert {o["kind"] for o in owners} == {"Job"}
    before = copy.deepcopy(cluster.objects)

    await backend.launch(plan)  # after a service restart between launching and recording
    await make_backend(cluster).launch(plan)
    assert {k: v["metadata"]["uid"] for k, v in cluster.objects.items()} == {
        k: v["metadata"]["uid"] for k, v in before.items()
    }
    state = await backend.state(7)
    assert state is not None and state.status == PENDING
    assert await backend.log_names(7) == ["master-0", "worker-0", "worker-1"]
    await backend.close()
    assert cluster.closed


async def test_launch_refuses_another_platforms_object() -> None:
    cluster = FakeCluster()
    await make_backend(cluster, instance="other").launch(make_plan())
    with pytest.raises(Conflict, match="another platform may share the namespace"):
        await make_backend(cluster).launch(make_plan())


async def test_a_refused_launch_leaves_nothing_behind() -> None:
    cluster = FakeCluster()
    cluster.fail_create["Job"] = api_exception(422, 'Job.batch "x" is invalid: spec.template')
    backend = make_backend(cluster)
    with pytest.raises(InvalidInput, match=r"Kubernetes refused to start run 7: Job\.batch"):
        await backend.launch(make_plan(credential_files=[{"path": "k", "content": b"v"}]))
    assert cluster.objects == {}
    assert await backend.state(7) is None
    cluster.fail_create["Job"] = api_exception(403, "exceeded quota: gpu")
    with pytest.raises(Forbidden, match="exceeded quota: gpu"):
        await backend.launch(make_plan())


async def test_state_and_logs_of_a_run() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    await backend.launch(make_plan())
    [job] = jobs(cluster)
    state = await backend.state(7)
    assert state is not None and state.status == PENDING
    pod = add_pod(cluster, job, log=b"hello\nworld\n")
    cluster.set_status(job, active=1, ready=1, startTime=T0)
    state = await backend.state(7)
    assert state is not None and state.status == RUNNING
    assert await backend.log_names(7) == ["main-0"]
    assert await backend.read_log(7, "main-0", 0, 1000) == b"hello\nworld\n"
    assert await backend.read_log(7, "main-0", 6, 5) == b"world"
    assert await backend.read_log(7, "main-0", 100, 5) == b""
    assert await backend.read_log(7, "worker-9", 0, 5) == b""
    assert await backend.read_log(7, "nonsense", 0, 5) == b""
    pod["status"]["phase"] = "Succeeded"
    pod["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 0}}
    cluster.store("MODIFIED", pod)
    cluster.set_status(
        job,
        succeeded=1,
        startTime=T0,
        completionTime=T1,
        conditions=[condition("Complete")],
    )
    state = await backend.state(7)
    assert state is not None and state.status == SUCCEEDED and state.exit_code == 0
    # kill after the end changes nothing
    await backend.kill(7)
    assert (await backend.state(7)).status == SUCCEEDED  # type: ignore[union-attr]
    assert jobs(cluster)
    # Kubernetes deletes it after ttlSecondsAfterFinished: the backend remembers
    await cluster.delete("Job", NAMESPACE, job["metadata"]["name"], "Background")
    assert (await backend.state(7)).status == SUCCEEDED  # type: ignore[union-attr]
    assert await make_backend(cluster).state(7) is None


async def test_kill_is_remembered_after_a_restart() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    await backend.launch(
        make_plan({"worker": 2}, credential_files=[{"path": "k", "content": b"v"}])
    )
    [job] = jobs(cluster)
    add_pod(cluster, job, 0)
    add_pod(cluster, job, 1)
    cluster.set_status(job, active=2, ready=2)
    assert (await backend.state(7)).status == RUNNING  # type: ignore[union-attr]

    before = time.time()
    await backend.kill(7)
    [job] = jobs(cluster)  # Foreground: still there until its pods are gone
    assert job["metadata"]["deletionTimestamp"]
    killed_at = float(job["metadata"]["annotations"][ANNOTATION_KILLED])
    assert before - 0.001 <= killed_at <= time.time() + 0.001
    assert not [o for o in cluster.objects.values() if o["kind"] in ("Secret", "Service")]
    assert ("delete", "Job", "sub-7-train-worker") in cluster.calls
    state = await backend.state(7)
    assert state is not None and state.status == KILLED and state.reason == "killed"

    restarted = make_backend(cluster)  # a new service process reads the annotation
    state = await restarted.state(7)
    assert state is not None and state.status == KILLED

    cluster.finish_deletions()
    assert cluster.objects == {}
    assert (await backend.state(7)).status == KILLED  # type: ignore[union-attr]
    assert await backend.log_names(7) == []
    await backend.kill(7)  # again: nothing to do
    await backend.launch(make_plan({"worker": 2}))  # launched, killed: not started again
    assert cluster.objects == {}


async def test_a_kill_that_failed_halfway_is_finished_by_the_next() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    plan = make_plan()
    await backend.launch(plan)
    [job] = jobs(cluster)
    add_pod(cluster, job)
    delete = cluster.delete

    async def refuse(kind: str, namespace: str, name: str, propagation: str = "") -> None:
        raise api_exception(503, "etcd unavailable")

    cluster.delete = refuse  # type: ignore[method-assign]
    with pytest.raises(Unavailable, match="Kubernetes refused to stop run 7: etcd unavailable"):
        await backend.kill(7)
    cluster.delete = delete  # type: ignore[method-assign]
    restarted = make_backend(cluster)
    assert (await restarted.state(7)).status == KILLED  # type: ignore[union-attr]
    await restarted.launch(plan)  # a retried launch of a killed run starts nothing
    assert not [o for o in cluster.objects.values() if o.get("status", {}).get("active")]
    await restarted.kill(7)
    assert jobs(cluster)[0]["metadata"]["deletionTimestamp"]
    cluster.finish_deletions()
    assert not jobs(cluster)


async def test_the_code_checkout_log_is_prepare() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    await backend.launch(make_plan({"worker": 2}, code={"git": {"url": "https://x/r.git"}}))
    [job] = jobs(cluster)
    assert await backend.log_names(7) == ["worker-0", "worker-1"]
    pods = [add_pod(cluster, job, i) for i in (1, 0)]
    for i, pod in zip((1, 0), pods, strict=True):
        pod["spec"]["initContainers"] = [{"name": "git-clone", "image": "git"}]
        cluster.logs[(NAMESPACE, pod["metadata"]["name"])] = f"code of {i}\n".encode()
    assert await backend.log_names(7) == ["worker-0", "worker-1", "prepare"]
    assert await backend.read_log(7, "prepare", 0, 100) == b"code of 0\n"
    assert cluster.calls[-1] == ("log", pods[1]["metadata"]["name"], "git-clone")
    assert await backend.read_log(7, "worker-1", 0, 100) == b"code of 1\n"
    assert cluster.calls[-1] == ("log", pods[0]["metadata"]["name"], "main")


async def test_kill_background_deletes_at_once() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster, kill_propagation_policy="Background")
    await backend.launch(make_plan())
    [job] = jobs(cluster)
    add_pod(cluster, job)
    await backend.kill(7)
    assert cluster.objects == {}
    assert (await backend.state(7)).status == KILLED  # type: ignore[union-attr]


async def test_the_end_of_an_indexed_tensorflow_run_stops_its_parameter_servers() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster)
    await backend.launch(make_plan({"chief": 1, "ps": 1, "worker": 1}, framework="tensorflow"))
    by_role = {j["metadata"]["labels"][LABEL_ROLE]: j for j in jobs(cluster)}
    for job in by_role.values():
        add_pod(cluster, job)
        cluster.set_status(job, active=1, ready=1)
    cluster.set_status(by_role["chief"], conditions=[condition("Complete")], completionTime=T1)
    cluster.set_status(by_role["worker"], conditions=[condition("Complete")], completionTime=T1)
    state = await backend.state(7)
    assert state is not None and state.status == SUCCEEDED
    assert ("delete", "Job", "sub-7-train-ps") in cluster.calls
    assert (await backend.state(7)).status == SUCCEEDED  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kubeflow", "mode", "kinds"),
    [
        ({"pytorchjobs", "tfjobs"}, "auto", ["PyTorchJob", "TFJob"]),
        ({"pytorchjobs"}, "auto", ["PyTorchJob", "Job"]),
        (None, "auto", ["Job", "Job"]),
        ({"pytorchjobs", "tfjobs"}, False, ["Job", "Job"]),
        (None, "true", ["PyTorchJob", "TFJob"]),
    ],
)
async def test_training_operator_discovery(
    kubeflow: set[str] | None, mode: Any, kinds: list[str]
) -> None:
    cluster = FakeCluster(kubeflow=kubeflow)
    backend = make_backend(cluster, use_training_operator=mode)
    pytorch = make_plan({"master": 1, "worker": 1}, framework="pytorch", run_id=1)
    tensorflow = make_plan({"chief": 1, "worker": 1}, framework="tensorflow", run_id=2)
    await backend.launch(pytorch)
    await backend.launch(tensorflow)
    launched = [
        next(j["kind"] for j in jobs(cluster) if j["metadata"]["labels"][LABEL_RUN] == str(r))
        for r in (1, 2)
    ]
    assert launched == kinds
    state = await backend.state(1)
    assert state is not None and state.status == PENDING


async def test_operator_run_state_and_kill() -> None:
    cluster = FakeCluster(kubeflow={"pytorchjobs", "tfjobs"})
    backend = make_backend(cluster)
    await backend.launch(make_plan({"master": 1, "worker": 2}, framework="pytorch"))
    [job] = jobs(cluster)
    assert job["kind"] == "PyTorchJob"
    job = cluster.objects[("PyTorchJob", NAMESPACE, "sub-7-train")]
    job["status"] = {"conditions": [condition("Created"), condition("Running")]}
    cluster.store("MODIFIED", job)
    assert (await backend.state(7)).status == RUNNING  # type: ignore[union-attr]
    await backend.kill(7)
    assert ("delete", "PyTorchJob", "sub-7-train") in cluster.calls
    assert (await make_backend(cluster).state(7)) is None  # Background: nothing left
    assert (await backend.state(7)).status == KILLED  # type: ignore[union-attr]


async def test_watch_keeps_states_current_and_resumes() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster, watch=True)
    await backend.launch(make_plan())
    reflectors = backend._reflectors

    def calls(kind: str, verb: str) -> list[tuple[str, str, str]]:
        return [c for c in cluster.calls if c[:2] == (verb, kind)]

    def cached() -> list[dict[str, Any]]:
        return backend.cached(7) or []

    await wait_for(lambda: bool(cached()))
    [job] = jobs(cluster)
    add_pod(cluster, job)
    cluster.set_status(job, active=1, ready=1)
    await wait_for(lambda: len(cached()) == 2 and bool(cached()[0].get("status")))
    lists = len([c for c in cluster.calls if c[0] == "list"])
    state = await backend.state(7)
    assert state is not None and state.status == RUNNING
    assert len([c for c in cluster.calls if c[0] == "list"]) == lists  # from the cache

    # the server ends the watch: it resumes from the last resourceVersion seen, no list
    lists, last = len(calls("Job", "list")), str(cluster.version)
    cluster.end_watches("Job")
    await wait_for(lambda: calls("Job", "watch")[-1] == ("watch", "Job", last))
    assert len(calls("Job", "list")) == lists

    # too old a resourceVersion (410 Gone): list again, then watch from there
    cluster.end_watches("Job", api_exception(410, "Gone"))
    await wait_for(lambda: len(calls("Job", "list")) == lists + 1)
    await wait_for(lambda: len(cluster.queues.get("Job", [])) == 1)

    # an error: the cache stops answering for Jobs until the list after a pause
    cluster.end_watches("Job", api_exception(500, "connection lost"))
    await wait_for(lambda: not reflectors["Job"].synced)
    assert backend.cached(7) is None
    state = await backend.state(7)  # read directly meanwhile
    assert state is not None and state.status == RUNNING
    await wait_for(lambda: reflectors["Job"].synced, timeout=5)

    cluster.set_status(job, conditions=[condition("Complete")], completionTime=T1)
    await wait_for(lambda: job_done(cached()))
    lists = len([c for c in cluster.calls if c[0] == "list"])
    state = await backend.state(7)
    assert state is not None and state.status == SUCCEEDED
    assert len([c for c in cluster.calls if c[0] == "list"]) == lists
    watching = list(reflectors.values())
    assert all(r.running for r in watching)
    await backend.close()
    assert not any(r.running for r in watching)


def job_done(objects: list[dict[str, Any]]) -> bool:
    return any(
        o["kind"] in ("Job", "PyTorchJob") and (o.get("status") or {}).get("conditions")
        for o in objects
    )


async def test_team_namespaces_are_created_and_searched() -> None:
    cluster = FakeCluster()
    backend = make_backend(cluster, namespace_template="submarine-{team}")
    await backend.launch(make_plan(team="ml"))
    assert ("Namespace", "", "submarine-ml") in cluster.objects
    await make_backend(cluster, namespace_template="submarine-{team}").launch(make_plan(team="ml"))
    restarted = make_backend(cluster, namespace_template="submarine-{team}")
    state = await restarted.state(7)  # across namespaces: it does not know the run's team
    assert state is not None and state.status == PENDING
    assert ("list", "Job", selector("default", run=7)) in cluster.calls


# --- the adapter over kubernetes_asyncio, against the fake cluster over HTTP -----------


async def test_cluster_api_against_an_http_api_server() -> None:
    from aiohttp.test_utils import TestServer
    from kubernetes_asyncio import client

    from submarine_hub.backends.kube.api import ClusterApi

    cluster = FakeCluster()
    app, requests = rest_app(cluster)
    async with TestServer(app) as http:
        configuration = client.Configuration(host=str(http.make_url("")).rstrip("/"))
        api = ClusterApi(client.ApiClient(configuration))
        c = Config()
        c.KubeExperimentBackend.namespace = NAMESPACE
        backend = KubeExperimentBackend(config=c, api=api)
        plan = make_plan(argv=["sh", "-c", "echo hi"])
        await backend.launch(plan)
        await backend.launch(plan)  # 409s: launched already
        job = cluster.objects[("Job", NAMESPACE, "sub-7-train")]
        secret = cluster.objects[("Secret", NAMESPACE, "sub-7-train-env")]
        assert secret["metadata"]["ownerReferences"] == [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": "sub-7-train",
                "uid": job["metadata"]["uid"],
            }
        ]
        patches = {ct for method, _, ct in requests if method == "PATCH"}
        assert patches == {"application/merge-patch+json"}
        assert backend.settings().training_operator == frozenset()  # discovery: 404

        # the Job controller and the kubelet at work
        pod = pod_obj(phase="Succeeded", exit_code=0)
        pod["metadata"]["labels"] = dict(job["spec"]["template"]["metadata"]["labels"])
        cluster.add_pod(job, pod, b"hi\n\xff binary\n")
        cluster.set_status(
            job,
            startTime=T0,
            completionTime=T1,
            succeeded=1,
            conditions=[condition("Complete")],
        )
        await wait_for(lambda: job_done(backend.cached(7) or []))
        await wait_for(lambda: len(backend.cached(7) or []) == 2)
        state = await backend.state(7)
        assert state is not None and state.status == SUCCEEDED and state.exit_code == 0
        assert state.started_at == T1_EPOCH - 300 and state.finished_at == T1_EPOCH
        assert await backend.read_log(7, "main-0", 0, 100) == b"hi\n\xff binary\n"
        assert await backend.read_log(7, "main-0", 3, 4) == b"\xff bi"

        restarted = KubeExperimentBackend(config=c, api=ClusterApi(client.ApiClient(configuration)))
        restarted.watch = False
        state = await restarted.state(7)  # a direct read
        assert state is not None and state.status == SUCCEEDED
        await restarted.close()

        # kill a second run: annotated, then deleted
        await backend.launch(make_plan(run_id=8))
        await backend.kill(8)
        assert not [k for k in cluster.objects if k[2].startswith("sub-8-")]
        deletes = [p for method, p, _ in requests if method == "DELETE"]
        assert f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/sub-8-train" in deletes
        assert (await backend.state(8)).status == KILLED  # type: ignore[union-attr]
        await backend.close()


async def test_cluster_api_with_kubeflow_and_team_namespaces() -> None:
    from aiohttp.test_utils import TestServer
    from kubernetes_asyncio import client

    from submarine_hub.backends.kube.api import ClusterApi

    cluster = FakeCluster(kubeflow={"pytorchjobs"})
    async with TestServer(rest_app(cluster)[0]) as http:
        configuration = client.Configuration(host=str(http.make_url("")).rstrip("/"))
        c = Config()
        c.KubeExperimentBackend.namespace_template = "submarine-{team}"
        backend = KubeExperimentBackend(config=c, api=ClusterApi(client.ApiClient(configuration)))
        plan = make_plan({"master": 1, "worker": 2}, framework="pytorch", team="ml")
        await backend.launch(plan)
        await backend.launch(plan)
        assert ("Namespace", "", "submarine-ml") in cluster.objects
        job = cluster.objects[("PyTorchJob", "submarine-ml", "sub-7-train")]
        secret = cluster.objects[("Secret", "submarine-ml", "sub-7-train-env")]
        assert secret["metadata"]["ownerReferences"][0]["kind"] == "PyTorchJob"
        cluster.set_status(job, conditions=[condition("Created"), condition("Running")])
        await wait_for(lambda: job_done(backend.cached(7) or []))
        assert (await backend.state(7)).status == RUNNING  # type: ignore[union-attr]
        c.KubeExperimentBackend.watch = False
        restarted = KubeExperimentBackend(config=c, api=ClusterApi(client.ApiClient(configuration)))
        state = await restarted.state(7)  # listed in every namespace
        assert state is not None and state.status == RUNNING
        await restarted.kill(7)
        assert ("PyTorchJob", "submarine-ml", "sub-7-train") not in cluster.objects
        assert (await restarted.state(7)).status == KILLED  # type: ignore[union-attr]
        await restarted.close()
        await backend.close()


# --- a real cluster ------------------------------------------------------------------


async def test_a_run_on_a_real_cluster() -> None:
    """A tiny busybox run: launched (twice), succeeded, its log read, then cleaned up."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("no Kubernetes cluster: set KUBECONFIG to run this test")
    c = Config()
    c.KubeExperimentBackend.kubeconfig = kubeconfig
    c.KubeExperimentBackend.namespace = os.environ.get("SUBMARINE_TEST_K8S_NAMESPACE", "default")
    c.KubeExperimentBackend.default_image = "busybox:1.36"
    c.KubeExperimentBackend.instance = f"test-{uuid.uuid4().hex[:8]}"
    c.KubeExperimentBackend.ttl_seconds_after_finished = 600
    backend = KubeExperimentBackend(config=c)
    run_id = int(time.time()) % 1_000_000
    plan = make_plan(
        run_id=run_id,
        name="hello",
        image="",
        argv=["sh", "-c", 'echo "hello from $SUBMARINE_ROLE $(echo ok)"'],
        resources=Resources(cpu=0.1, memory=64 * 1024**2),
        env={"GREETING": "hi"},
        timeout=240,
    )
    try:
        await backend.launch(plan)
        await backend.launch(plan)  # idempotent
        deadline = time.monotonic() + 240
        while True:
            state = await backend.state(run_id)
            if state is not None and state.final:
                break
            assert time.monotonic() < deadline, f"still {state}"
            await asyncio.sleep(2)
        assert state.status == SUCCEEDED, state
        assert state.exit_code == 0
        assert await backend.log_names(run_id) == ["main-0"]
        assert await backend.read_log(run_id, "main-0", 0, 1000) == b"hello from main ok\n"
        assert await backend.read_log(run_id, "main-0", 6, 4) == b"from"
    finally:
        sel = ",".join(f"{k}={v}" for k, v in [(LABEL_INSTANCE, c.KubeExperimentBackend.instance)])
        for kind in ("Job", "Secret"):
            items, _ = await backend.api.list(kind, c.KubeExperimentBackend.namespace, sel)
            for item in items:
                meta = item["metadata"]
                await backend.api.delete(kind, meta["namespace"], meta["name"], "Background")
        await backend.close()
