"""Experiments on Kubernetes: a run's state, read from its Jobs (or Kubeflow jobs) and
their pods."""

from __future__ import annotations

from typing import Any

from submarine_hub.backends.kube import run_state
from submarine_hub.backends.kube.names import ANNOTATION_KILLED
from submarine_hub.core.experiments.backend import FAILED, KILLED, PENDING, RUNNING, SUCCEEDED

from .helpers.kube_runs import T0, T1, T1_EPOCH, condition, job_obj, pod_obj


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
