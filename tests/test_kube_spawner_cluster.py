"""``submarine-kube`` talking to the API: the objects of a session created before its pod
and its secret deleted on stop, quotas, name conflicts, a grant applied twice; against
the tests' one stand-in cluster. Only ``test_dry_run_against_a_cluster`` talks to a
cluster, when KUBECONFIG is set.
"""

from __future__ import annotations

import base64
import os
from typing import Any

import pytest
from kubespawner import KubeSpawner
from submarine_spawner.grant import CredentialFile, Environment, Resources
from submarine_spawner.kube import (
    plan_session,
)

from .helpers.kube import FakeCluster, validate, validate_by_kind
from .helpers.kube import session_grant as grant
from .helpers.kube_spawner import SESSIONS_NAMESPACE, SpawnerFactory, spawner_factory


@pytest.fixture
def make_spawner(monkeypatch: pytest.MonkeyPatch) -> SpawnerFactory:
    """Spawners built without a cluster (see ``spawner_factory``)."""
    return spawner_factory(monkeypatch)


# --- talking to the API (the one fake cluster) ---------------------------------------


def secrets(cluster: FakeCluster) -> set[tuple[str, str]]:
    return {(ns, name) for kind, ns, name in cluster.objects if kind == "Secret"}


async def test_objects_are_created_before_the_pod_and_the_secret_deleted_on_stop(
    make_spawner: SpawnerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawner = await make_spawner(namespace_per_team=True)
    spawner.grant = grant(files=(CredentialFile("k", b"v"),))
    cluster = FakeCluster()
    ns, secret = "submarine-data-science", "submarine-session-3f6c2a90d1e84b7f"
    await cluster.create({"kind": "Namespace", "metadata": {"name": ns}})  # exists already
    cluster.calls.clear()
    spawner.kube_api = cluster

    await spawner.load_user_options()  # what KubeSpawner's start calls first
    assert [c for c in cluster.calls if c[0] in ("create", "delete")] == [
        ("create", "Namespace", ns),  # 409: exists already, fine
        ("create", "PersistentVolumeClaim", "submarine-team-data-science"),
        ("delete", "Secret", secret),  # none left from an earlier start
        ("create", "Secret", secret),
    ]
    assert spawner.namespace == ns
    assert secrets(cluster) == {(ns, secret)}
    stored = cluster.objects[("Secret", ns, secret)]
    assert validate([stored]) and base64.b64decode(stored["data"]["k"]) == b"v"
    state = spawner.get_state()
    assert state["submarine_secret_name"] == secret and state["namespace"] == ns

    # after a hub restart, the state alone says which secret to delete
    restored = await make_spawner(namespace_per_team=True)
    restored.load_state(state)
    restored.kube_api = cluster

    async def stop_pod(self: KubeSpawner, now: bool = False) -> None:
        cluster.calls.append(("delete-pod", self.namespace, self.pod_name))

    monkeypatch.setattr(KubeSpawner, "stop", stop_pod)
    cluster.calls.clear()
    await restored.stop()
    assert [c for c in cluster.calls if c[0] != "get"] == [
        ("delete-pod", ns, "jupyter-alice"),
        ("delete", "Secret", secret),
    ]
    assert secrets(cluster) == set()
    assert "submarine_secret_name" not in restored.get_state()


async def test_a_claim_refused_by_a_quota_that_exists_is_used(
    make_spawner: SpawnerFactory,
) -> None:
    """As KubeSpawner does: a quota refuses (403) even the creation of a claim that exists
    already; the session goes on with it. A claim that is not there fails the start."""
    from .helpers.kube import api_exception

    spawner = await make_spawner()
    spawner.grant = grant()
    cluster = FakeCluster()
    spawner.kube_api = cluster
    pvc = plan_session(spawner.grant, spawner.session_settings()).manifests[0]
    await cluster.create(pvc)
    cluster.fail_create["PersistentVolumeClaim"] = api_exception(403, "exceeded quota")
    await spawner.load_user_options()
    del cluster.objects[("PersistentVolumeClaim", SESSIONS_NAMESPACE, pvc["metadata"]["name"])]
    with pytest.raises(Exception, match="exceeded quota"):
        await spawner.load_user_options()


async def test_a_pod_name_conflict_keeps_the_session(
    make_spawner: SpawnerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KubeSpawner stops a leftover pod of the same name while creating the new one:
    that must not delete the new session's Secret nor release its platform session."""
    spawner = await make_spawner()
    spawner.grant = grant(files=(CredentialFile("k", b"v"),))
    cluster = FakeCluster()
    spawner.kube_api = cluster
    await spawner.load_user_options()
    released: list[str] = []

    async def release(session_id: str | None = None) -> None:
        released.append("released")

    async def stop_pod(self: KubeSpawner, now: bool = False) -> None:
        cluster.calls.append(("delete-pod", self.namespace, self.pod_name))

    async def conflicting_create(self: KubeSpawner, pod: Any, request_timeout: int) -> bool:
        await self.stop(True)  # what KubeSpawner does on 409 Conflict
        return False

    monkeypatch.setattr(spawner, "_release", release, raising=False)
    monkeypatch.setattr(KubeSpawner, "stop", stop_pod)
    monkeypatch.setattr(KubeSpawner, "_make_create_pod_request", conflicting_create)
    cluster.calls.clear()
    assert await spawner._make_create_pod_request(object(), 3) is False
    assert cluster.calls == [("delete-pod", SESSIONS_NAMESPACE, "jupyter-alice")]
    assert released == []
    assert secrets(cluster) == {(SESSIONS_NAMESPACE, "submarine-session-3f6c2a90d1e84b7f")}

    await spawner.stop()  # a real stop deletes the Secret
    assert secrets(cluster) == set()


async def test_applying_the_same_grant_twice_changes_nothing(
    make_spawner: SpawnerFactory,
) -> None:
    """The mixin applies the grant in start(), the spawner again over profile overrides."""
    spawner = await make_spawner(namespace_per_team=True)
    g = grant(
        environment=Environment("_global", "r", image="rocker/r-ver:4"),
        resources=Resources(cpu=2, memory=1024**3, gpus=1),
        files=(CredentialFile("k", b"v"),),
    )
    spawner.apply_grant(g)
    once = await spawner.grant_manifests(g)
    assert await spawner.grant_manifests(g) == once
    validate_by_kind(once)


# --- a real cluster ------------------------------------------------------------------


async def test_dry_run_against_a_cluster(make_spawner: SpawnerFactory) -> None:
    """Server-side dry run of the team namespace, PVC, Secret and pod."""
    kubeconfig = os.environ.get("KUBECONFIG")
    if not kubeconfig:
        pytest.skip("no Kubernetes cluster: set KUBECONFIG to run this test")
    from kubernetes_asyncio import client, config

    namespace = os.environ.get("SUBMARINE_TEST_K8S_NAMESPACE", "default")
    g = grant(
        team="Data_Science.Team",
        resources=Resources(cpu=0.5, memory=512 * 1024**2),
        env={"SUBMARINE_TEAM": "Data_Science.Team"},
        files=(CredentialFile("kerberos/alice.keytab", b"\x05\x02", 0o400),),
    )
    per_team = await make_spawner(namespace_per_team=True)
    [ns_manifest] = [m for m in await per_team.grant_manifests(g) if m["kind"] == "Namespace"]
    # the team namespace is only dry-run created, so the namespaced objects go to one
    # that exists
    spawner = await make_spawner(namespace=namespace)
    manifests = await spawner.grant_manifests(g)
    validate_by_kind([ns_manifest, *manifests])

    configuration = client.Configuration()
    await config.load_kube_config(config_file=kubeconfig, client_configuration=configuration)
    async with client.ApiClient(configuration) as api_client:
        core = client.CoreV1Api(api_client)
        await core.create_namespace(ns_manifest, dry_run="All")
        for m in manifests:
            kind = {"PersistentVolumeClaim": "persistent_volume_claim"}.get(m["kind"], m["kind"])
            create = getattr(core, f"create_namespaced_{kind.lower()}")
            await create(m["metadata"]["namespace"], m, dry_run="All")
