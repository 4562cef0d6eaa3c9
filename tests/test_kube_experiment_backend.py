"""Experiments on Kubernetes: the backend's configuration, and the backend against the
tests' stand-in cluster (launch, state, logs, kill, watch, team namespaces), through
``ClusterApi`` and ``kubernetes_asyncio`` against the stand-in served as the Kubernetes
REST API. Only ``test_a_run_on_a_real_cluster`` talks to a cluster, when KUBECONFIG is
set.
"""

from __future__ import annotations

import asyncio
import copy
import os
import time
import uuid
from typing import Any

import pytest
from traitlets import TraitError
from traitlets.config import Config

from submarine_hub.backends.kube import KubeExperimentBackend
from submarine_hub.backends.kube.names import (
    ANNOTATION_KILLED,
    LABEL_INSTANCE,
    LABEL_ROLE,
    LABEL_RUN,
    selector,
)
from submarine_hub.core.errors import Conflict, Forbidden, InvalidInput, Unavailable
from submarine_hub.core.experiments.backend import KILLED, PENDING, RUNNING, SUCCEEDED
from submarine_hub.core.resources import Resources

from .helpers.kube import FakeCluster, api_exception, rest_app, wait_for
from .helpers.kube import validate as validate_all
from .helpers.kube_runs import NAMESPACE, T0, T1, T1_EPOCH, condition, make_plan, pod_obj, templates

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
