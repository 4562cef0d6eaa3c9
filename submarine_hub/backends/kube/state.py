"""Pure readers of Kubernetes objects: what a Job, a Training Operator job, a pod or a
Deployment says about the work it runs.

They read objects as plain data (as the API server sends them, or a test writes
them), never a client's models, and never fail on a field that is missing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ...core.experiments.backend import FAILED, PENDING, RUNNING, SUCCEEDED

#: The container of a pod that the work's state is read from, by preference.
MAIN_CONTAINERS = ("main", "pytorch", "tensorflow", "server", "notebook")


def meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    """An object's ``metadata`` ({} without)."""
    return obj.get("metadata") or {}


def labels_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return meta(obj).get("labels") or {}


def annotations_of(obj: Mapping[str, Any]) -> Mapping[str, str]:
    return meta(obj).get("annotations") or {}


def epoch(value: Any) -> float | None:
    """A Kubernetes timestamp (``2024-06-01T10:00:00Z``) as seconds since the epoch."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def true_conditions(status: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The conditions of a ``status`` that hold, by type."""
    return {
        c["type"]: c
        for c in status.get("conditions") or []
        if c.get("type") and str(c.get("status")) == "True"
    }


def condition_reason(condition: Mapping[str, Any]) -> str:
    """``reason: message`` of a condition (either alone when the other is empty)."""
    reason, message = condition.get("reason") or "", condition.get("message") or ""
    return f"{reason}: {message}" if reason and message else reason or message


@dataclass
class ObjectState:
    """The state of a Job-like object: one of the run states, with why and when."""

    status: str
    reason: str = ""
    started_at: float | None = None
    finished_at: float | None = None


def job_state(job: Mapping[str, Any]) -> ObjectState:
    """A ``batch/v1`` Job's state from its conditions and counters."""
    status = job.get("status") or {}
    conditions = true_conditions(status)
    started = epoch(status.get("startTime"))
    for kind in ("Failed", "FailureTarget"):
        if kind in conditions:
            c = conditions[kind]
            return ObjectState(
                FAILED, condition_reason(c), started, epoch(c.get("lastTransitionTime"))
            )
    for kind in ("Complete", "SuccessCriteriaMet"):
        if kind in conditions:
            finished = epoch(status.get("completionTime")) or epoch(
                conditions[kind].get("lastTransitionTime")
            )
            return ObjectState(SUCCEEDED, "", started, finished)
    if status.get("ready") or status.get("succeeded"):
        return ObjectState(RUNNING, "", started)
    return ObjectState(PENDING, "", started)


def kubeflow_state(obj: Mapping[str, Any]) -> ObjectState:
    """A ``PyTorchJob``/``TFJob``'s state from the Training Operator's conditions."""
    status = obj.get("status") or {}
    conditions = true_conditions(status)
    started = epoch(status.get("startTime"))
    for kind, state in (("Failed", FAILED), ("Succeeded", SUCCEEDED)):
        if kind in conditions:
            c = conditions[kind]
            finished = epoch(status.get("completionTime")) or epoch(c.get("lastTransitionTime"))
            return ObjectState(
                state, condition_reason(c) if state == FAILED else "", started, finished
            )
    if "Running" in conditions or "Restarting" in conditions:
        return ObjectState(RUNNING, "", started)
    suspended = conditions.get("Suspended")
    return ObjectState(PENDING, condition_reason(suspended) if suspended else "", started)


# --- pods ----------------------------------------------------------------------------


@dataclass
class PodState:
    """A pod's work: its state, the main container's exit code, what holds or ended it."""

    status: str
    exit_code: int | None = None
    reason: str = ""


def main_container_status(pod: Mapping[str, Any]) -> Mapping[str, Any]:
    """The status of the pod's main container (:data:`MAIN_CONTAINERS`), else its first."""
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    for s in statuses:
        if s.get("name") in MAIN_CONTAINERS:
            return s
    return statuses[0] if statuses else {}


def waiting_reason(waiting: Mapping[str, Any]) -> str:
    reason, message = waiting.get("reason") or "", (waiting.get("message") or "").strip()
    return f"{reason}: {message[:200]}" if message else reason


def pod_state(pod: Mapping[str, Any]) -> PodState:
    """A pod's state, exit code and reason: a failed init container, an image that
    cannot be pulled, ``OOMKilled``, a pod that cannot be scheduled..."""
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    state = main_container_status(pod).get("state") or {}
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
            reason = waiting_reason(init_state["waiting"])
    if terminated and (terminated.get("reason") not in (None, "Completed", "Error")):
        reason = reason or str(terminated["reason"])
    if state.get("waiting") and state["waiting"].get("reason") not in (None, "ContainerCreating"):
        reason = reason or waiting_reason(state["waiting"])
    if not reason and phase == "Pending":
        for c in status.get("conditions") or []:
            if c.get("type") == "PodScheduled" and c.get("status") == "False":
                reason = condition_reason(c)
    if phase == "Failed" and not reason:
        reason = status.get("reason") or ""
    mapped = {
        "Pending": PENDING,
        "Running": RUNNING,
        "Succeeded": SUCCEEDED,
        "Failed": FAILED,
    }.get(phase, PENDING)
    return PodState(mapped, exit_code, reason)


def newest(objects: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The object created last (``None`` without any)."""
    ordered = sorted(objects, key=lambda o: meta(o).get("creationTimestamp") or "")
    return ordered[-1] if ordered else None


# --- deployments ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rollout:
    """Where a Deployment's rollout of its current pod template stands.

    ``done``: every replica runs the current template and is available; ``failed``:
    Kubernetes gave up (``ProgressDeadlineExceeded``); else it is in progress.
    ``available``: replicas (of any template) that serve.
    """

    done: bool
    failed: bool
    available: int
    reason: str = ""


def rollout(deployment: Mapping[str, Any]) -> Rollout:
    """The rollout state of a ``apps/v1`` Deployment from its status."""
    spec = deployment.get("spec") or {}
    status = deployment.get("status") or {}
    replicas = int(spec.get("replicas", 1))
    observed = int(status.get("observedGeneration", 0)) >= int(
        meta(deployment).get("generation", 0)
    )
    updated = int(status.get("updatedReplicas", 0))
    available = int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    progressing = {c.get("type"): c for c in status.get("conditions") or []}.get(
        "Progressing"
    ) or {}
    if (
        progressing.get("status") == "False"
        and progressing.get("reason") == "ProgressDeadlineExceeded"
    ):
        reason = progressing.get("message") or "the new pods did not become ready"
        return Rollout(done=False, failed=True, available=available, reason=reason)
    done = observed and updated >= replicas and available >= replicas and total == updated
    return Rollout(done=done, failed=False, available=available)
