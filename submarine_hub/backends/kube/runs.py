"""Experiment runs as Kubernetes objects: from a :class:`LaunchPlan` to manifests.

What a run becomes (:func:`render`, pure, no cluster needed):

- **one replica**: a ``batch/v1`` Job (``backoffLimit: 0``, ``restartPolicy: Never``,
  ``activeDeadlineSeconds`` from the plan's timeout, ``ttlSecondsAfterFinished``);
- **a distributed PyTorch or TensorFlow run, with Kubeflow's Training Operator**: one
  ``kubeflow.org/v1`` ``PyTorchJob`` (Master/Worker) or ``TFJob`` (Chief/PS/Worker/
  Evaluator);
- **any other distributed run**: one *indexed* ``batch/v1`` Job per role
  (``completionMode: Indexed``, ``completions = parallelism =`` the role's replicas),
  plus one headless Service for the run (see :mod:`.replicas`).

Beside them: a Secret with the plan's environment (consumed with ``envFrom``, so no
value is written into a pod spec), a Secret with the credential files (mounted
read-only), a git-clone init container when the code comes from git (its log is the
run's ``prepare`` log), an ``emptyDir`` for the run's outputs
(``$SUBMARINE_ARTIFACTS_DIR``), and the team's Namespace when namespaces are per team.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ...core.errors import InvalidInput
from ...core.experiments.backend import LaunchPlan
from ...core.experiments.spec import check_git
from . import manifests as m
from . import spark
from .manifests import CredentialItem, PodSettings
from .names import (
    ANNOTATION_FRAMEWORK,
    ANNOTATION_LAYOUT,
    ANNOTATION_NAME,
    ANNOTATION_ROLES,
    LABEL_INSTANCE,
    LABEL_PART_OF,
    LABEL_ROLE,
    LABEL_RUN,
    is_label_key,
    label_value,
    labels,
)
from .replicas import (
    INDEX_ENV,
    KUBEFLOW,
    KUBEFLOW_API_VERSION,
    LAYOUT_INDEXED,
    Layout,
    make_layout,
    prelude,
    role_env,
    role_replicas,
    run_namespace,
)

MAIN_CONTAINER = "main"
GIT_CONTAINER = "git-clone"
CODE_VOLUME = "code"
CREDENTIALS_VOLUME = "credentials"
ARTIFACTS_VOLUME = "artifacts"
CREDENTIALS_DIR_ENV = "SUBMARINE_CREDENTIALS_DIR"
ARTIFACTS_DIR_ENV = "SUBMARINE_ARTIFACTS_DIR"
#: The log name of the code checkout (the git-clone init container), as on the local backend.
PREPARE_LOG = "prepare"


@dataclass(frozen=True)
class RenderSettings:
    """What rendering depends on besides the plan: the backend's configuration."""

    namespace: str = "default"
    namespace_template: str = ""  # e.g. "submarine-{team}": a namespace per team
    instance: str = "default"
    name_prefix: str = "sub"
    default_image: str = ""
    pod: PodSettings = field(default_factory=PodSettings)
    gpu_resource_name: str = "nvidia.com/gpu"
    ttl_seconds_after_finished: int | None = 86400
    #: Frameworks ("pytorch", "tensorflow") whose Training Operator kind is used.
    training_operator: frozenset[str] = frozenset()
    working_dir: str = "/workspace"
    git_image: str = "alpine/git:2.45.2"
    credentials_mount_path: str = "/etc/submarine/credentials"
    artifacts_dir: str = "/submarine/artifacts"
    fs_group: int | None = None
    pytorch_port: int = 23456
    tensorflow_port: int = 2222


def run_labels(plan: LaunchPlan, settings: RenderSettings) -> dict[str, str]:
    """The labels of every object of the run (pods add their role): plan.labels, then ours."""
    out: dict[str, str] = {}
    for key, value in plan.labels.items():
        if not is_label_key(key):
            raise InvalidInput(f"Label key {key!r} is not a valid Kubernetes label key.")
        out[key] = label_value(str(value))
    out.update(labels(settings.instance, team=plan.team, user=plan.owner, run=plan.run_id))
    return out


# --- code and credentials ------------------------------------------------------------

#: The git-clone init container's script; the URL and ref are its arguments, never code.
GIT_CLONE_SCRIPT = """\
set -eu
url="$1"
ref="${2:-HEAD}"
git init -q .
git remote add origin "$url"
if git fetch -q --depth 1 origin "$ref"; then
  git checkout -q FETCH_HEAD
else
  git fetch -q origin
  git checkout -q "$ref"
fi
chmod -R a+rwX .
echo "code: $url at $(git rev-parse HEAD)"
"""


def git_source(code: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """``(url, ref)`` of the run's code, ``None`` without code; refuses what cannot be sent."""
    if not code:
        return None
    if "git" in code:
        return check_git(code["git"] or {})
    if "upload" in code:
        raise InvalidInput(
            "Uploaded code cannot run on Kubernetes yet: give the code as "
            "{git: {url, ref}}, or build it into the image."
        )
    raise InvalidInput(f"Unknown code source: {', '.join(sorted(code))}.")


def git_init_container(
    source: tuple[str, str], settings: RenderSettings, resources: dict[str, Any]
) -> dict[str, Any]:
    url, ref = source
    container: dict[str, Any] = {
        "name": GIT_CONTAINER,
        "image": settings.git_image,
        "command": [
            m.kube_escape(a) for a in ("/bin/sh", "-c", GIT_CLONE_SCRIPT, GIT_CONTAINER, url, ref)
        ],
        "env": [
            {"name": "GIT_TERMINAL_PROMPT", "value": "0"},
            {"name": "HOME", "value": "/tmp"},
        ],
        "workingDir": settings.working_dir,
        "volumeMounts": [{"name": CODE_VOLUME, "mountPath": settings.working_dir}],
    }
    if resources:
        container["resources"] = resources
    return container


def _credential_content(item: Mapping[str, Any]) -> bytes:
    if "content_base64" in item:
        try:
            return base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise InvalidInput(
                f"Credential file {item.get('path')!r} is not valid base64."
            ) from None
    content = item.get("content", b"")
    return content.encode() if isinstance(content, str) else bytes(content)


def credential_files(plan: LaunchPlan) -> list[CredentialItem]:
    """The plan's credential files as Secret items (checked)."""
    return m.credential_items(
        (item.get("path"), int(item.get("mode", 0o400)), _credential_content(item))
        for item in plan.credential_files
    )


# --- the manifests -------------------------------------------------------------------


@dataclass
class _Run:
    plan: LaunchPlan
    settings: RenderSettings
    layout: Layout
    image: str
    labels: dict[str, str]
    annotations: dict[str, str]
    env_secret: str | None
    files: list[CredentialItem]
    git: tuple[str, str] | None

    @property
    def files_secret(self) -> str | None:
        return f"{self.layout.base}-files" if self.files else None

    def metadata(self, name: str, role: str | None = None, **extra: Any) -> dict[str, Any]:
        labels = dict(self.labels)
        if role is not None:
            labels[LABEL_ROLE] = label_value(role)
        return {**m.metadata(name, self.layout.namespace, labels), **extra}


def render(plan: LaunchPlan, settings: RenderSettings) -> list[dict[str, Any]]:
    """Every object of the run, as plain data, in creation order.

    The team's Namespace (with ``namespace_template``), the Secrets (environment,
    credential files), the headless Service (indexed layout), then the Job(s) or the
    ``PyTorchJob``/``TFJob``. Raises :class:`InvalidInput` with a message a person can
    act on when the plan cannot run on Kubernetes.
    """
    image = plan.image or settings.default_image
    if not image:
        raise InvalidInput(
            "No container image for this run: give the environment profile an image, or "
            "configure c.KubeExperimentBackend.default_image."
        )
    if not plan.roles or not plan.replicas:
        raise InvalidInput("The run has no replicas.")
    m.check_env_names(plan.env, "environment")
    namespace = run_namespace(plan.team, settings.namespace, settings.namespace_template)
    if plan.spark is not None:  # its driver runs spark-submit against the cluster's API
        plan = spark.driver_plan(
            plan, namespace=namespace, image=image, artifacts_dir=settings.artifacts_dir
        )
    port = {"pytorch": settings.pytorch_port, "tensorflow": settings.tensorflow_port}
    layout = make_layout(
        plan,
        namespace=run_namespace(plan.team, settings.namespace, settings.namespace_template),
        name_prefix=settings.name_prefix,
        port=port.get(plan.framework, 0),
        training_operator=settings.training_operator,
    )
    run = _Run(
        plan=plan,
        settings=settings,
        layout=layout,
        image=image,
        labels=run_labels(plan, settings),
        annotations={
            ANNOTATION_NAME: plan.name,
            ANNOTATION_FRAMEWORK: plan.framework,
            ANNOTATION_LAYOUT: layout.kind,
            ANNOTATION_ROLES: json.dumps(dict(plan.roles), separators=(",", ":")),
        },
        env_secret=f"{layout.base}-env" if plan.env else None,
        files=credential_files(plan),
        git=git_source(plan.code),
    )
    manifests: list[dict[str, Any]] = []
    if settings.namespace_template:
        manifests.append(m.namespace(layout.namespace, labels(team=plan.team)))
    if run.env_secret:
        env = {k: str(v) for k, v in plan.env.items()}
        manifests.append(m.secret(run.metadata(run.env_secret), data=env))
    if run.files_secret:
        manifests.append(m.credentials_secret(run.metadata(run.files_secret), run.files))
    if layout.service:
        manifests.append(_service(run))
    if layout.operator:
        manifests.append(_kubeflow_job(run))
    else:
        for role in plan.roles:
            manifests.append(_job(run, role))
    if plan.spark is not None:
        manifests = spark.add_spark(manifests, plan, layout.namespace, run.labels)
    return manifests


def _service(run: _Run) -> dict[str, Any]:
    assert run.layout.service is not None
    port = run.layout.port
    return m.service(
        run.metadata(run.layout.service),
        selector={k: run.labels[k] for k in (LABEL_PART_OF, LABEL_INSTANCE, LABEL_RUN)},
        ports=[("replica", port, port)] if port else [],
        headless=True,
    )


def _pod_template(run: _Run, role: str, container_name: str) -> dict[str, Any]:
    plan, settings, layout = run.plan, run.settings, run.layout
    first = role_replicas(plan, role)[0]
    gpu = settings.gpu_resource_name
    r = first.resources
    resources = m.container_resources(r.cpu, r.memory, r.gpus, gpu_resource_name=gpu)
    env = role_env(plan, layout, role)
    argv = list(first.argv)
    if env.exports and not argv:
        raise InvalidInput(f"Role {role!r} has no command to run.")
    container: dict[str, Any] = {"name": container_name, "image": run.image}
    if env.exports:
        wrapped = ["/bin/sh", "-c", prelude(role, env.exports), "submarine-replica", *argv]
        container["command"] = [m.kube_escape(a) for a in wrapped]
    elif argv:
        container["command"] = [m.kube_escape(a) for a in argv]
    static = dict(env.static)
    # a place for the run's outputs, as the local backend gives one (gone with the pod)
    static.setdefault(ARTIFACTS_DIR_ENV, settings.artifacts_dir)
    mounts: list[dict[str, Any]] = [{"name": ARTIFACTS_VOLUME, "mountPath": settings.artifacts_dir}]
    volumes: list[dict[str, Any]] = [{"name": ARTIFACTS_VOLUME, "emptyDir": {}}]
    init: list[dict[str, Any]] = []
    if run.files_secret:
        static.setdefault(CREDENTIALS_DIR_ENV, settings.credentials_mount_path)
        volume, mount = m.credentials_volume(
            CREDENTIALS_VOLUME, run.files_secret, run.files, settings.credentials_mount_path
        )
        volumes.append(volume)
        mounts.append(mount)
    if run.git:
        volumes.append({"name": CODE_VOLUME, "emptyDir": {}})
        mounts.append({"name": CODE_VOLUME, "mountPath": settings.working_dir})
        container["workingDir"] = settings.working_dir
        git_resources = m.container_resources(r.cpu, r.memory, gpu_resource_name=gpu)
        init.append(git_init_container(run.git, settings, git_resources))
    env_items: list[dict[str, Any]] = []
    if env.index_from:
        env_items.append(
            {"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": env.index_from}}}
        )
    env_items.extend(m.env_list(static))
    if env_items:
        container["env"] = env_items
    if run.env_secret:
        container["envFrom"] = [{"secretRef": {"name": run.env_secret}}]
    if resources:
        container["resources"] = resources
    container["volumeMounts"] = mounts
    kubeflow = KUBEFLOW.get(plan.framework)
    if layout.operator and kubeflow is not None:
        container["ports"] = [
            {"name": kubeflow.port_name, "containerPort": layout.port, "protocol": "TCP"}
        ]
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [container],
        # the service links' variables are not on any other backend
        "enableServiceLinks": False,
        "automountServiceAccountToken": bool(settings.pod.service_account),
    }
    if init:
        spec["initContainers"] = init
    spec["volumes"] = volumes
    if layout.service:
        spec["subdomain"] = layout.service
    m.apply_pod_settings(spec, settings.pod)
    if settings.fs_group is not None:
        spec["securityContext"] = {"fsGroup": settings.fs_group}
    return {"metadata": {"labels": {**run.labels, LABEL_ROLE: label_value(role)}}, "spec": spec}


def _deadline(plan: LaunchPlan) -> int | None:
    return max(1, math.ceil(plan.timeout)) if plan.timeout else None


def _job(run: _Run, role: str) -> dict[str, Any]:
    layout = run.layout
    spec: dict[str, Any] = {"backoffLimit": 0}
    if layout.kind == LAYOUT_INDEXED:
        replicas = run.plan.roles[role]
        spec.update(completionMode="Indexed", completions=replicas, parallelism=replicas)
    deadline = _deadline(run.plan)
    if deadline:
        spec["activeDeadlineSeconds"] = deadline
    if run.settings.ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = run.settings.ttl_seconds_after_finished
    spec["template"] = _pod_template(run, role, MAIN_CONTAINER)
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": run.metadata(
            layout.job_name(role), role=role, annotations=dict(run.annotations)
        ),
        "spec": spec,
    }


def _kubeflow_job(run: _Run) -> dict[str, Any]:
    kubeflow = KUBEFLOW[run.plan.framework]
    policy: dict[str, Any] = {"backoffLimit": 0, "cleanPodPolicy": "Running"}
    deadline = _deadline(run.plan)
    if deadline:
        policy["activeDeadlineSeconds"] = deadline
    if run.settings.ttl_seconds_after_finished is not None:
        policy["ttlSecondsAfterFinished"] = run.settings.ttl_seconds_after_finished
    specs = {
        kubeflow.replica_types[role]: {
            "replicas": replicas,
            "restartPolicy": "Never",
            "template": _pod_template(run, role, kubeflow.container),
        }
        for role, replicas in run.plan.roles.items()
    }
    return {
        "apiVersion": KUBEFLOW_API_VERSION,
        "kind": kubeflow.kind,
        "metadata": run.metadata(run.layout.base, annotations=dict(run.annotations)),
        "spec": {"runPolicy": policy, kubeflow.specs_field: specs},
    }
