"""Where a run's replicas go on Kubernetes, what they are called, and what each is told.

A run of one replica is one Job. A distributed run is either one Kubeflow Training
Operator job (``PyTorchJob``, ``TFJob``) or one *indexed* Job per role plus a headless
Service (:class:`Layout`). Every replica gets exactly
:func:`~submarine_hub.core.experiments.distributed.replica_env` for its slot, with the
replicas' DNS names as addresses; the variables that differ between the replicas of a
role are exported by a short ``sh`` prelude that picks them by the pod's index
(:func:`role_env`, :func:`prelude`).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass

from ...core.errors import InvalidInput
from ...core.experiments.backend import LaunchPlan, ReplicaPlan
from ...core.experiments.distributed import Slot, replica_env, slots
from .manifests import check_env_names
from .names import DNS_LABEL_MAX, is_dns_label, name_slug, render_name

#: The pod index of an indexed Job, as the Job controller annotates (and labels) pods.
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
#: The replica index the Training Operator labels its pods with.
KUBEFLOW_INDEX = "training.kubeflow.org/replica-index"

LAYOUT_JOB = "job"
LAYOUT_INDEXED = "indexed"
LAYOUT_PYTORCHJOB = "pytorchjob"
LAYOUT_TFJOB = "tfjob"

#: Variables the Training Operator appends to every container besides the framework's.
OPERATOR_ENV = ("PYTHONUNBUFFERED",)
INDEX_ENV = "SUBMARINE_REPLICA_INDEX"
#: Exit status of the prelude when the pod's index is not one of its role's replicas.
PRELUDE_BAD_INDEX = 90


@dataclass(frozen=True)
class KubeflowKind:
    """A Training Operator job kind and how a framework's roles map onto it."""

    kind: str
    specs_field: str
    container: str  # the operator finds its container, and the port, by these names
    port_name: str
    replica_types: Mapping[str, str]


KUBEFLOW_API_VERSION = "kubeflow.org/v1"
KUBEFLOW: dict[str, KubeflowKind] = {
    "pytorch": KubeflowKind(
        kind="PyTorchJob",
        specs_field="pytorchReplicaSpecs",
        container="pytorch",
        port_name="pytorchjob-port",
        replica_types={"master": "Master", "worker": "Worker"},
    ),
    "tensorflow": KubeflowKind(
        kind="TFJob",
        specs_field="tfReplicaSpecs",
        container="tensorflow",
        port_name="tfjob-port",
        replica_types={"chief": "Chief", "ps": "PS", "worker": "Worker", "evaluator": "Evaluator"},
    ),
}
KUBEFLOW_KINDS = {k.kind: k for k in KUBEFLOW.values()}
#: The kinds a run's replicas run under (its "primary" objects).
PRIMARY_KINDS = ("Job", *KUBEFLOW_KINDS)


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
    def operator(self) -> bool:
        """Whether the Training Operator runs the replicas."""
        return self.kind in (LAYOUT_PYTORCHJOB, LAYOUT_TFJOB)

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


def choose_layout(plan: LaunchPlan, training_operator: frozenset[str]) -> str:
    """The layout of a run, given the frameworks the Training Operator runs."""
    if sum(plan.roles.values()) <= 1:
        return LAYOUT_JOB
    kubeflow = KUBEFLOW.get(plan.framework)
    if (
        kubeflow is not None
        and plan.framework in training_operator
        and all(role in kubeflow.replica_types for role in plan.roles)
    ):
        return LAYOUT_PYTORCHJOB if plan.framework == "pytorch" else LAYOUT_TFJOB
    return LAYOUT_INDEXED


def run_namespace(team: str, namespace: str, namespace_template: str) -> str:
    """The run's namespace: ``namespace_template`` for the team, else ``namespace``."""
    if not namespace_template:
        return namespace
    return render_name(namespace_template, team=team, trait="namespace_template", namespace=True)


def make_layout(
    plan: LaunchPlan,
    *,
    namespace: str,
    name_prefix: str,
    port: int,
    training_operator: frozenset[str],
) -> Layout:
    """Decide the run's objects and names; names are DNS-safe and short enough."""
    kind = choose_layout(plan, training_operator)
    prefix = f"{name_prefix}-{plan.run_id}"
    # room for what follows the base in the longest host name: -<role>-<last index>
    if kind == LAYOUT_JOB:
        tail = 0
    else:
        tail = max(len(f"-{role}-{n - 1}") for role, n in plan.roles.items())
    room = DNS_LABEL_MAX - tail - len(prefix) - 1
    slug = name_slug(plan.name)[: max(room, 0)].strip("-")
    base = f"{prefix}-{slug}" if slug else prefix
    layout = Layout(kind=kind, namespace=namespace, base=base, port=port, roles=dict(plan.roles))
    for host in layout.host_names():
        if not is_dns_label(host):
            raise InvalidInput(
                f"Run {plan.run_id}: {host!r} is not a valid Kubernetes name (roles must be "
                "short lowercase names)."
            )
    return layout


# --- each replica's variables --------------------------------------------------------


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
        replica = replica_of(plan, slot)
        env = {k: str(v) for k, v in replica.env.items()}
        env.update(replica_env(plan.framework, dict(plan.roles), slot, layout.address))
        if layout.operator:
            # the operator appends its own value: the prelude gives the plan's back
            env.update({k: plan.env[k] for k in OPERATOR_ENV if k in plan.env})
        check_env_names(env, f"replica {slot.name}")
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
        operator_sets_it = layout.operator and not key.startswith("SUBMARINE_")
        first = values[0]
        if first is None or len(set(values)) > 1 or operator_sets_it:
            varying.add(key)
        else:
            static[key] = first
    exports = {i: {k: v for k, v in env.items() if k in varying} for i, env in per_index.items()}
    if not varying:
        exports = {}
    return RoleEnv(static=static, exports=exports, index_from=index_from)


def replica_of(plan: LaunchPlan, slot: Slot) -> ReplicaPlan:
    """The plan's replica of ``slot``."""
    for replica in plan.replicas:
        if replica.role == slot.role and replica.index == slot.index:
            return replica
    raise InvalidInput(f"The run's plan has no replica {slot.name}.")


def role_replicas(plan: LaunchPlan, role: str) -> list[ReplicaPlan]:
    """The replicas of ``role``; they must share command and resources (one template)."""
    replicas = [replica_of(plan, s) for s in slots(plan.roles) if s.role == role]
    first = replicas[0]
    for other in replicas[1:]:
        if other.argv != first.argv or other.resources != first.resources:
            raise InvalidInput(
                f"Replicas of role {role!r} differ in command or resources: Kubernetes runs "
                "a role's replicas from one pod template."
            )
    return replicas
