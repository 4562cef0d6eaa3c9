"""Experiments on Kubernetes: the manifests a run renders to.

Every manifest rendered is validated against the Kubernetes 1.30 schemas
(``kubernetes-validate``, strict: unknown fields fail). ``PyTorchJob`` and ``TFJob``
are CRDs it does not know: their pod templates are validated as core/v1
``PodTemplateSpec`` and the job itself against a JSON Schema of the Kubeflow v1 shape
(plus the operator's admission checks). The replicas' environment is checked by running
each pod's command the way Kubernetes would (``$(VAR)`` expansion, Downward API index,
``/bin/sh``) and comparing what the program sees with ``distributed.replica_env`` for
the replicas' DNS names (see ``tests/helpers/kube_runs.py``).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from submarine_hub.backends.kube import render
from submarine_hub.backends.kube.names import (
    ANNOTATION_NAME,
    LABEL_ROLE,
    LABEL_USER,
    is_dns_label,
    label_value,
    team_slug,
)
from submarine_hub.backends.kube.replicas import PRELUDE_BAD_INDEX
from submarine_hub.backends.kube.runs import GIT_CLONE_SCRIPT
from submarine_hub.core.errors import InvalidInput
from submarine_hub.core.resources import Resources

from .helpers.kube import validate as validate_all
from .helpers.kube_runs import (
    IMAGE,
    NAMESPACE,
    check_labels,
    check_replica_envs,
    kube_expand,
    main_container,
    make_plan,
    of_kind,
    run_container,
    settings,
    templates,
)

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
