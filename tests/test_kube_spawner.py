"""``submarine-kube``: from a session grant to Kubernetes manifests, without a cluster.

Every manifest is validated against the Kubernetes 1.30 schemas (strict: unknown fields
fail). Only ``test_dry_run_against_a_cluster`` talks to a cluster, when KUBECONFIG is set.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import kubernetes_validate
import kubespawner.spawner
import pytest
from jupyterhub.objects import Hub
from kubespawner import KubeSpawner
from submarine_spawner.grant import CredentialFile, Environment, Resources
from submarine_spawner.kube import (
    CREDENTIALS_VOLUME,
    TEAM_VOLUME,
    SessionSettings,
    SubmarineKubeSpawner,
    plan_session,
)
from traitlets.config import Config

from submarine_hub.backends.kube import manifests
from submarine_hub.backends.kube.names import (
    LABEL_ENVIRONMENT,
    LABEL_MANAGED_BY,
    LABEL_PART_OF,
    LABEL_SESSION,
    LABEL_TEAM,
    LABEL_USER,
    check_team_name,
    is_dns_label,
    is_label_value,
    label_value,
    labels,
    team_slug,
)

from .helpers.kube import K8S_VERSION, FakeCluster, FakeUser, validate, validate_by_kind
from .helpers.kube import session_grant as grant

REPO = Path(__file__).resolve().parents[1]
DEFAULT_IMAGE = "quay.io/jupyter/base-notebook:2024-05-27"
SESSIONS_NAMESPACE = "submarine-sessions"


SpawnerFactory = Callable[..., Awaitable[SubmarineKubeSpawner]]


@pytest.fixture
def make_spawner(monkeypatch: pytest.MonkeyPatch) -> SpawnerFactory:
    """Build a SubmarineKubeSpawner without a cluster, with traits set through config.

    KubeSpawner loads the cluster's configuration (in-cluster, else a kubeconfig) when
    it is created; there is none here, and these spawners never send a request.
    """
    monkeypatch.setattr(kubespawner.spawner, "load_config", lambda **kwargs: None)

    async def make(user: str = "alice", **traits: Any) -> SubmarineKubeSpawner:
        c = Config()
        c.SubmarineKubeSpawner.namespace = SESSIONS_NAMESPACE
        c.SubmarineKubeSpawner.image = DEFAULT_IMAGE
        for name, value in traits.items():
            setattr(c.SubmarineKubeSpawner, name, value)
        return SubmarineKubeSpawner(config=c, user=FakeUser(user), hub=Hub(), _mock=True)

    return make


def container(pod: dict[str, Any]) -> dict[str, Any]:
    [notebook] = [c for c in pod["spec"]["containers"] if c["name"] == "notebook"]
    return notebook


def env_of(pod: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container(pod)["env"]}


def volumes_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in pod["spec"]["volumes"]}


def mounts_of(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in container(pod)["volumeMounts"]}


# --- the manifests of a session ------------------------------------------------------


async def test_validation_rejects_a_broken_manifest(make_spawner: SpawnerFactory) -> None:
    """The schema check is real: a pod with an unknown field fails it."""
    spawner = await make_spawner()
    pod = (await spawner.grant_manifests(grant()))[-1]
    pod["spec"]["containers"][0]["imagePolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)


async def test_grant_without_environment_uses_the_configured_image(
    make_spawner: SpawnerFactory,
) -> None:
    spawner = await make_spawner()
    manifests = await spawner.grant_manifests(grant())
    assert [m["kind"] for m in manifests] == ["PersistentVolumeClaim", "Pod"]
    by_kind = validate_by_kind(manifests)
    pod = by_kind["Pod"]

    assert container(pod)["image"] == DEFAULT_IMAGE
    pod_labels = pod["metadata"]["labels"]
    assert pod_labels[LABEL_USER] == "alice"
    assert pod_labels[LABEL_TEAM] == "data-science"
    assert pod_labels[LABEL_PART_OF] == "submarine-hub"
    assert pod_labels[LABEL_SESSION] == "3f6c2a90d1e84b7f"
    assert LABEL_ENVIRONMENT not in pod_labels
    # KubeSpawner's own labels stay
    assert pod_labels["component"] == "singleuser-server"
    assert pod_labels[LABEL_MANAGED_BY] == "kubespawner"
    assert pod["metadata"]["namespace"] == SESSIONS_NAMESPACE

    resources = container(pod)["resources"]
    assert "nvidia.com/gpu" not in resources["limits"]
    assert "cpu" not in resources["limits"] and "memory" not in resources["limits"]
    assert CREDENTIALS_VOLUME not in volumes_of(pod)
    assert "SUBMARINE_CREDENTIALS_DIR" not in env_of(pod)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (
            "registry.example.com/ml/pytorch:2.3-cuda12",
            "registry.example.com/ml/pytorch:2.3-cuda12",
        ),
        ("", DEFAULT_IMAGE),
    ],
    ids=["with-image", "without-image"],
)
async def test_environment_profile_sets_image_and_label(
    make_spawner: SpawnerFactory, image: str, expected: str
) -> None:
    spawner = await make_spawner()
    env = Environment(scope="_global", name="PyTorch 2.3", image=image)
    pod = validate_by_kind(await spawner.grant_manifests(grant(environment=env)))["Pod"]
    assert container(pod)["image"] == expected
    assert env_of(pod)["JUPYTER_IMAGE"] == expected
    label = pod["metadata"]["labels"][LABEL_ENVIRONMENT]
    assert is_label_value(label) and label.startswith("pytorch-2-3")


async def test_resources_become_requests_and_limits(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner()
    g = grant(resources=Resources(cpu=1.5, memory=4 * 1024**3, gpus=2))
    pod = validate_by_kind(await spawner.grant_manifests(g))["Pod"]
    resources = container(pod)["resources"]
    assert resources["limits"] == {"cpu": 1.5, "memory": 4 * 1024**3, "nvidia.com/gpu": "2"}
    assert resources["requests"] == {"cpu": 1.5, "memory": 4 * 1024**3}


async def test_gpu_resource_name_is_configurable(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(
        gpu_resource_name="amd.com/gpu", extra_resource_limits={"example.com/fpga": "1"}
    )
    pod = validate_by_kind(await spawner.grant_manifests(grant(resources=Resources(gpus=1))))["Pod"]
    limits = container(pod)["resources"]["limits"]
    assert limits == {"amd.com/gpu": "1", "example.com/fpga": "1"}


async def test_team_volume_is_a_shared_claim(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(team_volume_size="50Gi", team_volume_storage_class="cephfs")
    by_kind = validate_by_kind(await spawner.grant_manifests(grant()))
    pvc, pod = by_kind["PersistentVolumeClaim"], by_kind["Pod"]
    assert pvc["metadata"]["name"] == "submarine-team-data-science"
    assert pvc["metadata"]["namespace"] == SESSIONS_NAMESPACE
    assert pvc["metadata"]["labels"] == labels("default", team="data-science")
    assert pvc["metadata"]["labels"][LABEL_MANAGED_BY] == "submarine-hub"
    assert pvc["spec"] == {
        "accessModes": ["ReadWriteMany"],
        "resources": {"requests": {"storage": "50Gi"}},
        "storageClassName": "cephfs",
    }
    assert volumes_of(pod)[TEAM_VOLUME]["persistentVolumeClaim"] == {
        "claimName": "submarine-team-data-science"
    }
    assert mounts_of(pod)[TEAM_VOLUME]["mountPath"] == "/home/jovyan/teams/data-science"


async def test_team_volume_can_be_turned_off(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(team_volume_enabled=False)
    manifests = await spawner.grant_manifests(grant())
    assert [m["kind"] for m in manifests] == ["Pod"]
    pod = validate_by_kind(manifests)["Pod"]
    assert TEAM_VOLUME not in volumes_of(pod)
    assert TEAM_VOLUME not in mounts_of(pod)


async def test_credentials_become_a_secret_volume_and_env(make_spawner: SpawnerFactory) -> None:
    keytab = bytes(range(256))  # binary content survives
    g = grant(
        env={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "SUBMARINE_TEAM": "data-science"},
        files=(
            CredentialFile(path="kerberos/alice.keytab", content=keytab, mode=0o400),
            CredentialFile(path="ssh/id_ed25519", content=b"-----BEGIN KEY-----\n", mode=0o600),
            CredentialFile(path="ca.pem", content=b"cert", mode=0o644),
        ),
    )
    spawner = await make_spawner(credentials_mount_path="/home/jovyan/.creds")
    manifests = await spawner.grant_manifests(g)
    assert [m["kind"] for m in manifests] == ["PersistentVolumeClaim", "Secret", "Pod"]
    by_kind = validate_by_kind(manifests)
    secret, pod = by_kind["Secret"], by_kind["Pod"]

    assert secret["metadata"]["name"] == "submarine-session-3f6c2a90d1e84b7f"
    assert secret["metadata"]["namespace"] == SESSIONS_NAMESPACE
    assert secret["metadata"]["labels"][LABEL_SESSION] == "3f6c2a90d1e84b7f"
    assert secret["metadata"]["labels"][LABEL_USER] == "alice"
    volume = volumes_of(pod)[CREDENTIALS_VOLUME]["secret"]
    assert volume["secretName"] == secret["metadata"]["name"]
    assert volume["defaultMode"] == 0o400
    items = {item["path"]: item for item in volume["items"]}
    assert {p: i["mode"] for p, i in items.items()} == {
        "kerberos/alice.keytab": 0o400,
        "ssh/id_ed25519": 0o600,
        "ca.pem": 0o644,
    }
    # each item's key holds that file's content
    assert base64.b64decode(secret["data"][items["kerberos/alice.keytab"]["key"]]) == keytab
    assert base64.b64decode(secret["data"][items["ca.pem"]["key"]]) == b"cert"
    assert mounts_of(pod)[CREDENTIALS_VOLUME] == {
        "name": CREDENTIALS_VOLUME,
        "mountPath": "/home/jovyan/.creds",
        "readOnly": True,
    }
    env = env_of(pod)
    assert env["AWS_ACCESS_KEY_ID"] == "AKIAEXAMPLE"
    assert env["SUBMARINE_TEAM"] == "data-science"
    assert env["SUBMARINE_CREDENTIALS_DIR"] == "/home/jovyan/.creds"


@pytest.mark.parametrize("per_team", [True, False], ids=["namespace-per-team", "one-namespace"])
async def test_namespace_per_team(make_spawner: SpawnerFactory, per_team: bool) -> None:
    spawner = await make_spawner(namespace_per_team=per_team)
    g = grant(files=(CredentialFile(path="token", content=b"t"),))
    manifests = await spawner.grant_manifests(g)
    by_kind = validate_by_kind(manifests)
    expected = "submarine-data-science" if per_team else SESSIONS_NAMESPACE
    if per_team:
        assert manifests[0]["kind"] == "Namespace"
        assert by_kind["Namespace"]["metadata"] == {
            "name": expected,
            "labels": {
                LABEL_PART_OF: "submarine-hub",
                LABEL_MANAGED_BY: "submarine-hub",
                LABEL_TEAM: "data-science",
            },
        }
    else:
        assert "Namespace" not in by_kind
    for kind in ("PersistentVolumeClaim", "Secret", "Pod"):
        assert by_kind[kind]["metadata"]["namespace"] == expected
    assert spawner.namespace == expected
    assert spawner.dns_name.endswith(f".{expected}.svc.cluster.local")


async def test_custom_namespace_template(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(namespace_per_team=True, team_namespace_template="team-{team}")
    by_kind = validate_by_kind(await spawner.grant_manifests(grant(team="ml-platform")))
    assert by_kind["Namespace"]["metadata"]["name"] == "team-ml-platform"
    assert by_kind["Pod"]["metadata"]["namespace"] == "team-ml-platform"


@pytest.mark.parametrize(
    "team",
    [
        "Data_Science.Team",
        "ML Platform (EU)",
        "42-analytics",
        "team--x",
        "a" * 100,
        "équipe-données",
    ],
)
async def test_team_names_that_need_escaping(make_spawner: SpawnerFactory, team: str) -> None:
    spawner = await make_spawner(namespace_per_team=True)
    g = grant(team=team, user="Alice@Example.com", files=(CredentialFile("k", b"v"),))
    by_kind = validate_by_kind(await spawner.grant_manifests(g))
    slug = team_slug(team)
    assert is_dns_label(slug) and len(slug) <= 40
    assert by_kind["Namespace"]["metadata"]["name"] == f"submarine-{slug}"
    assert is_dns_label(by_kind["Namespace"]["metadata"]["name"])
    pod_labels = by_kind["Pod"]["metadata"]["labels"]
    assert is_label_value(pod_labels[LABEL_TEAM]) and is_label_value(pod_labels[LABEL_USER])
    assert mounts_of(by_kind["Pod"])[TEAM_VOLUME]["mountPath"] == f"/home/jovyan/teams/{slug}"


def test_escaping_keeps_valid_names_and_separates_the_rest() -> None:
    assert team_slug("data-science") == "data-science"
    assert label_value("Data_Science.Team") == "Data_Science.Team"  # already a valid label
    slug = team_slug("Data_Science.Team")
    assert slug.startswith("data-science-team---")
    # names that differ only in what escaping drops still get different slugs
    assert team_slug("Data Science") != team_slug("data-science") != team_slug("Data.Science")
    assert label_value("a" * 64) != label_value("a" * 65)
    assert len(label_value("a" * 200)) <= 63


# --- what is refused -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("team", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("___", "no ASCII letter or digit"),
        ("-.-", "no ASCII letter or digit"),
        ("数据科学", "no ASCII letter or digit"),
        ("data\nscience", "control characters"),
    ],
)
async def test_team_names_that_cannot_become_kubernetes_names_are_refused(
    make_spawner: SpawnerFactory, team: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        check_team_name(team)
    spawner = await make_spawner(namespace_per_team=True)
    with pytest.raises(ValueError, match=message):
        await spawner.grant_manifests(grant(team=team))


@pytest.mark.parametrize(
    ("traits", "message"),
    [
        ({"namespace_per_team": True, "team_namespace_template": "Team_{team}"}, "namespace"),
        (
            {"namespace_per_team": True, "team_namespace_template": "x" * 30 + "-{team}"},
            "namespace",
        ),
        ({"team_pvc_name_template": "{team}-{username}"}, "only {team}"),
    ],
)
async def test_templates_giving_invalid_names_are_refused(
    make_spawner: SpawnerFactory, traits: dict[str, Any], message: str
) -> None:
    spawner = await make_spawner(**traits)
    # a long team name fills the namespace's 63 characters past the prefix
    with pytest.raises(ValueError, match=message):
        await spawner.grant_manifests(grant(team="t" * 60))


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/etc/passwd", "plain relative path"),
        ("../escape", "plain relative path"),
        ("a/../../b", "plain relative path"),
        ("a//b", "plain relative path"),
        ("./a", "plain relative path"),
        ("a\\b", "plain relative path"),
        ("{x}", "braces"),
    ],
)
def test_bad_credential_paths_are_refused(path: str, message: str) -> None:
    settings = SessionSettings(default_image=DEFAULT_IMAGE, namespace="default")
    with pytest.raises(ValueError, match=message):
        plan_session(grant(files=(CredentialFile(path=path, content=b"x"),)), settings)


def test_other_bad_grants_are_refused() -> None:
    settings = SessionSettings(default_image=DEFAULT_IMAGE, namespace="default")
    with pytest.raises(ValueError, match="not valid in a Kubernetes container"):
        plan_session(grant(env={"1BAD": "x"}), settings)
    with pytest.raises(ValueError, match="given twice"):
        twice = (CredentialFile("a", b"1"), CredentialFile("a", b"2"))
        plan_session(grant(files=twice), settings)
    with pytest.raises(ValueError, match="mode"):
        plan_session(grant(files=(CredentialFile("a", b"1", mode=0o1777),)), settings)
    with pytest.raises(ValueError, match="1 MiB"):
        plan_session(grant(files=(CredentialFile("big", b"x" * (1024 * 1024 + 1)),)), settings)
    with pytest.raises(ValueError, match="CPU"):
        plan_session(grant(resources=Resources(cpu=0)), settings)


async def test_namespace_per_team_excludes_user_namespaces(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(namespace_per_team=True, enable_user_namespaces=True)
    with pytest.raises(ValueError, match="exclude each other"):
        spawner.apply_grant(grant())


# --- one spawner, several sessions ---------------------------------------------------


async def test_next_grant_replaces_the_previous_one(make_spawner: SpawnerFactory) -> None:
    """A spawner is reused across sessions: nothing of an earlier grant lingers."""
    extra_volume = {"name": "shared-data", "configMap": {"name": "datasets"}}
    spawner = await make_spawner(
        extra_labels={"example.com/cost-center": "research"},
        volumes=[extra_volume],
        volume_mounts=[{"name": "shared-data", "mountPath": "/data"}],
        mem_limit="1G",
        namespace_per_team=True,
    )
    first = grant(
        team="ml-platform",
        environment=Environment("ml-platform", "cuda", image="nvcr.io/cuda:12"),
        resources=Resources(cpu=4, memory=8 * 1024**3, gpus=1),
        env={"FIRST": "1"},
        files=(CredentialFile("k", b"v"),),
    )
    validate_by_kind(await spawner.grant_manifests(first))

    by_kind = validate_by_kind(await spawner.grant_manifests(grant()))
    pod = by_kind["Pod"]
    assert container(pod)["image"] == DEFAULT_IMAGE
    assert container(pod)["resources"]["limits"] == {
        "memory": 1024**3
    }  # "1G", as JupyterHub reads it
    pod_labels = pod["metadata"]["labels"]
    assert LABEL_ENVIRONMENT not in pod_labels
    assert pod_labels[LABEL_TEAM] == "data-science"
    assert pod_labels["example.com/cost-center"] == "research"
    assert sorted(volumes_of(pod)) == ["shared-data", TEAM_VOLUME]
    assert [m["name"] for m in container(pod)["volumeMounts"]] == ["shared-data", TEAM_VOLUME]
    assert "FIRST" not in env_of(pod)
    assert pod["metadata"]["namespace"] == "submarine-data-science"


async def test_volumes_configured_as_a_dict(make_spawner: SpawnerFactory) -> None:
    spawner = await make_spawner(
        volumes={"data": {"name": "data", "emptyDir": {}}},
        volume_mounts={"data": {"name": "data", "mountPath": "/data"}},
    )
    pod = validate_by_kind(await spawner.grant_manifests(grant()))["Pod"]
    assert sorted(volumes_of(pod)) == ["data", TEAM_VOLUME]
    assert sorted(mounts_of(pod)) == ["data", TEAM_VOLUME]


def test_pvc_manifest_function() -> None:
    meta = manifests.metadata("submarine-team-x", "ns", {"a": "b"})
    pvc = manifests.persistent_volume_claim(meta, size="1Ti")
    kubernetes_validate.validate(pvc, K8S_VERSION, strict=True)
    assert pvc["spec"]["accessModes"] == ["ReadWriteMany"]
    assert "storageClassName" not in pvc["spec"]


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


# --- packaging -----------------------------------------------------------------------


def test_importing_the_package_does_not_import_kubespawner() -> None:
    code = "import sys, submarine_spawner; sys.exit('kubespawner' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_entry_point_and_extras_are_declared() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    spawners = project["entry-points"]["jupyterhub.spawners"]
    assert spawners["submarine-kube"] == "submarine_spawner.kube:SubmarineKubeSpawner"
    assert "jupyterhub-kubespawner>=7,<8" in project["optional-dependencies"]["kube"]
    assert "kubernetes-validate>=1.30" in project["optional-dependencies"]["test"]
