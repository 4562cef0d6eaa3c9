"""A run's state from its Kubernetes objects (pure: no cluster needed).

:func:`run_state` reads the run's Jobs (``Complete``/``Failed`` conditions) or its
Training Operator job (``Created``/``Running``/``Succeeded``/``Failed``), the kill
annotation, and its pods' container statuses (exit code, ``OOMKilled``,
``ErrImagePull``...), with the readers of :mod:`.state`.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ...core.experiments.backend import (
    FAILED,
    KILLED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    ReplicaState,
    RunState,
)
from ...core.experiments.distributed import slots
from .names import ANNOTATION_FRAMEWORK, ANNOTATION_KILLED, ANNOTATION_ROLES, LABEL_ROLE
from .replicas import COMPLETION_INDEX, KUBEFLOW_INDEX, KUBEFLOW_KINDS, PRIMARY_KINDS
from .runs import GIT_CONTAINER
from .state import (
    ObjectState,
    annotations_of,
    epoch,
    job_state,
    kubeflow_state,
    labels_of,
    meta,
    pod_state,
)

Slot = tuple[str, int]  # role, index


def object_state(obj: Mapping[str, Any]) -> ObjectState:
    """The state of a run's Job or Training Operator job."""
    return kubeflow_state(obj) if obj.get("kind") in KUBEFLOW_KINDS else job_state(obj)


def pod_slot(pod: Mapping[str, Any]) -> Slot | None:
    """The replica a pod runs: its role label and its index (``None``: not a replica)."""
    labels, annotations = labels_of(pod), annotations_of(pod)
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


def latest_pods(pods: Sequence[Mapping[str, Any]]) -> dict[Slot, Mapping[str, Any]]:
    """The newest pod of each replica."""
    latest: dict[Slot, Mapping[str, Any]] = {}
    for pod in sorted(pods, key=lambda p: meta(p).get("creationTimestamp") or ""):
        slot = pod_slot(pod)
        if slot is not None:
            latest[slot] = pod
    return latest


def prepare_pod(
    pods: Sequence[Mapping[str, Any]], replica_names: list[str]
) -> Mapping[str, Any] | None:
    """The pod of the first replica (in rank order) that clones the run's code."""
    latest = latest_pods(pods)
    for name in replica_names:
        role, _, index = name.rpartition("-")
        pod = latest.get((role, int(index))) if index.isdigit() else None
        inits = ((pod or {}).get("spec") or {}).get("initContainers") or []
        if pod is not None and any(c.get("name") == GIT_CONTAINER for c in inits):
            return pod
    return None


def _decisive_roles(framework: str, roles: Mapping[str, int]) -> list[str]:
    """The roles whose success is the run's: TensorFlow's chief (else its workers)."""
    if framework == "tensorflow":
        for role in ("chief", "worker"):
            if role in roles:
                return [role]
    return list(roles)


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


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return epoch(value)


def run_state(
    objects: Sequence[Mapping[str, Any]], pods: Sequence[Mapping[str, Any]]
) -> RunState | None:
    """The run's state from its Jobs (or Kubeflow job) and pods; ``None`` without any Job.

    - ``killed``: a Job carries the kill annotation (or is being deleted) and the run
      had not ended before;
    - ``failed``: a Job failed (timeout, a replica's non-zero exit...); the exit code
      and reason of the first failed replica (in rank order) when the pods tell;
    - ``succeeded``: every Job succeeded (TensorFlow: the chief's, else the workers');
    - ``running``: a replica runs; else ``pending``, with what holds it (an image
      that cannot be pulled, a pod that cannot be scheduled...).
    """
    primaries = [o for o in objects if o.get("kind") in PRIMARY_KINDS]
    if not primaries:
        return None
    annotations = annotations_of(primaries[0])
    try:
        roles: dict[str, int] = json.loads(annotations.get(ANNOTATION_ROLES) or "{}")
    except ValueError:
        roles = {}
    if not roles:
        roles = {labels_of(o).get(LABEL_ROLE) or "main": 1 for o in primaries}
    framework = annotations.get(ANNOTATION_FRAMEWORK) or "none"

    infos = {slot: pod_state(pod) for slot, pod in latest_pods(pods).items()}
    order = [(s.role, s.index) for s in slots(roles)]

    if primaries[0].get("kind") in KUBEFLOW_KINDS or (len(primaries) == 1 and len(roles) == 1):
        overall = object_state(primaries[0])
    else:
        by_role = {labels_of(o).get(LABEL_ROLE): object_state(o) for o in primaries}
        overall = _combine(by_role, roles, framework)
    if overall.status == PENDING and any(i.status == RUNNING for i in infos.values()):
        overall.status = RUNNING

    kills = [_seconds(annotations_of(o).get(ANNOTATION_KILLED)) for o in primaries]
    killed_at = min((k for k in kills if k is not None), default=None)
    deleting = any(meta(o).get("deletionTimestamp") for o in primaries)
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
