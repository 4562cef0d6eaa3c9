"""Experiment runs on Kubernetes: from a :class:`LaunchPlan` to Jobs, and back to a state.

What a run becomes (:func:`render`, pure, no cluster needed):

- **one replica**: a ``batch/v1`` Job (``backoffLimit: 0``, ``restartPolicy: Never``,
  ``activeDeadlineSeconds`` from the plan's timeout, ``ttlSecondsAfterFinished``);
- **a distributed PyTorch or TensorFlow run, with Kubeflow's Training Operator**: one
  ``kubeflow.org/v1`` ``PyTorchJob`` (Master/Worker) or ``TFJob`` (Chief/PS/Worker/
  Evaluator). The backend uses them when the cluster serves those kinds (API discovery
  at start) or when ``use_training_operator`` forces it;
- **any other distributed run**: one *indexed* ``batch/v1`` Job per role
  (``completionMode: Indexed``, ``completions = parallelism =`` the role's replicas),
  plus one headless Service for the run. Kubernetes names each pod
  ``<job>-<index>`` and, with the pod's ``subdomain`` set to the Service, gives it the
  DNS name ``<job>-<index>.<service>``. One Job per role because roles may differ in
  command and resources.

Beside them: a Secret with the plan's environment (consumed with ``envFrom``, so no
value is written into a pod spec), a Secret with the credential files (mounted
read-only), a git-clone init container when the code comes from git (its log is the
run's ``prepare`` log), an ``emptyDir`` for the run's outputs
(``$SUBMARINE_ARTIFACTS_DIR``), and the team's Namespace when namespaces are per team.
Secrets and the Service are owned by the run's Jobs: Kubernetes deletes them with the
Jobs (``ttlSecondsAfterFinished``, kill).

**Replica environment.** Every replica gets exactly
:func:`~submarine_hub.core.experiments.distributed.replica_env` for its slot, with the
replicas' DNS names as addresses. Variables equal for every replica of a role are
plain container variables. The others (rank, ``TF_CONFIG``'s task...) depend on the
pod's index, which only the pod knows: ``SUBMARINE_REPLICA_INDEX`` comes from the
Downward API (the Job's ``job-completion-index`` annotation, or the Training Operator's
``replica-index`` label), and the container's command is wrapped in a short POSIX
``sh`` prelude that exports that replica's values (a ``case`` on the index) and
``exec``\\ s the real command. With the Training Operator, the prelude also exports the
framework variables (``MASTER_ADDR``, ``RANK``, ``TF_CONFIG``...), which the operator
appends to the container's own: the program sees the same values on every backend.
Images of distributed runs therefore need ``/bin/sh``.

**Kill.** :meth:`KubeExperimentBackend.kill` writes the annotation
``submarine-hub/killed-at`` on the run's Jobs, then deletes them
(``kill_propagation_policy``, ``Foreground`` by default: the Job stays, annotated,
until its pods are gone). ``state()`` reads the annotation, so a restarted service
still learns the run was killed; once the objects are gone, the backend's memory
answers, and after a restart with nothing left in the cluster ``state()`` is ``None``.

**State** (:func:`run_state`): the Jobs' conditions (``Complete``/``Failed``; the
Training Operator's ``Created``/``Running``/``Succeeded``/``Failed``) and the pods'
container statuses (exit code, ``OOMKilled``, ``ErrImagePull``...). A watch of the
run objects and pods (list, then watch from the list's ``resourceVersion``, resumed
from the last event seen, relisted on ``410 Gone``) keeps a cache; a run the cache does
not hold is read directly, so ``state()`` works right after a restart.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import json
import logging
import math
import re
import shlex
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from kubernetes_asyncio.client.exceptions import ApiException
from kubespawner.slugs import is_valid_label, safe_slug
from traitlets import Bool, Dict, Enum, Int, List, TraitError, Unicode, Union, validate

from ...core.errors import Conflict, Forbidden, InvalidInput, SubmarineError, Unavailable
from ...core.experiments.backend import (
    FAILED,
    KILLED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    LaunchPlan,
    ReplicaPlan,
    ReplicaState,
    RunState,
)
from ...core.experiments.distributed import Slot, replica_env, slots
from ...core.experiments.spec import check_git
from ...core.paths import safe_relpath
from ...core.resources import Resources
from ..base import ExperimentBackend
from .cluster import read_body

log = logging.getLogger(__name__)

# --- labels, annotations, names ------------------------------------------------------

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
MANAGED_BY = "submarine-hub"
LABEL_INSTANCE = "submarine-hub/instance"
LABEL_RUN = "submarine-hub/run"
LABEL_TEAM = "submarine-hub/team"
LABEL_USER = "submarine-hub/user"
LABEL_ROLE = "submarine-hub/role"

ANNOTATION_KILLED = "submarine-hub/killed-at"
ANNOTATION_ROLES = "submarine-hub/roles"
ANNOTATION_FRAMEWORK = "submarine-hub/framework"
ANNOTATION_LAYOUT = "submarine-hub/layout"
ANNOTATION_NAME = "submarine-hub/name"

#: The pod index of an indexed Job, as the Job controller annotates (and labels) pods.
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
#: The replica index the Training Operator labels its pods with.
KUBEFLOW_INDEX = "training.kubeflow.org/replica-index"

LAYOUT_JOB = "job"
LAYOUT_INDEXED = "indexed"
LAYOUT_PYTORCHJOB = "pytorchjob"
LAYOUT_TFJOB = "tfjob"

MAIN_CONTAINER = "main"
GIT_CONTAINER = "git-clone"
CODE_VOLUME = "code"
CREDENTIALS_VOLUME = "credentials"
ARTIFACTS_VOLUME = "artifacts"
CREDENTIALS_DIR_ENV = "SUBMARINE_CREDENTIALS_DIR"
ARTIFACTS_DIR_ENV = "SUBMARINE_ARTIFACTS_DIR"
#: The log name of the code checkout (the git-clone init container), as on the local backend.
PREPARE_LOG = "prepare"
#: Variables the Training Operator appends to every container besides the framework's.
OPERATOR_ENV = ("PYTHONUNBUFFERED",)
INDEX_ENV = "SUBMARINE_REPLICA_INDEX"
#: Exit status of the prelude when the pod's index is not one of its role's replicas.
PRELUDE_BAD_INDEX = 90
#: A Secret holds at most 1 MiB.
SECRET_MAX_BYTES = 1024 * 1024
#: The longest team slug put into ``{team}`` (as ``submarine-kube`` sessions do).
TEAM_SLUG_MAX = 40
#: A DNS label, the limit of every name a replica's DNS name is built from.
DNS_LABEL_MAX = 63


@dataclass(frozen=True)
class KubeflowKind:
    """A Training Operator job kind and how a framework's roles map onto it."""

    kind: str
    plural: str
    specs_field: str
    container: str  # the operator finds its container, and the port, by these names
    port_name: str
    replica_types: Mapping[str, str]


KUBEFLOW_GROUP = "kubeflow.org"
KUBEFLOW_VERSION = "v1"
KUBEFLOW_API_VERSION = f"{KUBEFLOW_GROUP}/{KUBEFLOW_VERSION}"
KUBEFLOW: dict[str, KubeflowKind] = {
    "pytorch": KubeflowKind(
        kind="PyTorchJob",
        plural="pytorchjobs",
        specs_field="pytorchReplicaSpecs",
        container="pytorch",
        port_name="pytorchjob-port",
        replica_types={"master": "Master", "worker": "Worker"},
    ),
    "tensorflow": KubeflowKind(
        kind="TFJob",
        plural="tfjobs",
        specs_field="tfReplicaSpecs",
        container="tensorflow",
        port_name="tfjob-port",
        replica_types={"chief": "Chief", "ps": "PS", "worker": "Worker", "evaluator": "Evaluator"},
    ),
}
KUBEFLOW_KINDS = {k.kind: k for k in KUBEFLOW.values()}
PRIMARY_KINDS = ("Job", *KUBEFLOW_KINDS)
MAIN_CONTAINERS = (MAIN_CONTAINER, *(k.container for k in KUBEFLOW.values()))

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PREFIX = re.compile(r"^[a-z]([-a-z0-9]{0,18}[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# Kubernetes 1.30's rule for container environment variable names.
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SECRET_KEY_UNSAFE = re.compile(r"[^-._a-zA-Z0-9]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and bool(_DNS_LABEL.match(value))


def label_value(value: str) -> str:
    """``value`` as a valid label value (63 characters at most), escaped only if needed."""
    return safe_slug(value, is_valid=is_valid_label, max_length=63)


def team_slug(team: str) -> str:
    """The team's name as ``{team}`` in the namespace template, as sessions have it.

    The same rule as ``submarine-kube``'s ``team_slug``: a DNS label of at most 40
    characters is kept, anything else is escaped and gets a hash of the real name.
    """
    if not isinstance(team, str) or not team.strip():
        raise InvalidInput("The run has no team: a Kubernetes namespace cannot be chosen.")
    if _CONTROL.search(team) or not re.search(r"[A-Za-z0-9]", team):
        raise InvalidInput(
            f"Team name {team!r} cannot become a Kubernetes namespace: it needs an ASCII "
            "letter or digit and no control characters."
        )
    return safe_slug(team, is_valid=is_dns_label, max_length=TEAM_SLUG_MAX)


def name_slug(name: str) -> str:
    """A run's name in lowercase letters, digits and single dashes (maybe empty)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def kube_escape(value: str) -> str:
    """``value`` written so that Kubernetes' ``$(VAR)`` expansion gives it back unchanged.

    Kubernetes expands ``$(NAME)`` in a container's command, args and ``env`` values,
    and turns ``$$`` into ``$``; the local backend expands nothing.
    """
    return value.replace("$", "$$")


# --- settings ------------------------------------------------------------------------


@dataclass(frozen=True)
class RenderSettings:
    """What rendering depends on besides the plan: the backend's configuration."""

    namespace: str = "default"
    namespace_template: str = ""  # e.g. "submarine-{team}": a namespace per team
    instance: str = "default"
    name_prefix: str = "sub"
    default_image: str = ""
    image_pull_policy: str | None = None
    image_pull_secrets: tuple[str, ...] = ()
    service_account: str = ""
    gpu_resource_name: str = "nvidia.com/gpu"
    ttl_seconds_after_finished: int | None = 86400
    #: Frameworks ("pytorch", "tensorflow") whose Training Operator kind is used.
    training_operator: frozenset[str] = frozenset()
    node_selector: Mapping[str, str] = field(default_factory=dict)
    tolerations: tuple[Mapping[str, Any], ...] = ()
    working_dir: str = "/workspace"
    git_image: str = "alpine/git:2.45.2"
    credentials_mount_path: str = "/etc/submarine/credentials"
    artifacts_dir: str = "/submarine/artifacts"
    fs_group: int | None = None
    pytorch_port: int = 23456
    tensorflow_port: int = 2222


def base_labels(settings: RenderSettings) -> dict[str, str]:
    """The labels that select every object this backend manages."""
    return {LABEL_MANAGED_BY: MANAGED_BY, LABEL_INSTANCE: label_value(settings.instance)}


def selector(settings: RenderSettings, run_id: int | None = None) -> str:
    """A label selector for the backend's objects, or for one run's."""
    labels = base_labels(settings)
    if run_id is not None:
        labels[LABEL_RUN] = str(run_id)
    return ",".join(f"{k}={v}" for k, v in labels.items())


def run_labels(plan: LaunchPlan, settings: RenderSettings) -> dict[str, str]:
    """The labels of every object of the run (pods add their role): plan.labels, then ours."""
    labels: dict[str, str] = {}
    for key, value in plan.labels.items():
        if not _is_label_key(key):
            raise InvalidInput(f"Label key {key!r} is not a valid Kubernetes label key.")
        labels[key] = label_value(str(value))
    labels.update(base_labels(settings))
    labels[LABEL_RUN] = str(plan.run_id)
    labels[LABEL_TEAM] = label_value(plan.team)
    labels[LABEL_USER] = label_value(plan.owner)
    return labels


def _is_label_key(key: str) -> bool:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return bool(_LABEL_NAME.match(name))


# --- the run's layout ----------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """Where the run's replicas go: the kind of objects, their names and addresses."""

    kind: str  # LAYOUT_*
    namespace: str
    base: str  # sub-<id>-<name>: the single Job, the Kubeflow job, the Service
    port: int  # the framework's port (0: none)
    roles: Mapping[str, int]

    @property
    def distributed(self) -> bool:
        return self.kind != LAYOUT_JOB

    @property
    def service(self) -> str | None:
        return self.base if self.kind == LAYOUT_INDEXED else None

    def job_name(self, role: str) -> str:
        return f"{self.base}-{role}" if self.kind == LAYOUT_INDEXED else self.base

    def address(self, role: str, index: int) -> tuple[str, int]:
        """A replica's host and port, as the other replicas reach it."""
        if self.kind == LAYOUT_JOB:
            return "127.0.0.1", self.port
        if self.kind == LAYOUT_INDEXED:
            return f"{self.job_name(role)}-{index}.{self.service}", self.port
        return f"{self.base}-{role}-{index}", self.port  # the operator's Service per replica

    def host_names(self) -> list[str]:
        """Every DNS label the layout makes (all must fit in 63 characters)."""
        if self.kind == LAYOUT_JOB:
            return [self.base]
        return [self.address(r, n - 1)[0].split(".")[0] for r, n in self.roles.items()]


def choose_layout(plan: LaunchPlan, settings: RenderSettings) -> str:
    if sum(plan.roles.values()) <= 1:
        return LAYOUT_JOB
    kubeflow = KUBEFLOW.get(plan.framework)
    if (
        kubeflow is not None
        and plan.framework in settings.training_operator
        and all(role in kubeflow.replica_types for role in plan.roles)
    ):
        return LAYOUT_PYTORCHJOB if plan.framework == "pytorch" else LAYOUT_TFJOB
    return LAYOUT_INDEXED


def run_namespace(plan: LaunchPlan, settings: RenderSettings) -> str:
    if not settings.namespace_template:
        return settings.namespace
    team = team_slug(plan.team)
    try:
        namespace = settings.namespace_template.format(team=team)
    except (KeyError, IndexError, ValueError) as e:
        raise ValueError(
            f"namespace_template {settings.namespace_template!r}: only {{team}} can be used."
        ) from e
    if not is_dns_label(namespace):
        raise InvalidInput(
            f"namespace_template {settings.namespace_template!r} gives {namespace!r} for team "
            f"{plan.team!r}: not a valid Kubernetes namespace (a DNS label, 63 characters)."
        )
    return namespace


def make_layout(plan: LaunchPlan, settings: RenderSettings) -> Layout:
    """Decide the run's objects and names; names are DNS-safe and short enough."""
    kind = choose_layout(plan, settings)
    port = {"pytorch": settings.pytorch_port, "tensorflow": settings.tensorflow_port}.get(
        plan.framework, 0
    )
    prefix = f"{settings.name_prefix}-{plan.run_id}"
    # room for what follows the base in the longest host name: -<role>-<last index>
    if kind == LAYOUT_JOB:
        tail = 0
    else:
        tail = max(len(f"-{role}-{n - 1}") for role, n in plan.roles.items())
    room = DNS_LABEL_MAX - tail - len(prefix) - 1
    slug = name_slug(plan.name)[: max(room, 0)].strip("-")
    base = f"{prefix}-{slug}" if slug else prefix
    layout = Layout(
        kind=kind,
        namespace=run_namespace(plan, settings),
        base=base,
        port=port,
        roles=dict(plan.roles),
    )
    for host in layout.host_names():
        if not is_dns_label(host):
            raise InvalidInput(
                f"Run {plan.run_id}: {host!r} is not a valid Kubernetes name (roles must be "
                "short lowercase names)."
            )
    return layout


# --- pieces of a pod -----------------------------------------------------------------


def cpu_quantity(cores: float) -> str:
    millis = max(1, round(cores * 1000))
    return str(millis // 1000) if millis % 1000 == 0 else f"{millis}m"


def container_resources(resources: Resources, gpu_resource_name: str) -> dict[str, Any]:
    """Requests equal to limits: the platform admitted the run against its team's quota."""
    limits: dict[str, str] = {}
    if resources.cpu is not None:
        if resources.cpu <= 0:
            raise InvalidInput(f"CPU must be positive, not {resources.cpu}.")
        limits["cpu"] = cpu_quantity(resources.cpu)
    if resources.memory is not None:
        if resources.memory <= 0:
            raise InvalidInput(f"Memory must be positive, not {resources.memory}.")
        limits["memory"] = str(int(resources.memory))
    if resources.gpus < 0:
        raise InvalidInput(f"GPUs cannot be negative: {resources.gpus}.")
    if resources.gpus:
        limits[gpu_resource_name] = str(resources.gpus)
    return {"limits": limits, "requests": dict(limits)} if limits else {}


def _check_env(env: Mapping[str, str], where: str) -> None:
    for name in env:
        if not _ENV_NAME.match(name):
            raise InvalidInput(
                f"Environment variable name {name!r} ({where}) is not valid in a Kubernetes "
                "container."
            )


def _env_list(env: Mapping[str, str]) -> list[dict[str, Any]]:
    return [{"name": k, "value": kube_escape(str(v))} for k, v in env.items()]


def _check_credential_path(path: Any) -> str:
    return safe_relpath(path, what="credential file path")


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


def credential_files(plan: LaunchPlan) -> list[tuple[str, str, int, bytes]]:
    """``(secret key, relative path, mode, content)`` of each credential file."""
    out: list[tuple[str, str, int, bytes]] = []
    keys: set[str] = set()
    paths: set[str] = set()
    for i, item in enumerate(plan.credential_files):
        path = _check_credential_path(item.get("path"))
        if path in paths:
            raise InvalidInput(f"Credential file {path!r} is given twice.")
        paths.add(path)
        mode = int(item.get("mode", 0o400))
        if not 0 <= mode <= 0o777:
            raise InvalidInput(f"Credential file {path!r}: mode {mode:o} is not in 0..0777.")
        key = _SECRET_KEY_UNSAFE.sub("_", path)[:240]
        if key in keys:
            key = f"{key}-{i}"
        keys.add(key)
        out.append((key, path, mode, _credential_content(item)))
    size = sum(len(f[3]) for f in out)
    if size > SECRET_MAX_BYTES:
        raise InvalidInput(
            f"Credential files take {size} bytes: a Kubernetes Secret holds at most 1 MiB."
        )
    return out


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
            kube_escape(a) for a in ("/bin/sh", "-c", GIT_CLONE_SCRIPT, GIT_CONTAINER, url, ref)
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
    if settings.image_pull_policy:
        container["imagePullPolicy"] = settings.image_pull_policy
    return container


def prelude(role: str, exports: Mapping[int, Mapping[str, str]]) -> str:
    """The ``sh`` script exporting each replica's own variables, then ``exec "$@"``."""
    lines = [f'case "${{{INDEX_ENV}:-}}" in']
    for index in sorted(exports):
        env = exports[index]
        if env:
            assign = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(env.items()))
            lines.append(f"  {index}) {assign}; export {' '.join(sorted(env))} ;;")
        else:
            lines.append(f"  {index}) ;;")
    lines.append(
        f'  *) echo "submarine: ${INDEX_ENV} is not a replica of role {role}" >&2; '
        f"exit {PRELUDE_BAD_INDEX} ;;"
    )
    lines.append("esac")
    lines.append('exec "$@"')
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class RoleEnv:
    """A role's variables: ``static`` for every replica, ``exports`` per index (prelude)."""

    static: dict[str, str]
    exports: dict[int, dict[str, str]]
    index_from: str | None  # Downward API field path of SUBMARINE_REPLICA_INDEX


def role_env(plan: LaunchPlan, layout: Layout, role: str) -> RoleEnv:
    """Each replica's variables (its ReplicaPlan.env, then replica_env) split for the pod."""
    role_slots = [s for s in slots(plan.roles) if s.role == role]
    per_index: dict[int, dict[str, str]] = {}
    for slot in role_slots:
        replica = _replica(plan, slot)
        env = {k: str(v) for k, v in replica.env.items()}
        env.update(replica_env(plan.framework, dict(plan.roles), slot, layout.address))
        if layout.kind in (LAYOUT_PYTORCHJOB, LAYOUT_TFJOB):
            # the operator appends its own value: the prelude gives the plan's back
            env.update({k: plan.env[k] for k in OPERATOR_ENV if k in plan.env})
        _check_env(env, f"replica {slot.name}")
        per_index[slot.index] = env
    index_from = None
    if layout.distributed:
        index_from = (
            f"metadata.annotations['{COMPLETION_INDEX}']"
            if layout.kind == LAYOUT_INDEXED
            else f"metadata.labels['{KUBEFLOW_INDEX}']"
        )
        for env in per_index.values():
            env.pop(INDEX_ENV, None)
    keys = sorted({k for env in per_index.values() for k in env})
    static: dict[str, str] = {}
    varying: set[str] = set()
    for key in keys:
        values = [env.get(key) for env in per_index.values()]
        operator_sets_it = layout.kind in (LAYOUT_PYTORCHJOB, LAYOUT_TFJOB) and not key.startswith(
            "SUBMARINE_"
        )
        if None in values or len(set(values)) > 1 or operator_sets_it:
            varying.add(key)
        else:
            static[key] = values[0]  # type: ignore[assignment]
    exports = {i: {k: v for k, v in env.items() if k in varying} for i, env in per_index.items()}
    if not varying:
        exports = {}
    return RoleEnv(static=static, exports=exports, index_from=index_from)


def _replica(plan: LaunchPlan, slot: Slot) -> ReplicaPlan:
    for replica in plan.replicas:
        if replica.role == slot.role and replica.index == slot.index:
            return replica
    raise InvalidInput(f"The run's plan has no replica {slot.name}.")


def _role_replicas(plan: LaunchPlan, role: str) -> list[ReplicaPlan]:
    replicas = [_replica(plan, s) for s in slots(plan.roles) if s.role == role]
    first = replicas[0]
    for other in replicas[1:]:
        if other.argv != first.argv or other.resources != first.resources:
            raise InvalidInput(
                f"Replicas of role {role!r} differ in command or resources: Kubernetes runs "
                "a role's replicas from one pod template."
            )
    return replicas


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
    files: list[tuple[str, str, int, bytes]]
    git: tuple[str, str] | None

    @property
    def files_secret(self) -> str | None:
        return f"{self.layout.base}-files" if self.files else None


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
    _check_env(plan.env, "environment")
    layout = make_layout(plan, settings)
    labels = run_labels(plan, settings)
    run = _Run(
        plan=plan,
        settings=settings,
        layout=layout,
        image=image,
        labels=labels,
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
        manifests.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": layout.namespace,
                    "labels": {**base_labels(settings), LABEL_TEAM: label_value(plan.team)},
                },
            }
        )
    manifests.extend(_secrets(run))
    if layout.service:
        manifests.append(_service(run))
    if layout.kind in (LAYOUT_PYTORCHJOB, LAYOUT_TFJOB):
        manifests.append(_kubeflow_job(run))
    else:
        for role in plan.roles:
            manifests.append(_job(run, role))
    return manifests


def _metadata(run: _Run, name: str, role: str | None = None, **extra: Any) -> dict[str, Any]:
    labels = dict(run.labels)
    if role is not None:
        labels[LABEL_ROLE] = label_value(role)
    return {"name": name, "namespace": run.layout.namespace, "labels": labels, **extra}


def _secrets(run: _Run) -> list[dict[str, Any]]:
    out = []
    if run.env_secret:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _metadata(run, run.env_secret),
                "type": "Opaque",
                "data": {
                    k: base64.b64encode(str(v).encode()).decode("ascii")
                    for k, v in run.plan.env.items()
                },
            }
        )
    if run.files_secret:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": _metadata(run, run.files_secret),
                "type": "Opaque",
                "data": {
                    key: base64.b64encode(content).decode("ascii")
                    for key, _, _, content in run.files
                },
            }
        )
    return out


def _service(run: _Run) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "clusterIP": "None",
        "selector": {k: run.labels[k] for k in (LABEL_MANAGED_BY, LABEL_INSTANCE, LABEL_RUN)},
        # replicas resolve each other before they are ready
        "publishNotReadyAddresses": True,
    }
    if run.layout.port:
        port = run.layout.port
        spec["ports"] = [{"name": "replica", "port": port, "targetPort": port, "protocol": "TCP"}]
    assert run.layout.service is not None
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(run, run.layout.service),
        "spec": spec,
    }


def _pod_template(run: _Run, role: str, container_name: str) -> dict[str, Any]:
    plan, settings, layout = run.plan, run.settings, run.layout
    replicas = _role_replicas(plan, role)
    first = replicas[0]
    resources = container_resources(first.resources, settings.gpu_resource_name)
    env = role_env(plan, layout, role)
    argv = list(first.argv)
    if env.exports and not argv:
        raise InvalidInput(f"Role {role!r} has no command to run.")
    command = ["/bin/sh", "-c", prelude(role, env.exports), "submarine-replica", *argv]
    container: dict[str, Any] = {"name": container_name, "image": run.image}
    if env.exports:
        container["command"] = [kube_escape(a) for a in command]
    elif argv:
        container["command"] = [kube_escape(a) for a in argv]
    static = dict(env.static)
    # a place for the run's outputs, as the local backend gives one (gone with the pod)
    static.setdefault(ARTIFACTS_DIR_ENV, settings.artifacts_dir)
    mounts: list[dict[str, Any]] = [{"name": ARTIFACTS_VOLUME, "mountPath": settings.artifacts_dir}]
    volumes: list[dict[str, Any]] = [{"name": ARTIFACTS_VOLUME, "emptyDir": {}}]
    init: list[dict[str, Any]] = []
    if run.files_secret:
        static.setdefault(CREDENTIALS_DIR_ENV, settings.credentials_mount_path)
        volumes.append(
            {
                "name": CREDENTIALS_VOLUME,
                "secret": {
                    "secretName": run.files_secret,
                    "defaultMode": 0o400,
                    "items": [
                        {"key": key, "path": path, "mode": mode} for key, path, mode, _ in run.files
                    ],
                },
            }
        )
        mounts.append(
            {
                "name": CREDENTIALS_VOLUME,
                "mountPath": settings.credentials_mount_path,
                "readOnly": True,
            }
        )
    if run.git:
        volumes.append({"name": CODE_VOLUME, "emptyDir": {}})
        mounts.append({"name": CODE_VOLUME, "mountPath": settings.working_dir})
        container["workingDir"] = settings.working_dir
        git_resources = container_resources(
            Resources(cpu=first.resources.cpu, memory=first.resources.memory),
            settings.gpu_resource_name,
        )
        init.append(git_init_container(run.git, settings, git_resources))
    env_list: list[dict[str, Any]] = []
    if env.index_from:
        env_list.append(
            {"name": INDEX_ENV, "valueFrom": {"fieldRef": {"fieldPath": env.index_from}}}
        )
    env_list.extend(_env_list(static))
    if env_list:
        container["env"] = env_list
    if run.env_secret:
        container["envFrom"] = [{"secretRef": {"name": run.env_secret}}]
    if resources:
        container["resources"] = resources
    if mounts:
        container["volumeMounts"] = mounts
    kubeflow = KUBEFLOW.get(plan.framework)
    if layout.kind in (LAYOUT_PYTORCHJOB, LAYOUT_TFJOB) and kubeflow is not None:
        container["ports"] = [
            {"name": kubeflow.port_name, "containerPort": layout.port, "protocol": "TCP"}
        ]
    if settings.image_pull_policy:
        container["imagePullPolicy"] = settings.image_pull_policy
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "containers": [container],
        # the service links' variables are not on any other backend
        "enableServiceLinks": False,
        "automountServiceAccountToken": bool(settings.service_account),
    }
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    if layout.service:
        spec["subdomain"] = layout.service
    if settings.service_account:
        spec["serviceAccountName"] = settings.service_account
    if settings.image_pull_secrets:
        spec["imagePullSecrets"] = [{"name": n} for n in settings.image_pull_secrets]
    if settings.node_selector:
        spec["nodeSelector"] = dict(settings.node_selector)
    if settings.tolerations:
        spec["tolerations"] = [dict(t) for t in settings.tolerations]
    if settings.fs_group is not None:
        spec["securityContext"] = {"fsGroup": settings.fs_group}
    labels = {**run.labels, LABEL_ROLE: label_value(role)}
    return {"metadata": {"labels": labels}, "spec": spec}


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
        "metadata": _metadata(
            run, layout.job_name(role), role=role, annotations=dict(run.annotations)
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
        "metadata": _metadata(run, run.layout.base, annotations=dict(run.annotations)),
        "spec": {"runPolicy": policy, kubeflow.specs_field: specs},
    }


# --- from objects back to a state ----------------------------------------------------


def _epoch(value: Any) -> float | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _labels(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return _meta(obj).get("labels") or {}


def _annotations(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return _meta(obj).get("annotations") or {}


@dataclass
class ObjectState:
    status: str
    reason: str = ""
    started_at: float | None = None
    finished_at: float | None = None


def _true_conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    return {
        c["type"]: c
        for c in status.get("conditions") or []
        if c.get("type") and str(c.get("status")) == "True"
    }


def _condition_reason(condition: Mapping[str, Any]) -> str:
    reason, message = condition.get("reason") or "", condition.get("message") or ""
    return f"{reason}: {message}" if reason and message else reason or message


def job_state(job: Mapping[str, Any]) -> ObjectState:
    """A ``batch/v1`` Job's state from its conditions and counters."""
    status = job.get("status") or {}
    conditions = _true_conditions(status)
    started = _epoch(status.get("startTime"))
    for kind in ("Failed", "FailureTarget"):
        if kind in conditions:
            c = conditions[kind]
            return ObjectState(
                FAILED, _condition_reason(c), started, _epoch(c.get("lastTransitionTime"))
            )
    for kind in ("Complete", "SuccessCriteriaMet"):
        if kind in conditions:
            finished = _epoch(status.get("completionTime")) or _epoch(
                conditions[kind].get("lastTransitionTime")
            )
            return ObjectState(SUCCEEDED, "", started, finished)
    if status.get("ready") or status.get("succeeded"):
        return ObjectState(RUNNING, "", started)
    return ObjectState(PENDING, "", started)


def kubeflow_state(obj: Mapping[str, Any]) -> ObjectState:
    """A ``PyTorchJob``/``TFJob``'s state from the Training Operator's conditions."""
    status = obj.get("status") or {}
    conditions = _true_conditions(status)
    started = _epoch(status.get("startTime"))
    for kind, state in (("Failed", FAILED), ("Succeeded", SUCCEEDED)):
        if kind in conditions:
            c = conditions[kind]
            finished = _epoch(status.get("completionTime")) or _epoch(c.get("lastTransitionTime"))
            return ObjectState(
                state, _condition_reason(c) if state == FAILED else "", started, finished
            )
    if "Running" in conditions or "Restarting" in conditions:
        return ObjectState(RUNNING, "", started)
    suspended = conditions.get("Suspended")
    return ObjectState(PENDING, _condition_reason(suspended) if suspended else "", started)


def object_state(obj: Mapping[str, Any]) -> ObjectState:
    return kubeflow_state(obj) if obj.get("kind") in KUBEFLOW_KINDS else job_state(obj)


def _pod_slot(pod: Mapping[str, Any]) -> tuple[str, int] | None:
    labels, annotations = _labels(pod), _annotations(pod)
    role = labels.get(LABEL_ROLE)
    if not role:
        return None
    index = (
        annotations.get(COMPLETION_INDEX)
        or labels.get(COMPLETION_INDEX)
        or labels.get(KUBEFLOW_INDEX)
        or "0"
    )
    try:
        return role, int(index)
    except ValueError:
        return None


def _main_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for s in statuses:
        if s.get("name") in MAIN_CONTAINERS:
            return s
    return statuses[0] if statuses else {}


@dataclass
class _PodInfo:
    status: str
    exit_code: int | None = None
    reason: str = ""


def pod_info(pod: Mapping[str, Any]) -> _PodInfo:
    """A replica's status, exit code and what holds it or ended it, from its pod."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    main = _main_status(pod)
    state = main.get("state") or {}
    terminated = state.get("terminated")
    exit_code = terminated.get("exitCode") if terminated else None
    reason = ""
    for init in status.get("initContainerStatuses") or []:
        init_state = init.get("state") or {}
        term = init_state.get("terminated")
        if term and term.get("exitCode"):
            reason = f"init container {init.get('name')} failed: exit code {term['exitCode']}"
            if term.get("message"):
                reason += f" ({term['message'].strip()[:200]})"
        elif init_state.get("waiting", {}).get("reason") not in (None, "PodInitializing"):
            reason = _waiting_reason(init_state["waiting"])
    if terminated and (terminated.get("reason") not in (None, "Completed", "Error")):
        reason = reason or str(terminated["reason"])
    if state.get("waiting") and state["waiting"].get("reason") not in (None, "ContainerCreating"):
        reason = reason or _waiting_reason(state["waiting"])
    if not reason and phase == "Pending":
        for c in status.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                reason = _condition_reason(c)
    if phase == "Failed" and not reason:
        reason = status.get("reason") or ""
    mapped = {
        "Pending": PENDING,
        "Running": RUNNING,
        "Succeeded": SUCCEEDED,
        "Failed": FAILED,
    }.get(phase, PENDING)
    return _PodInfo(mapped, exit_code, reason)


def _waiting_reason(waiting: Mapping[str, Any]) -> str:
    reason, message = waiting.get("reason") or "", (waiting.get("message") or "").strip()
    return f"{reason}: {message[:200]}" if message else reason


def _decisive_roles(framework: str, roles: Mapping[str, int]) -> list[str]:
    """The roles whose success is the run's: TensorFlow's chief (else its workers)."""
    if framework == "tensorflow":
        for role in ("chief", "worker"):
            if role in roles:
                return [role]
    return list(roles)


def _latest_pods(pods: list[Mapping[str, Any]]) -> dict[tuple[str, int], Mapping[str, Any]]:
    latest: dict[tuple[str, int], Mapping[str, Any]] = {}
    for pod in sorted(pods, key=lambda p: _meta(p).get("creationTimestamp") or ""):
        slot = _pod_slot(pod)
        if slot is not None:
            latest[slot] = pod
    return latest


def _prepare_pod(
    pods: list[Mapping[str, Any]], replica_names: list[str]
) -> Mapping[str, Any] | None:
    """The pod of the first replica (in rank order) that clones the run's code."""
    latest = _latest_pods(pods)
    for name in replica_names:
        role, _, index = name.rpartition("-")
        pod = latest.get((role, int(index))) if index.isdigit() else None
        inits = ((pod or {}).get("spec") or {}).get("initContainers") or []
        if pod is not None and any(c.get("name") == GIT_CONTAINER for c in inits):
            return pod
    return None


def run_state(objects: list[Mapping[str, Any]], pods: list[Mapping[str, Any]]) -> RunState | None:
    """The run's state from its Jobs (or Kubeflow job) and pods; ``None`` without any Job.

    - ``killed``: a Job carries ``submarine-hub/killed-at`` (or is being deleted) and
      the run had not ended before;
    - ``failed``: a Job failed (timeout, a replica's non-zero exit...); the exit code
      and reason of the first failed replica (in rank order) when the pods tell;
    - ``succeeded``: every Job succeeded (TensorFlow: the chief's, else the workers');
    - ``running``: a replica runs; else ``pending``, with what holds it (an image
      that cannot be pulled, a pod that cannot be scheduled...).
    """
    primaries = [o for o in objects if o.get("kind") in PRIMARY_KINDS]
    if not primaries:
        return None
    annotations = _annotations(primaries[0])
    try:
        roles: dict[str, int] = json.loads(annotations.get(ANNOTATION_ROLES) or "{}")
    except ValueError:
        roles = {}
    if not roles:
        roles = {_labels(o).get(LABEL_ROLE) or "main": 1 for o in primaries}
    framework = annotations.get(ANNOTATION_FRAMEWORK) or "none"

    latest = _latest_pods(pods)
    infos = {slot: pod_info(pod) for slot, pod in latest.items()}
    order = [(s.role, s.index) for s in slots(roles)]

    if primaries[0].get("kind") in KUBEFLOW_KINDS or (len(primaries) == 1 and len(roles) == 1):
        overall = object_state(primaries[0])
    else:
        by_role = {_labels(o).get(LABEL_ROLE): object_state(o) for o in primaries}
        overall = _combine(by_role, roles, framework)
    if overall.status == PENDING and any(i.status == RUNNING for i in infos.values()):
        overall.status = RUNNING

    kills = [_epoch_or_float(_annotations(o).get(ANNOTATION_KILLED)) for o in primaries]
    killed_at = min((k for k in kills if k is not None), default=None)
    deleting = any(_meta(o).get("deletionTimestamp") for o in primaries)
    ended_before = overall.status in (SUCCEEDED, FAILED) and (
        killed_at is None or (overall.finished_at or 0) <= killed_at
    )
    state = RunState(
        status=overall.status,
        reason=overall.reason,
        started_at=overall.started_at,
        finished_at=overall.finished_at,
    )
    if (killed_at is not None or deleting) and not ended_before:
        state.status = KILLED
        state.reason = "killed" if killed_at is not None else "deleted in Kubernetes"
        state.finished_at = killed_at or state.finished_at or time.time()
    elif state.status == SUCCEEDED:
        state.exit_code = 0
    elif state.status == FAILED:
        for slot in order:
            info = infos.get(slot)
            if info and info.exit_code:
                state.exit_code = info.exit_code
                what = f"{slot[0]}-{slot[1]} exited with code {info.exit_code}"
                state.reason = f"{what} ({info.reason})" if info.reason else what
                break
        else:
            failed = next((s for s in order if infos.get(s) and infos[s].reason), None)
            if failed is not None:  # what the pod says beats the Job's BackoffLimitExceeded
                state.reason = f"{failed[0]}-{failed[1]}: {infos[failed].reason}"
    elif state.status == PENDING and not state.reason:
        held = next((s for s in order if infos.get(s) and infos[s].reason), None)
        if held is not None:
            state.reason = f"{held[0]}-{held[1]}: {infos[held].reason}"

    for role, index in order:
        info = infos.get((role, index))
        if info is None:
            status = state.status if state.final else PENDING
            state.replicas.append(ReplicaState(f"{role}-{index}", status))
        else:
            state.replicas.append(ReplicaState(f"{role}-{index}", info.status, info.exit_code))
    return state


def _epoch_or_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return _epoch(value)


def _combine(
    by_role: Mapping[str | None, ObjectState], roles: Mapping[str, int], framework: str
) -> ObjectState:
    """One indexed Job per role: the run's state from theirs."""
    states = [by_role[r] for r in roles if r in by_role]
    started = min((s.started_at for s in states if s.started_at), default=None)
    failed = [s for s in states if s.status == FAILED]
    if failed:
        first = min(failed, key=lambda s: s.finished_at or math.inf)
        return ObjectState(FAILED, first.reason, started, first.finished_at)
    decisive = [by_role.get(r) for r in _decisive_roles(framework, roles)]
    if decisive and all(s is not None and s.status == SUCCEEDED for s in decisive):
        finished = max((s.finished_at or 0 for s in decisive if s), default=0) or None
        return ObjectState(SUCCEEDED, "", started, finished)
    if any(s.status in (RUNNING, SUCCEEDED) for s in states):
        return ObjectState(RUNNING, "", started)
    return ObjectState(PENDING, "", started)


# --- talking to the cluster ----------------------------------------------------------


class KubeApi(Protocol):
    """The few API calls the backend makes, on plain dicts (objects carry ``kind``)."""

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]: ...

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None: ...

    async def patch(
        self, kind: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]: ...

    async def delete(self, kind: str, namespace: str, name: str, propagation: str) -> None: ...

    async def list(
        self, kind: str, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]: ...

    def watch(
        self, kind: str, namespace: str | None, label_selector: str, resource_version: str
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]: ...

    async def pod_log(
        self, namespace: str, pod: str, container: str, limit_bytes: int
    ) -> bytes: ...

    async def api_resources(self, group: str, version: str) -> set[str] | None: ...

    async def close(self) -> None: ...


_CORE_KINDS = {
    "Namespace": "namespace",
    "Secret": "namespaced_secret",
    "Service": "namespaced_service",
    "Pod": "namespaced_pod",
}


class ClusterApi:
    """:class:`KubeApi` over ``kubernetes_asyncio``.

    Responses are read as JSON, not as the client's models: objects keep every field
    the API server sends (newer than the client, or of CRDs), and nothing is refused by
    the models' own validation.
    """

    def __init__(self, api_client: Any) -> None:
        from kubernetes_asyncio import client

        self.api_client = api_client
        self.core = client.CoreV1Api(api_client)
        self.batch = client.BatchV1Api(api_client)
        self.custom = client.CustomObjectsApi(api_client)

    @classmethod
    async def connect(cls, kubeconfig: str = "") -> ClusterApi:
        """In-cluster credentials, else ``kubeconfig`` (``$KUBECONFIG``, ``~/.kube/config``)."""
        from .cluster import api_client

        return cls(await api_client(kubeconfig))

    async def _json(self, request: Any, kind: str) -> dict[str, Any]:
        data = json.loads(await read_body(request) or b"{}")
        data.setdefault("kind", kind)
        return data

    def _call(self, verb: str, kind: str, *args: Any, **kwargs: Any) -> Any:
        kwargs["_preload_content"] = False
        if kind in KUBEFLOW_KINDS:
            method = getattr(self.custom, f"{verb}_namespaced_custom_object")
            plural = KUBEFLOW_KINDS[kind].plural
            namespace, *rest = args
            return method(KUBEFLOW_GROUP, KUBEFLOW_VERSION, namespace, plural, *rest, **kwargs)
        if kind == "Namespace":
            return getattr(self.core, f"{verb}_namespace")(*args[1:], **kwargs)
        api = self.batch if kind == "Job" else self.core
        snake = {"Job": "job", "Secret": "secret", "Service": "service", "Pod": "pod"}[kind]
        method = getattr(api, f"{verb}_namespaced_{snake}")
        if verb == "create":
            return method(*args, **kwargs)  # (namespace, body)
        namespace, name, *rest = args
        return method(name, namespace, *rest, **kwargs)

    async def create(self, manifest: dict[str, Any]) -> dict[str, Any]:
        kind = manifest["kind"]
        namespace = manifest["metadata"].get("namespace", "")
        return await self._json(self._call("create", kind, namespace, manifest), kind)

    async def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        verb = "get" if kind in KUBEFLOW_KINDS else "read"
        try:
            return await self._json(self._call(verb, kind, namespace, name), kind)
        except ApiException as e:
            if e.status == 404:
                return None
            raise

    async def patch(
        self, kind: str, namespace: str, name: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        request = self._call(
            "patch", kind, namespace, name, body, _content_type="application/merge-patch+json"
        )
        return await self._json(request, kind)

    async def delete(self, kind: str, namespace: str, name: str, propagation: str) -> None:
        try:
            await read_body(
                self._call("delete", kind, namespace, name, propagation_policy=propagation)
            )
        except ApiException as e:
            if e.status != 404:
                raise

    def _list_call(self, kind: str, namespace: str | None) -> tuple[Callable[..., Any], tuple]:
        if kind in KUBEFLOW_KINDS:
            plural = KUBEFLOW_KINDS[kind].plural
            if namespace:
                return self.custom.list_namespaced_custom_object, (
                    KUBEFLOW_GROUP,
                    KUBEFLOW_VERSION,
                    namespace,
                    plural,
                )
            return self.custom.list_custom_object_for_all_namespaces, (
                KUBEFLOW_GROUP,
                KUBEFLOW_VERSION,
                plural,
            )
        api = self.batch if kind == "Job" else self.core
        snake = "job" if kind == "Job" else kind.lower()
        if namespace:
            return getattr(api, f"list_namespaced_{snake}"), (namespace,)
        return getattr(api, f"list_{snake}_for_all_namespaces"), ()

    async def list(
        self, kind: str, namespace: str | None, label_selector: str
    ) -> tuple[list[dict[str, Any]], str]:
        call, args = self._list_call(kind, namespace)
        request = call(*args, label_selector=label_selector, _preload_content=False)
        data = await self._json(request, kind + "List")
        items = [dict(item, kind=kind) for item in data.get("items") or []]
        return items, (data.get("metadata") or {}).get("resourceVersion") or ""

    async def watch(
        self, kind: str, namespace: str | None, label_selector: str, resource_version: str
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        from kubernetes_asyncio import watch

        call, args = self._list_call(kind, namespace)
        async with watch.Watch(return_type="object") as w:
            stream = w.stream(
                call,
                *args,
                label_selector=label_selector,
                resource_version=resource_version,
                allow_watch_bookmarks=True,
                timeout_seconds=300,
            )
            async for event in stream:
                obj = event["raw_object"]
                if isinstance(obj, dict):
                    obj.setdefault("kind", kind)
                yield event["type"], obj

    async def pod_log(self, namespace: str, pod: str, container: str, limit_bytes: int) -> bytes:
        request = self.core.read_namespaced_pod_log(
            pod, namespace, container=container, limit_bytes=limit_bytes, _preload_content=False
        )
        try:
            return await read_body(request)
        except ApiException as e:
            if e.status in (400, 404):  # gone, or not started yet
                return b""
            raise

    async def api_resources(self, group: str, version: str) -> set[str] | None:
        try:
            data = await self._json(
                self.custom.get_api_resources(group, version, _preload_content=False),
                "APIResourceList",
            )
        except ApiException as e:
            if e.status == 404:
                return None
            raise
        return {r.get("name") for r in data.get("resources") or []}

    async def close(self) -> None:
        await self.api_client.close()


def api_error(e: ApiException, doing: str) -> SubmarineError:
    """A refusal from the API server as the platform's error, with the server's message."""
    message = e.reason or ""
    with contextlib.suppress(TypeError, ValueError, AttributeError):
        message = json.loads(e.body).get("message") or message
    text = f"Kubernetes refused to {doing}: {message}".rstrip(": ")
    if e.status in (400, 422):
        return InvalidInput(text)
    if e.status == 403:
        return Forbidden(text)
    if e.status == 409:
        return Conflict(text)
    return Unavailable(text)


# --- the watch cache -----------------------------------------------------------------


class _Cache:
    """The run objects and pods the watches saw, by run id."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.by_run: dict[str, set[tuple[str, str, str]]] = collections.defaultdict(set)
        self.synced: set[str] = set()

    @staticmethod
    def _key(kind: str, obj: Mapping[str, Any]) -> tuple[str, str, str]:
        meta = _meta(obj)
        return kind, meta.get("namespace") or "", meta.get("name") or ""

    def _drop(self, key: tuple[str, str, str]) -> None:
        obj = self.objects.pop(key, None)
        if obj is not None:
            run = _labels(obj).get(LABEL_RUN)
            if run in self.by_run:
                self.by_run[run].discard(key)
                if not self.by_run[run]:
                    del self.by_run[run]

    def reset(self, kind: str, items: list[dict[str, Any]]) -> None:
        for key in [k for k in self.objects if k[0] == kind]:
            self._drop(key)
        for item in items:
            self.apply(kind, "ADDED", item)
        self.synced.add(kind)

    def apply(self, kind: str, event: str, obj: dict[str, Any]) -> None:
        key = self._key(kind, obj)
        self._drop(key)
        if event != "DELETED":
            self.objects[key] = obj
            run = _labels(obj).get(LABEL_RUN)
            if run:
                self.by_run[run].add(key)

    def run(self, run_id: int) -> list[dict[str, Any]]:
        return [self.objects[k] for k in self.by_run.get(str(run_id), ())]


# --- the backend ---------------------------------------------------------------------


class KubeExperimentBackend(ExperimentBackend):
    """Run experiments as Kubernetes Jobs, or Kubeflow ``PyTorchJob``/``TFJob``.

    Configure it as ``c.KubeExperimentBackend.*``. It talks to the cluster it runs in
    (in-cluster service account), else to ``kubeconfig`` / ``$KUBECONFIG``. Its
    service account needs, in the run namespaces: create/get/list/watch/patch/delete
    on ``jobs``, ``services``, ``secrets`` (and ``pytorchjobs``/``tfjobs`` of
    ``kubeflow.org`` with the Training Operator), get/list/watch on ``pods`` and get on
    ``pods/log``; with ``namespace_template``, create on ``namespaces`` and the rest
    cluster-wide.
    """

    name = "kubernetes"

    kubeconfig = Unicode(
        "",
        help="""A kubeconfig file to reach the cluster. Empty: the in-cluster service
        account when running in a pod, else $KUBECONFIG or ~/.kube/config.""",
    ).tag(config=True)

    namespace = Unicode(
        "",
        help="""The namespace runs go to (without ``namespace_template``). Empty: the
        namespace this service runs in, else ``default``.""",
    ).tag(config=True)

    namespace_template = Unicode(
        "",
        help="""A namespace per team, like ``submarine-{team}``: ``{team}`` is the team's
        name made a Kubernetes name as ``submarine-kube`` sessions do, so a team's
        sessions and runs can share a namespace. Created when missing. Empty: every run
        goes to ``namespace``.""",
    ).tag(config=True)

    instance = Unicode(
        "default",
        help="""Told apart by the label ``submarine-hub/instance``: give each platform
        sharing a cluster its own value (and its own namespaces or ``name_prefix``).""",
    ).tag(config=True)

    name_prefix = Unicode(
        "sub", help="Objects of run 7 named 'My run' are named ``<name_prefix>-7-my-run``."
    ).tag(config=True)

    default_image = Unicode(
        "",
        help="""The container image of runs whose environment profile names none. Empty:
        such runs are refused with a message saying so.""",
    ).tag(config=True)

    image_pull_policy = Enum(
        ["Always", "IfNotPresent", "Never"],
        default_value=None,
        allow_none=True,
        help="imagePullPolicy of the run's containers; None: Kubernetes' default.",
    ).tag(config=True)

    image_pull_secrets = List(
        Unicode(), help="Names of Secrets in the run namespace to pull images with."
    ).tag(config=True)

    service_account = Unicode(
        "",
        help="""The service account of run pods. Empty: the namespace's default, and no
        API token is mounted into the pods.""",
    ).tag(config=True)

    gpu_resource_name = Unicode(
        "nvidia.com/gpu",
        help="The extended resource GPUs are requested as (e.g. ``amd.com/gpu``).",
    ).tag(config=True)

    ttl_seconds_after_finished = Int(
        86400,
        allow_none=True,
        help="""Kubernetes deletes a finished run's objects (Jobs, pods and their logs,
        Secrets, Service) after this many seconds. None: never.""",
    ).tag(config=True)

    use_training_operator = Union(
        [Enum(["auto", "true", "false"]), Bool()],
        default_value="auto",
        help="""Run distributed PyTorch/TensorFlow runs as Kubeflow ``PyTorchJob`` /
        ``TFJob``: ``auto`` when the cluster serves those kinds (checked once, at start),
        ``true`` always, ``false`` never (indexed Jobs and a headless Service instead).""",
    ).tag(config=True)

    node_selector = Dict(
        value_trait=Unicode(), help="nodeSelector of every run pod (e.g. a node pool)."
    ).tag(config=True)

    tolerations = List(
        Dict(),
        help="tolerations of every run pod, as Kubernetes writes them (e.g. for GPU nodes).",
    ).tag(config=True)

    working_dir = Unicode(
        "/workspace", help="Where the run's code (git) is cloned, and its working directory."
    ).tag(config=True)

    git_image = Unicode(
        "alpine/git:2.45.2", help="The image of the init container cloning a run's git code."
    ).tag(config=True)

    credentials_mount_path = Unicode(
        "/etc/submarine/credentials",
        help="""Where credential files are mounted, read-only; the run finds it in
        $SUBMARINE_CREDENTIALS_DIR.""",
    ).tag(config=True)

    artifacts_dir = Unicode(
        "/submarine/artifacts",
        help="""An empty folder in every pod for the run's outputs ($SUBMARINE_ARTIFACTS_DIR),
        gone with the pod.""",
    ).tag(config=True)

    fs_group = Int(
        None,
        allow_none=True,
        help="""The pods' fsGroup: lets a non-root image read the credential files.""",
    ).tag(config=True)

    pytorch_port = Int(23456, help="The PyTorch rendezvous port (MASTER_PORT).").tag(config=True)

    tensorflow_port = Int(2222, help="The port of TensorFlow's servers (TF_CONFIG).").tag(
        config=True
    )

    kill_propagation_policy = Enum(
        ["Foreground", "Background"],
        default_value="Foreground",
        help="""How kill deletes a run's Jobs: ``Foreground`` keeps the Job, marked killed,
        until its pods are gone; ``Background`` removes it at once.""",
    ).tag(config=True)

    watch = Bool(
        True,
        help="""Keep the states of runs current with a watch of their objects and pods.
        Off: every state() reads the cluster.""",
    ).tag(config=True)

    @validate("namespace_template")
    def _check_namespace_template(self, proposal: Any) -> str:
        value = proposal["value"]
        if value:
            try:
                value.format(team="team")
            except (KeyError, IndexError, ValueError) as e:
                raise TraitError(f"namespace_template {value!r}: only {{team}} can be used.") from e
        return value

    @validate("name_prefix")
    def _check_prefix(self, proposal: Any) -> str:
        if not _PREFIX.match(proposal["value"]):
            raise TraitError(
                "name_prefix must be 1-20 lowercase letters, digits or '-', starting with a letter."
            )
        return proposal["value"]

    @validate("working_dir", "credentials_mount_path", "artifacts_dir")
    def _absolute(self, proposal: Any) -> str:
        if not str(proposal["value"]).startswith("/"):
            raise TraitError(f"{proposal['trait'].name} must be an absolute path.")
        return proposal["value"]

    def __init__(self, *, api: KubeApi | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api = api
        self._started = False
        self._start_lock = asyncio.Lock()
        self._operator: frozenset[str] = frozenset()
        self._cache = _Cache()
        self._tasks: list[asyncio.Task[None]] = []
        self._namespaces: dict[int, str] = {}  # run -> namespace, for runs launched here
        self._killed: dict[int, float] = {}
        self._final: collections.OrderedDict[int, RunState] = collections.OrderedDict()

    # -- configuration --

    def _own_namespace(self) -> str:
        path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        with contextlib.suppress(OSError):
            with open(path) as f:
                return f.read().strip() or "default"
        return "default"

    def _operator_mode(self) -> str:
        value = self.use_training_operator
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def settings(self) -> RenderSettings:
        """The rendering settings from this backend's traits (and what start() found)."""
        operator = {
            "true": frozenset(KUBEFLOW),
            "false": frozenset(),
        }.get(self._operator_mode(), self._operator)
        return RenderSettings(
            namespace=self.namespace or self._own_namespace(),
            namespace_template=self.namespace_template,
            instance=self.instance,
            name_prefix=self.name_prefix,
            default_image=self.default_image,
            image_pull_policy=self.image_pull_policy,
            image_pull_secrets=tuple(self.image_pull_secrets),
            service_account=self.service_account,
            gpu_resource_name=self.gpu_resource_name,
            ttl_seconds_after_finished=self.ttl_seconds_after_finished,
            training_operator=operator,
            node_selector=dict(self.node_selector),
            tolerations=tuple(self.tolerations),
            working_dir=self.working_dir,
            git_image=self.git_image,
            credentials_mount_path=self.credentials_mount_path,
            artifacts_dir=self.artifacts_dir,
            fs_group=self.fs_group,
            pytorch_port=self.pytorch_port,
            tensorflow_port=self.tensorflow_port,
        )

    def render(self, plan: LaunchPlan) -> list[dict[str, Any]]:
        return render(plan, self.settings())

    def capacity(self) -> int | None:
        return None  # the cluster's scheduler and quotas decide

    # -- start and stop --

    @property
    def api(self) -> KubeApi:
        assert self._api is not None, "start() first"
        return self._api

    async def start(self) -> None:
        """Connect, find the Training Operator's kinds, start the watches (once)."""
        async with self._start_lock:
            if self._started:
                return
            if self._api is None:
                self._api = await ClusterApi.connect(self.kubeconfig)
            if self._operator_mode() == "auto":
                self._operator = await self._discover_operator()
            self._started = True
            if self.watch:
                for kind in self._watched_kinds():
                    self._tasks.append(asyncio.create_task(self._watch_kind(kind)))

    async def _discover_operator(self) -> frozenset[str]:
        try:
            resources = await self.api.api_resources(KUBEFLOW_GROUP, KUBEFLOW_VERSION)
        except Exception as e:  # discovery refused or failing: run without the operator
            self.log.warning("Could not look for Kubeflow's Training Operator: %s", e)
            return frozenset()
        found = frozenset(f for f, k in KUBEFLOW.items() if k.plural in (resources or ()))
        self.log.info(
            "Kubeflow Training Operator kinds: %s",
            ", ".join(KUBEFLOW[f].kind for f in sorted(found)) or "none",
        )
        return found

    def _primary_kinds(self) -> list[str]:
        return ["Job", *(KUBEFLOW[f].kind for f in sorted(self.settings().training_operator))]

    def _watched_kinds(self) -> list[str]:
        return [*self._primary_kinds(), "Pod"]

    def _scope(self, run_id: int | None = None) -> str | None:
        """The namespace to list in; ``None``: every namespace (one per team)."""
        if not self.namespace_template:
            return self.namespace or self._own_namespace()
        if run_id is not None:
            return self._namespaces.get(run_id)
        return None

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._api is not None:
            await self._api.close()
        self._started = False

    async def _watch_kind(self, kind: str) -> None:
        """List, then watch from the list's resourceVersion; resume, relist on 410 Gone."""
        sel = selector(self.settings())
        delay = 1.0
        while True:
            try:
                items, version = await self.api.list(kind, self._scope(), sel)
                self._cache.reset(kind, items)
                delay = 1.0
                while True:
                    async for event, obj in self.api.watch(kind, self._scope(), sel, version):
                        version = _meta(obj).get("resourceVersion") or version
                        if event in ("ADDED", "MODIFIED", "DELETED"):
                            self._cache.apply(kind, event, obj)
            except asyncio.CancelledError:
                raise
            except ApiException as e:
                self._cache.synced.discard(kind)
                if e.status == 410:  # our resourceVersion is too old: list again
                    continue
                self.log.warning("Watching %s failed (%s); again in %.0fs", kind, e, delay)
            except Exception as e:
                self._cache.synced.discard(kind)
                self.log.warning("Watching %s failed (%s); again in %.0fs", kind, e, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 60.0)

    # -- reading a run --

    async def _read(self, run_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The run's objects and pods, from the cache if it holds the run, else the API."""
        cached = self._cache.run(run_id)
        kinds = self._watched_kinds()
        if all(k in self._cache.synced for k in kinds) and any(
            o.get("kind") in PRIMARY_KINDS for o in cached
        ):
            return (
                [o for o in cached if o.get("kind") != "Pod"],
                [o for o in cached if o.get("kind") == "Pod"],
            )
        return await self._read_direct(run_id)

    async def _read_direct(self, run_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        sel = selector(self.settings(), run_id)
        scope = self._scope(run_id)
        objects: list[dict[str, Any]] = []
        try:
            for kind in self._primary_kinds():
                items, _ = await self.api.list(kind, scope, sel)
                objects.extend(items)
            pods, _ = await self.api.list("Pod", scope, sel) if objects else ([], "")
        except ApiException as e:
            raise api_error(e, f"read run {run_id}") from None
        return objects, pods

    async def state(self, run_id: int) -> RunState | None:
        await self.start()
        objects, pods = await self._read(run_id)
        state = run_state(objects, pods)
        killed_at = self._killed.get(run_id)
        if killed_at is not None and (
            state is None
            or not state.final
            or (state.status != KILLED and (state.finished_at or math.inf) > killed_at)
        ):
            # killed here; the cluster (or the watch) may not show it yet, or any more
            return RunState(
                KILLED,
                reason="killed",
                started_at=state.started_at if state else None,
                finished_at=killed_at,
                replicas=state.replicas if state else [],
            )
        if state is None:
            return self._final.get(run_id)
        if state.final:
            self._remember(run_id, state)
            if state.status != KILLED:
                await self._reap(objects)
        return state

    def _remember(self, run_id: int, state: RunState) -> None:
        self._final[run_id] = state
        self._final.move_to_end(run_id)
        while len(self._final) > 10000:
            self._final.popitem(last=False)

    async def _reap(self, objects: list[dict[str, Any]]) -> None:
        """A run of indexed Jobs ended: stop the Jobs still running (TensorFlow's ps...)."""
        for obj in objects:
            if obj.get("kind") != "Job" or _meta(obj).get("deletionTimestamp"):
                continue
            if job_state(obj).status in (PENDING, RUNNING):
                meta = _meta(obj)
                with contextlib.suppress(ApiException):
                    await self.api.delete("Job", meta["namespace"], meta["name"], "Background")

    async def log_names(self, run_id: int) -> list[str]:
        await self.start()
        objects, pods = await self._read(run_id)
        state = run_state(objects, pods)
        if state is None:
            return []
        names = [r.name for r in state.replicas]
        if _prepare_pod(pods, names) is not None:
            names.append(PREPARE_LOG)
        return names

    async def read_log(self, run_id: int, name: str, offset: int, limit: int) -> bytes:
        """Bytes ``offset`` to ``offset + limit`` of a log: a replica's (``worker-0``), or
        ``prepare`` (the code checkout)."""
        await self.start()
        if limit <= 0 or offset < 0:
            return b""
        objects, pods = await self._read(run_id)
        if name == PREPARE_LOG:
            state = run_state(objects, pods)
            names = [r.name for r in state.replicas] if state else []
            pod, container = _prepare_pod(pods, names), GIT_CONTAINER
        else:
            role, _, index = name.rpartition("-")
            if not role or not index.isdigit():
                return b""
            pod = _latest_pods(pods).get((role, int(index)))
            containers = [
                c.get("name") for c in ((pod or {}).get("spec") or {}).get("containers") or []
            ]
            container = next((c for c in containers if c in MAIN_CONTAINERS), None) or (
                containers[0] if containers else MAIN_CONTAINER
            )
        if pod is None:
            return b""
        meta = _meta(pod)
        try:
            data = await self.api.pod_log(
                meta["namespace"], meta["name"], container, offset + limit
            )
        except ApiException as e:
            raise api_error(e, f"read the log of {name}") from None
        return data[offset : offset + limit]

    # -- launching and killing --

    async def launch(self, plan: LaunchPlan) -> None:
        """Create the run's objects; a run launched before is left as it is."""
        await self.start()
        manifests = render(plan, self.settings())
        if plan.run_id in self._killed or plan.run_id in self._final:
            self.log.info("Run %s has run already: not launched again", plan.run_id)
            return
        namespace = next(m for m in manifests if m["kind"] != "Namespace")["metadata"]["namespace"]
        self._namespaces[plan.run_id] = namespace
        created: list[dict[str, Any]] = []
        primaries: list[dict[str, Any]] = []
        try:
            for manifest in manifests:
                obj = await self._create(plan, manifest, created)
                if manifest["kind"] in PRIMARY_KINDS:
                    primaries.append(obj)
            if any(
                _annotations(p).get(ANNOTATION_KILLED) or _meta(p).get("deletionTimestamp")
                for p in primaries
            ):  # launched before, and killed since: start nothing
                await self._undo(created)
                return
            owners = [
                {
                    "apiVersion": p.get("apiVersion") or m["apiVersion"],
                    "kind": m["kind"],
                    "name": _meta(p)["name"],
                    "uid": _meta(p)["uid"],
                }
                for p, m in zip(
                    primaries, [m for m in manifests if m["kind"] in PRIMARY_KINDS], strict=True
                )
            ]
            for manifest in manifests:
                if manifest["kind"] in ("Secret", "Service"):
                    meta = manifest["metadata"]
                    await self.api.patch(
                        manifest["kind"],
                        meta["namespace"],
                        meta["name"],
                        {"metadata": {"ownerReferences": owners}},
                    )
        except ApiException as e:
            await self._undo(created)
            raise api_error(e, f"start run {plan.run_id}") from None
        except SubmarineError:
            await self._undo(created)
            raise
        self.log.info(
            "Run %s launched in namespace %s: %s",
            plan.run_id,
            namespace,
            ", ".join(f"{m['kind']} {m['metadata']['name']}" for m in manifests),
        )

    async def _create(
        self, plan: LaunchPlan, manifest: dict[str, Any], created: list[dict[str, Any]]
    ) -> dict[str, Any]:
        kind, meta = manifest["kind"], manifest["metadata"]
        try:
            obj = await self.api.create(manifest)
        except ApiException as e:
            if e.status != 409:
                raise
            if kind == "Namespace":
                return manifest
            obj = await self.api.get(kind, meta["namespace"], meta["name"])
            if obj is None:  # deleted meanwhile (a kill, a TTL): not ours to recreate
                raise Conflict(
                    f"{kind} {meta['name']} of run {plan.run_id} existed and is gone."
                ) from None
            labels = _labels(obj)
            if labels.get(LABEL_RUN) != str(plan.run_id) or labels.get(
                LABEL_INSTANCE
            ) != label_value(self.instance):
                raise Conflict(
                    f"{kind} {meta['namespace']}/{meta['name']} exists and is not run "
                    f"{plan.run_id}'s: another platform may share the namespace (set "
                    "c.KubeExperimentBackend.name_prefix or namespace)."
                ) from None
            return obj
        if kind != "Namespace":
            created.append(manifest)
        return obj

    async def _undo(self, created: list[dict[str, Any]]) -> None:
        for manifest in reversed(created):
            meta = manifest["metadata"]
            try:
                await self.api.delete(
                    manifest["kind"], meta["namespace"], meta["name"], "Background"
                )
            except Exception as e:
                self.log.warning("Could not delete %s %s: %s", manifest["kind"], meta["name"], e)

    async def kill(self, run_id: int) -> None:
        """Mark the run's Jobs killed, then delete them (their pods, Secrets and Service)."""
        await self.start()
        objects, pods = await self._read_direct(run_id)
        state = run_state(objects, pods)
        if state is not None and state.status in (SUCCEEDED, FAILED):
            return  # it ended before: it keeps its state
        if state is None and run_id in self._final:
            return
        now = self._killed.setdefault(run_id, time.time())
        mark = {"metadata": {"annotations": {ANNOTATION_KILLED: f"{now:.3f}"}}}
        try:
            for obj in objects:
                kind, meta = obj["kind"], _meta(obj)
                if kind in PRIMARY_KINDS and not _annotations(obj).get(ANNOTATION_KILLED):
                    with contextlib.suppress(ApiException):  # 404: gone already
                        await self.api.patch(kind, meta["namespace"], meta["name"], mark)
            for obj in objects:
                kind, meta = obj["kind"], _meta(obj)
                await self.api.delete(
                    kind, meta["namespace"], meta["name"], self.kill_propagation_policy
                )
            sel = selector(self.settings(), run_id)
            for kind in ("Secret", "Service"):
                items, _ = await self.api.list(kind, self._scope(run_id), sel)
                for item in items:
                    meta = _meta(item)
                    await self.api.delete(kind, meta["namespace"], meta["name"], "Background")
        except ApiException as e:
            raise api_error(e, f"stop run {run_id}") from None
        self.log.info("Run %s killed", run_id)
